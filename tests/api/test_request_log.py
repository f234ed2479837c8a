"""One log line per request, in text and in JSON (--log-format): method, route template, status,
duration, user id and request id; never tokens, passwords or bodies."""

import json
import re
import unittest

from harness import Server, unique_name

TEXT_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\w+) (\S+)((?: \w+=\S+)*)$")
TEXT_FIELD_RE = re.compile(r' (\w+)=("(?:[^"\\]|\\.)*"|[^ "]\S*)')


def text_fields(line):
    """The level, message and key=value fields of a text line (quoted values decoded)."""
    match = TEXT_LINE_RE.match(line)
    if not match:
        raise AssertionError(f"not a text log line: {line!r}")
    fields = {}
    for key, raw in TEXT_FIELD_RE.findall(match.group(3)):
        fields[key] = json.loads(raw) if raw.startswith('"') else raw
    return match.group(1), match.group(2), fields


class RequestLogTest(unittest.TestCase):

    def traffic(self, server):
        """Registers, creates an event, reads it back with a request id, and asks for a missing
        path. Returns what must appear in the log and what must not."""
        tokens, user = server.register()
        secret_title = unique_name("secret-title")
        created = server.request("POST", "/api/events/", token=tokens["access"], body={
            "title": secret_title, "start_time": "2030-01-01 10:00",
            "end_time": "2030-01-01 11:00"})
        self.assertEqual(created.status, 201, created)
        event_id = created.json()["event"]["id"]
        request_id = f"log-{unique_name('id').replace('_', '-')}"
        response = server.request("GET", f"/api/events/{event_id}/", token=tokens["access"],
                                  headers={"X-Request-Id": request_id})
        self.assertEqual(response.status, 200, response)
        missing_id = f"log-{unique_name('missing').replace('_', '-')}"
        self.assertEqual(server.request("GET", "/no/such/path",
                                        headers={"X-Request-Id": missing_id}).status, 404)
        server.stop()  # the log is complete once the process exited
        never = [user["password"], tokens["access"], tokens["refresh"], secret_title]
        return server.log_text(), request_id, missing_id, user["id"], never

    def assertNoSecrets(self, log, never):
        for secret in never:
            self.assertNotIn(secret, log)

    def test_json_lines(self):
        with Server() as server:  # the harness runs --log-format json
            log, request_id, missing_id, user_id, never = self.traffic(server)
        records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        requests = [r for r in records if r.get("msg") == "request"]
        self.assertGreaterEqual(len(requests), 4)
        record = next(r for r in requests if r.get("request_id") == request_id)
        self.assertEqual(record["level"], "info")
        self.assertEqual(record["method"], "GET")
        self.assertEqual(record["route"], "/api/events/{id}/")
        self.assertEqual(record["status"], 200)
        self.assertEqual(record["user_id"], user_id)
        self.assertIsInstance(record["duration_ms"], (int, float))
        self.assertGreaterEqual(record["duration_ms"], 0)
        missing = next(r for r in requests if r.get("request_id") == missing_id)
        self.assertEqual((missing["status"], missing["user_id"], missing["route"]),
                         (404, 0, "unmatched"))  # as /metrics counts it
        self.assertNoSecrets(log, never)

    def test_text_lines(self):
        with Server(extra_args=["--log-format", "text"]) as server:
            log, request_id, missing_id, user_id, never = self.traffic(server)
        # Other messages may hold spaces ("signal received, stopping"); request lines are strict.
        lines = [line for line in log.splitlines() if line.split(" ")[2:3] == ["request"]]
        requests = [text_fields(line)[2] for line in lines]
        self.assertGreaterEqual(len(requests), 4)
        fields = next(f for f in requests if f.get("request_id") == request_id)
        self.assertEqual(fields["method"], "GET")
        self.assertEqual(fields["route"], "/api/events/{id}/")
        self.assertEqual(fields["status"], "200")
        self.assertEqual(fields["user_id"], str(user_id))
        self.assertGreaterEqual(float(fields["duration_ms"]), 0)
        missing = next(f for f in requests if f.get("request_id") == missing_id)
        self.assertEqual((missing["status"], missing["user_id"]), ("404", "0"))
        self.assertNoSecrets(log, never)


if __name__ == "__main__":
    unittest.main()
