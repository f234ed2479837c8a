"""PostgreSQL stopped at once (`pg_ctl stop -m immediate`) while two Almanac instances write
(issue 8).

The test starts a throwaway cluster of its own (instances.PgCluster: never the pg_cluster
fixture's, which other tests use meanwhile), two instances on one database of it and nginx in
front of them (instances.Instances). Writer threads create events, each in a one-hour slot of its
own, through nginx and directly on A and on B. Once each has been acknowledged a few times,
PostgreSQL stops as in a crash; once each writer has met the outage, it starts again on the same
data and port; three times over. The checks:
- every answer is a 201, or a 503 with the JSON error body (no SQL, no stack trace) and
  Retry-After, or a broken connection; no request hangs (each has a deadline);
- with PostgreSQL back, every writer is acknowledged again by the same instances, which were not
  restarted (within a deadline);
- every 201 is readable afterwards, through A and through B, with exactly the fields sent; no
  event exists twice, nor one with fields that were never sent (a 503 may hide a COMMIT that
  happened: its event may exist, once).
No timing assertions: deadlines only.

Needs PostgreSQL 15 (tools/pg-cluster.sh) and nginx (Debian nginx-light). Python 3.11 standard
library only.
"""

import http.client
import json
import os
import sys
import threading
import unittest

# instances first: it puts tests/api, where harness.py lives, on the path.
from instances import EVENTS, Instances, LogsOnFailure, PgCluster, nginx_binary, slot
from harness import unique_name

WRITERS_PER_TARGET = 2  # targets: nginx, A, B
OUTAGES = 3
ACKS_UP = 3  # 201s each writer gets while PostgreSQL is up, before each stop and after the last
ANSWERS_DOWN = 2  # answers each writer gets to requests sent while PostgreSQL is down
PHASE_DEADLINE_S = 60.0  # for each of the phases above
REQUEST_DEADLINE_S = 20.0  # no answer within this: the request hung
# What a 5xx body must never show: SQL, libpq's or PostgreSQL's words, a stack trace.
LEAKS = ("select ", "insert ", "update ", "delete ", "sqlstate", "postgres", "libpq", "pgerror",
         "connection to server", "terminating connection", "traceback", "exception", " at 0x",
         "stack")


def sent_fields(body):
    """The fields of a create body as the server prints them (times with seconds)."""
    return dict(body, start_time=f"{body['start_time']}:00", end_time=f"{body['end_time']}:00")


class Writer:
    """One writer thread: creates events through one target, each in its own slot, and records
    every outcome with the phase it was sent in."""

    def __init__(self, index, target_name, target, token, progress):
        self.index = index
        self.target_name = target_name
        self.target = target
        self.token = token
        self.progress = progress  # threading.Condition, notified after each answer
        self.sent = {}  # title -> body
        self.acked = []  # (phase, body, event) of each 201
        self.failed = []  # (phase, body, what): 503s and broken connections
        self.wrong = []  # (phase, body, what): anything else, hangs included
        self.stop = threading.Event()
        self.phase = ("up", 0)  # set by the test: ("up" | "down", number of stops so far)
        self.thread = threading.Thread(target=self.run, name=f"writer-{index}")

    def count(self, phase, *outcomes):
        return sum(1 for entries in outcomes for entry in entries if entry[0] == phase)

    def run(self):
        n = 0
        while not self.stop.is_set():
            phase = self.phase
            start, end = slot(10000 * self.index + n)
            title = f"outage writer {self.index} event {n}"
            body = {"title": title, "description": f"sent to {self.target_name}",
                    "location": f"slot {n}", "start_time": start, "end_time": end}
            n += 1
            self.sent[title] = body
            outcome = self.send(body)
            with self.progress:
                kind, what = outcome
                if kind == "201":
                    self.acked.append((phase, body, what))
                elif kind == "failed":
                    self.failed.append((phase, body, what))
                else:
                    self.wrong.append((phase, body, what))
                self.progress.notify_all()

    def send(self, body):
        """("201", event) | ("failed", what) for a clean failure | ("wrong", what)."""
        try:
            response = self.target.request("POST", EVENTS, body, token=self.token,
                                           timeout=REQUEST_DEADLINE_S)
        except TimeoutError as error:
            return "wrong", f"no answer within {REQUEST_DEADLINE_S} s: {error!r}"
        except (OSError, http.client.HTTPException) as error:
            return "failed", repr(error)  # the connection broke: the outcome is unknown
        if response.status == 201:
            return "201", response.json()["event"]
        problem = unclean_failure(response)
        return ("wrong", problem) if problem else ("failed", response.status)


def unclean_failure(response):
    """Why `response` is not a clean 503 (None when it is one)."""
    if response.status != 503:
        return f"status {response.status}: {response!r}"
    if response.media_type() != "application/json":
        return f"not JSON: {response!r}"
    try:
        body = json.loads(response.body)
    except ValueError:
        return f"not JSON: {response!r}"
    if (not isinstance(body, dict) or set(body) != {"error", "code"}
            or body["code"] not in ("unavailable", "busy") or not isinstance(body["error"], str)):
        return f"not the unavailable error body: {response!r}"
    if not (response.headers.get("Retry-After") or "").isdigit():
        return f"no Retry-After: {response!r}"
    text = response.body.decode("utf-8", "replace").lower()
    leaked = [word for word in LEAKS if word in text]
    if leaked:
        return f"the body shows {leaked}: {response!r}"
    return None


