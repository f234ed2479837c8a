"""Two Almanac instances on one PostgreSQL database, behind nginx round-robin (issue 8).

Both instances get the same database URL and the same --jwt-secret; nginx runs with
deploy/nginx.conf (only the upstream addresses, the listen port and the log path replaced) in a
temporary prefix. The checks: a token issued by A works on B; a logout on A refuses the refresh
token on B at once; an event written through A is read through B at once; overlapping creates
sent at the same moment to A and B give exactly one 201; nginx spreads requests over both
instances; kill -9 of A during writes through nginx loses no acknowledged write and B keeps
serving.

Needs the PostgreSQL test server (ALMANAC_TEST_POSTGRES_FILE, the pg_cluster CTest fixture) and
nginx (Debian nginx-light). Python 3.11 standard library only.
"""

import datetime
import http.client
import os
import re
import sys
import threading
import time
import unittest

# instances first: it puts tests/api, where harness.py lives, on the path.
from instances import EVENTS, Instances, LogsOnFailure, event_body, nginx_binary
from harness import HTTP_TIMEOUT_S, _send, postgres_server_url, unique_name

OVERLAP_ROUNDS = 12
OVERLAP_SENDERS_PER_INSTANCE = 2
KILL_ACKS_BEFORE = 15  # acknowledged creates through nginx before A is killed
KILL_ACKS_AFTER = 15  # ... and after, all of them served by B
KILL_DEADLINE_S = 60.0


def requests_by_route(server):
    """{route: count} from the instance's own /metrics (its almanac_http_requests_total)."""
    response = server.request("GET", "/metrics")
    if response.status != 200:
        raise AssertionError(f"/metrics: {response!r}")
    counts = {}
    for line in response.body.decode().splitlines():
        match = re.match(r'almanac_http_requests_total\{(.*)\} (\d+)$', line)
        if not match:
            continue
        route = re.search(r'route="([^"]*)"', match.group(1)).group(1)
        counts[route] = counts.get(route, 0) + int(match.group(2))
    return counts


