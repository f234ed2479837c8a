"""The argon2id pool's bounded queue (issue 7, protections): with one hashing thread and room for
one waiting hash, a burst of logins gets some 503s with an integer Retry-After and nothing but 200
or 503, while GET /healthz keeps answering 200."""

import threading
import time
import unittest

from harness import Server

LOGIN = "/api/auth/login/"
BURST = 12  # logins released at once per round
ROUNDS = 10  # bursts at most, until one saw a 503


class HashQueueTest(unittest.TestCase):

    def setUp(self):
        self.server = Server(extra_args=["--hash-threads", "1", "--hash-queue", "1"])
        self.addCleanup(self.server.close)  # also when start() fails
        self.server.start()

    def burst(self, credentials):
        """BURST logins released together by a barrier; returns their responses (or errors)."""
        barrier = threading.Barrier(BURST)
        results = [None] * BURST

        def login(i):
            barrier.wait()
            try:
                results[i] = self.server.request("POST", LOGIN, credentials)
            except OSError as error:
                results[i] = error

        threads = [threading.Thread(target=login, args=(i,)) for i in range(BURST)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        return results

    def test_a_full_queue_answers_503_and_healthz_keeps_answering(self):
        _, user = self.server.register()
        credentials = {"username": user["username"], "password": user["password"]}

        health = {"ok": 0, "failures": [], "slowest": 0.0}
        stop = threading.Event()

        def poll_health():
            while not stop.is_set():
                began = time.monotonic()
                try:
                    response = self.server.request("GET", "/healthz")
                except OSError as error:
                    health["failures"].append(repr(error))
                    continue
                health["slowest"] = max(health["slowest"], time.monotonic() - began)
                if response.status == 200:
                    health["ok"] += 1
                else:
                    health["failures"].append(repr(response))

        poller = threading.Thread(target=poll_health, daemon=True)
        poller.start()
        statuses = []
        busy = []
        try:
            for _ in range(ROUNDS):
                for result in self.burst(credentials):
                    self.assertNotIsInstance(result, Exception, result)
                    statuses.append(result.status)
                    if result.status == 503:
                        busy.append(result)
                if busy:
                    break
        finally:
            stop.set()
            poller.join(60)

        self.assertTrue(busy, f"no 503 in {len(statuses)} concurrent logins: {statuses}")
        self.assertLessEqual(set(statuses), {200, 503}, statuses)
        self.assertIn(200, statuses)
        for response in busy:
            body = response.json()
            self.assertEqual(body.get("code"), "busy", body)
            self.assertIsInstance(body.get("error"), str, body)
            self.assertRegex(response.headers.get("Retry-After") or "", r"^[0-9]+$", response)
            self.assertGreaterEqual(int(response.headers["Retry-After"]), 1)
        self.assertFalse(health["failures"], health["failures"][:5])
        self.assertGreater(health["ok"], 0)
        # Generous (ASan, a shared machine): healthz does not queue behind the hashes.
        self.assertLess(health["slowest"], 5, health)
        # After the burst the pool drains: a login succeeds again.
        response = self.server.request("POST", LOGIN, credentials)
        self.assertEqual(response.status, 200, response)


if __name__ == "__main__":
    unittest.main()