class PgOutageTest(LogsOnFailure, unittest.TestCase):

    def setUp(self):
        if not os.access(nginx_binary(), os.X_OK):
            raise AssertionError("nginx is not installed (tools/install-deps.sh test)")
        self.cluster = PgCluster().start()
        self.addCleanup(self.cluster.remove)  # pass or fail, after the instances stopped
        self.instances = Instances(pg_server=self.cluster.url)
        # The database goes with the cluster: nothing to drop.
        self.addCleanup(self.instances.close, drop_database=False)
        self.instances.start()

    def register(self, server):
        username = unique_name()
        response = server.request("POST", "/api/auth/register/",
                                  {"username": username, "email": f"{username}@example.com",
                                   "password": "correct-horse-battery"})
        self.assertEqual(response.status, 201, response)
        return response.json()["access"]

    def test_immediate_stop_during_writes(self):
        a, b, nginx = self.instances.a, self.instances.b, self.instances.nginx
        targets = [("nginx", nginx), ("A", a), ("B", b)] * WRITERS_PER_TARGET
        progress = threading.Condition()
        writers = [Writer(i, name, target, self.register(nginx), progress)
                   for i, (name, target) in enumerate(targets)]

        def wait_for(what, predicate):
            with progress:
                if not progress.wait_for(lambda: predicate() or any(w.wrong for w in writers),
                                         PHASE_DEADLINE_S):
                    self.fail(f"{what}: not within {PHASE_DEADLINE_S} s\n{report()}")
                if any(w.wrong for w in writers):
                    self.fail(f"{what}: a wrong answer\n{report()}")

        def set_phase(phase):
            for writer in writers:
                writer.phase = phase

        def report():
            return "\n".join(
                f"writer {w.index} ({w.target_name}): acked {len(w.acked)}, failed "
                f"{[what for _, _, what in w.failed][:5]}..., wrong {w.wrong[:3]}"
                for w in writers)

        for writer in writers:
            writer.thread.start()
        try:
            for outage in range(OUTAGES):
                wait_for(f"writes before stop {outage + 1}",
                         lambda: all(w.count(("up", outage), w.acked) >= ACKS_UP for w in writers))
                self.cluster.stop_immediate()
                set_phase(("down", outage + 1))
                wait_for(f"every writer meeting stop {outage + 1}",
                         lambda: all(w.count(("down", outage + 1), w.acked, w.failed)
                                     >= ANSWERS_DOWN for w in writers))
                self.cluster.start_again()
                set_phase(("up", outage + 1))
            # The instances reconnect by themselves: nobody restarts them.
            wait_for("writes after the last restart",
                     lambda: all(w.count(("up", OUTAGES), w.acked) >= ACKS_UP for w in writers))
        finally:
            for writer in writers:
                writer.stop.set()
            for writer in writers:
                writer.thread.join(REQUEST_DEADLINE_S + 10)  # a deadline: its last request's
        self.assertEqual([w.index for w in writers if w.thread.is_alive()], [], "writers hang")

        wrong = [(w.index, w.target_name, phase, body["title"], what)
                 for w in writers for phase, body, what in w.wrong]
        self.assertEqual(wrong, [], "answers other than a 201, a clean 503 or a broken connection")

        # Every 201 is there with exactly the fields sent, read through A and through B alike; no
        # event twice, none never sent; an unknown outcome (a 503) may have committed, once.
        committed_anyway = 0
        for writer in writers:
            listed = self.list_all(a, writer.token)
            self.assertEqual(self.list_all(b, writer.token), listed, "A and B disagree")
            titles = [event["title"] for event in listed]
            self.assertEqual(len(titles), len(set(titles)), f"writer {writer.index}: a duplicate")
            by_id = {event["id"]: event for event in listed}
            for _, body, event in writer.acked:
                self.assertEqual(by_id.get(event["id"]), dict(event, role="OWNER"),
                                 f"acknowledged event {event['id']} lost or changed")
                self.assertEqual({key: event[key] for key in body}, sent_fields(body), event)
            acked = {event["id"] for _, _, event in writer.acked}
            for event in listed:
                body = writer.sent.get(event["title"])
                self.assertIsNotNone(body, f"an event never sent: {event}")
                self.assertEqual({key: event[key] for key in body}, sent_fields(body), event)
                committed_anyway += event["id"] not in acked
        in_flight = sum(1 for w in writers for phase, _, _ in w.failed if phase[0] == "up")
        lost_commits = sum(server.log_text().count("connection lost during COMMIT")
                           for server in (a, b))
        print(f"pg outage: {OUTAGES} stops, {len(writers)} writers: "
              f"{sum(len(w.acked) for w in writers)} acknowledged, "
              f"{sum(len(w.failed) for w in writers)} clean failures ({in_flight} sent while "
              f"stopping, {lost_commits} during a COMMIT; {committed_anyway} committed all the "
              "same)", file=sys.stderr)

    def list_all(self, server, token):
        """Every event `token`'s user takes part in, page by page."""
        events, page = [], 1
        while True:
            response = server.request("GET", f"{EVENTS}?page={page}&page_size=100", token=token)
            self.assertEqual(response.status, 200, response)
            listing = response.json()
            events += listing["results"]
            if page >= listing["num_pages"]:
                return events
            page += 1


if __name__ == "__main__":
    unittest.main()