@unittest.skipUnless(postgres_server_url(), "needs the PostgreSQL test server (pg_cluster fixture)")
class TwoInstancesTest(LogsOnFailure, unittest.TestCase):
    instances = a = b = nginx = None

    @classmethod
    def setUpClass(cls):
        if not os.access(nginx_binary(), os.X_OK):
            raise AssertionError("nginx is not installed (tools/install-deps.sh test)")
        cls.instances = Instances().start()
        cls.a, cls.b, cls.nginx = cls.instances.a, cls.instances.b, cls.instances.nginx

    @classmethod
    def tearDownClass(cls):
        if cls.instances is not None:
            cls.instances.close()

    def login(self, server, user):
        response = server.request("POST", "/api/auth/login/",
                                  {"username": user["username"], "password": user["password"]})
        self.assertEqual(response.status, 200, response)
        return response.json()

    # --- one service ----------------------------------------------------------------------------

    def test_token_issued_by_a_works_on_b(self):
        tokens, user = self.a.register()
        response = self.b.request("GET", EVENTS, token=tokens["access"])
        self.assertEqual(response.status, 200, response)
        # A refresh token from A is accepted by B.
        response = self.b.request("POST", "/api/auth/refresh/", {"refresh": tokens["refresh"]})
        self.assertEqual(response.status, 200, response)
        self.assertEqual(self.b.request("GET", EVENTS, token=response.json()["access"]).status,
                         200)

    def test_logout_on_a_refuses_refresh_on_b_at_once(self):
        _, user = self.a.register()
        session = self.login(self.a, user)
        other = self.login(self.a, user)
        response = self.a.request("POST", "/api/auth/logout/", {"refresh": session["refresh"]})
        self.assertEqual(response.status, 205, response)
        response = self.b.request("POST", "/api/auth/refresh/", {"refresh": session["refresh"]})
        self.assertEqual(response.status, 401, response)
        # Only that session ended: the other refresh token still works on B.
        response = self.b.request("POST", "/api/auth/refresh/", {"refresh": other["refresh"]})
        self.assertEqual(response.status, 200, response)

    def test_event_written_through_a_is_read_through_b(self):
        tokens, _ = self.a.register()
        token = tokens["access"]
        response = self.a.request("POST", EVENTS, event_body(0), token=token)
        self.assertEqual(response.status, 201, response)
        created = response.json()["event"]
        path = f"{EVENTS}{created['id']}/"
        response = self.b.request("GET", path, token=token)
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json(), dict(created, role="OWNER"))
        listed = self.b.request("GET", EVENTS, token=token).json()
        self.assertEqual([item["id"] for item in listed["results"]], [created["id"]])
        # And back: a change through B is read through A.
        response = self.b.request("PATCH", path, {"title": "renamed on B"}, token=token)
        self.assertEqual(response.status, 200, response)
        self.assertEqual(self.a.request("GET", path, token=token).json()["title"], "renamed on B")

    def test_overlapping_creates_on_a_and_b_give_exactly_one_201(self):
        tokens, _ = self.a.register()
        token = tokens["access"]
        senders = [self.a] * OVERLAP_SENDERS_PER_INSTANCE + [self.b] * OVERLAP_SENDERS_PER_INSTANCE
        # One keep-alive connection per sender, opened before the barrier.
        connections = [http.client.HTTPConnection("127.0.0.1", s.port, timeout=HTTP_TIMEOUT_S)
                       for s in senders]
        for connection in connections:
            connection.connect()
        barrier = threading.Barrier(len(senders))
        results = [[None] * len(senders) for _ in range(OVERLAP_ROUNDS)]

        def send(index):
            for round_ in range(OVERLAP_ROUNDS):
                # Overlapping, not identical: each sender starts a few minutes later.
                start = datetime.datetime(2032, 1, 1, 8) + datetime.timedelta(days=round_,
                                                                             minutes=5 * index)
                body = {"title": f"round {round_} sender {index}",
                        "start_time": start.strftime("%Y-%m-%d %H:%M"),
                        "end_time": (start + datetime.timedelta(hours=1)).strftime(
                            "%Y-%m-%d %H:%M")}
                try:
                    barrier.wait(HTTP_TIMEOUT_S)
                    response = _send(connections[index], "POST", EVENTS, body, None, token)
                    results[round_][index] = (response.status, response.body)
                except Exception as error:  # noqa: BLE001: reported below
                    results[round_][index] = (None, repr(error))
                    barrier.abort()
                    return

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(senders))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for connection in connections:
            connection.close()
        winners = set()
        for round_, statuses in enumerate(results):
            codes = sorted(status for status, _ in statuses)
            self.assertEqual(codes, [201] + [409] * (len(senders) - 1),
                             f"round {round_}: {statuses}")
            winners.add(next(i for i, (status, _) in enumerate(statuses) if status == 201))
        # Seen from either instance: exactly one event a round.
        listed = self.b.request("GET", EVENTS, token=token).json()
        self.assertEqual(listed["count"], OVERLAP_ROUNDS, listed)
        print(f"overlap: {OVERLAP_ROUNDS} rounds x {len(senders)} senders, winners by sender "
              f"index: {sorted(winners)}", file=sys.stderr)

    def test_nginx_spreads_requests_over_both_instances(self):
        before = [requests_by_route(s).get("/healthz", 0) for s in (self.a, self.b)]
        count = 20
        for i in range(count):
            response = self.nginx.request("GET", "/healthz", headers={"X-Request-Id": f"rr-{i}"})
            self.assertEqual(response.status, 200, response)
            self.assertEqual(response.headers.get("X-Request-Id"), f"rr-{i}")
        after = [requests_by_route(s).get("/healthz", 0) for s in (self.a, self.b)]
        # Each /metrics call counts itself under /metrics, not /healthz.
        deltas = [n - m for n, m in zip(after, before)]
        self.assertEqual(sum(deltas), count, deltas)
        self.assertGreater(deltas[0], 0, deltas)
        self.assertGreater(deltas[1], 0, deltas)

    def test_nginx_passes_the_api_through(self):
        # Register, use and refresh through nginx: the same service as talking to one instance.
        username = unique_name()
        response = self.nginx.request("POST", "/api/auth/register/",
                                      {"username": username, "email": f"{username}@example.com",
                                       "password": "correct-horse-battery"})
        self.assertEqual(response.status, 201, response)
        token = response.json()["access"]
        ids = []
        for i in range(6):  # round-robin: both instances write
            response = self.nginx.request("POST", EVENTS, event_body(i), token=token)
            self.assertEqual(response.status, 201, response)
            ids.append(response.json()["event"]["id"])
        for event_id in ids:
            self.assertEqual(self.nginx.request("GET", f"{EVENTS}{event_id}/",
                                                token=token).status, 200)
        # A body above 1 MiB is refused by nginx, as the instances would refuse it.
        response = self.nginx.request("POST", EVENTS, b"x" * (1024 * 1024 + 1), token=token)
        self.assertEqual(response.status, 413, response)
        # No request id sent: nginx makes one and the instance echoes it.
        response = self.nginx.request("GET", "/healthz")
        self.assertRegex(response.headers.get("X-Request-Id") or "", r"^[0-9a-f]{32}$")

    # --- a crash (runs last: A stays dead) ------------------------------------------------------

    def test_zz_kill9_of_a_during_writes_loses_no_acknowledged_write(self):
        """Writers create events through nginx, each in its own time slot; A dies by SIGKILL
        midway. Every 201 must be readable afterwards; a failure may only be a 5xx or a broken
        connection. A POST sent twice (nginx retrying a create that A had committed) would meet
        its own event and answer 409, which fails the test too."""
        writers = 2
        users = [self.nginx_user() for _ in range(writers)]
        acked = [[] for _ in range(writers)]  # (id, title) of every 201
        failures = [[] for _ in range(writers)]  # statuses other than 201 (expected: 502 or 5xx)
        lock = threading.Lock()
        killed = threading.Event()
        enough_before = threading.Event()
        acks_after = [0]
        deadline = time.monotonic() + KILL_DEADLINE_S

        def write(index):
            token = users[index]
            n = 0
            while time.monotonic() < deadline:
                with lock:
                    if acks_after[0] >= KILL_ACKS_AFTER:
                        return
                title = f"writer {index} event {n}"
                body = event_body(1000 * index + n, title)
                n += 1
                after_kill = killed.is_set()
                try:
                    response = self.nginx.request("POST", EVENTS, body, token=token)
                except (OSError, http.client.HTTPException) as error:
                    failures[index].append(repr(error))
                    continue
                if response.status == 201:
                    acked[index].append((response.json()["event"]["id"], title))
                    with lock:
                        if sum(len(a) for a in acked) >= KILL_ACKS_BEFORE:
                            enough_before.set()
                        if after_kill:
                            acks_after[0] += 1
                else:
                    failures[index].append(response.status)

        threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
        for thread in threads:
            thread.start()
        try:
            self.assertTrue(enough_before.wait(KILL_DEADLINE_S), "no writes acknowledged")
            self.a.kill9()
            killed.set()
        finally:
            for thread in threads:
                thread.join()
        self.assertGreaterEqual(acks_after[0], KILL_ACKS_AFTER,
                                f"B did not keep serving: failures {failures}")
        for index, statuses in enumerate(failures):
            for status in statuses:
                # A POST in flight to A may fail; it is never answered as a success.
                self.assertTrue(isinstance(status, str) or status >= 500,
                                f"writer {index}: unexpected {status}")
        # Every acknowledged write is there, read through nginx (only B is left).
        for index, events in enumerate(acked):
            token = users[index]
            for event_id, title in events:
                response = self.nginx.request("GET", f"{EVENTS}{event_id}/", token=token)
                self.assertEqual(response.status, 200, f"acknowledged event {event_id} lost")
                self.assertEqual(response.json()["title"], title)
        print(f"kill -9: {sum(len(a) for a in acked)} acknowledged writes, "
              f"{acks_after[0]} after the kill, failures {failures}", file=sys.stderr)

    def nginx_user(self):
        username = unique_name()
        response = self.nginx.request("POST", "/api/auth/register/",
                                      {"username": username, "email": f"{username}@example.com",
                                       "password": "correct-horse-battery"})
        self.assertEqual(response.status, 201, response)
        return response.json()["access"]


if __name__ == "__main__":
    unittest.main()
