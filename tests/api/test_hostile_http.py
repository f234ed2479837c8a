"""Hostile HTTP (issue 7, proof 3), the parts test_http.py does not already cover: a 64 MiB body
actually being sent behind its Content-Length, a request smuggled behind two Content-Lengths, and
500 slow-header (slowloris) connections while a normal client keeps being served.

No test waits for state with a sleep: the slow-header attacker paces its bytes (that pacing is the
attack), and every wait is a deadline.
"""

import json
import os
import selectors
import socket
import threading
import time
import unittest

from harness import (
    Server,
    ServerTestCase,
    count_status_lines,
    parse_responses,
    raw_request,
    skip_behind_nginx,
)

MIB = 1024 * 1024
LOGIN = "/api/auth/login/"
REGISTER = "/api/auth/register/"


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class BigBodyTest(ServerTestCase):

    @skip_behind_nginx("nginx refuses the body itself (client_max_body_size, its own HTML 413), "
                       "so Almanac's early 413 is not reached; api.test_hostile_http tests it")
    def test_64_mib_body_is_refused_413_before_it_is_sent_and_the_connection_closed(self):
        total = 64 * MIB
        head = raw_request("POST", REGISTER, [("Content-Type", "application/json"),
                                              ("Content-Length", str(total))])
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A small send buffer: what counts as "sent" is then close to what reached the server's
        # receive buffer, whatever the machine's TCP buffer tuning.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 256 * 1024)
        sock.settimeout(30)
        sock.connect(("127.0.0.1", self.server.port))
        sent = [0]
        send_error = []
        chunk = b"x" * (64 * 1024)

        def send_body():
            try:
                sock.sendall(head)
                while sent[0] < total:
                    sent[0] += sock.send(chunk[:total - sent[0]])
            except OSError as error:  # the server closed: what this test expects
                send_error.append(error)

        sender = threading.Thread(target=send_body, daemon=True)
        started = time.monotonic()
        sender.start()
        received = bytearray()
        sent_at_response = None
        closed = False
        try:
            while True:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    closed = True
                    break
                if not data:
                    closed = True
                    break
                received += data
                if sent_at_response is None and b"\r\n\r\n" in received:
                    sent_at_response = sent[0]
                    answered_after = time.monotonic() - started
        finally:
            sender.join(30)
            sock.close()
        self.assertEqual(count_status_lines(received), 1, received[:2000])
        status, headers, body = parse_responses(bytes(received))[0]
        self.assertEqual(status, 413, received[:2000])
        self.assertEqual(json.loads(body)["code"], "payload_too_large")
        self.assertTrue(closed, "the server kept the connection open")
        # The answer came before the client had sent a quarter of the body (the server reads the
        # head only); the client could not send it all, since the server closed.
        self.assertLess(sent_at_response, total // 4, f"answered after {sent_at_response} bytes")
        self.assertTrue(send_error, f"the whole body was accepted ({sent[0]} bytes)")
        self.assertLess(sent[0], total)
        # The issue asks for the answer within 1 s; a generous bound here (ASan, a shared
        # machine), the byte count above is the sharp check.
        self.assertLess(answered_after, 10, answered_after)
        self.assertServing()

    def test_two_content_lengths_with_a_smuggled_request_is_400_and_close(self):
        inner = raw_request("GET", "/healthz", [("X-Smuggled", "1")])
        request = raw_request("POST", LOGIN, [("Content-Type", "application/json"),
                                              ("Content-Length", "2"),
                                              ("Content-Length", str(2 + len(inner)))],
                              b"{}" + inner)
        raw = self.server.raw(request)
        self.assertEqual(count_status_lines(raw), 1, raw[:2000])  # the inner GET never ran
        self.assertEqual(parse_responses(raw)[0][0], 400, raw[:2000])
        self.assertTrue(raw.closed, raw[:2000])


@skip_behind_nginx("the slow headers reach nginx, not Almanac: its client_header_timeout (60 s) "
                   "and worker_connections apply, and the test counts the almanac process's "
                   "descriptors; api.test_hostile_http tests Almanac's --header-timeout")
class SlowHeaderTest(unittest.TestCase):
    """500 connections that send their header one byte at a time are closed once the header
    timeout (1 s here) has passed, while a normal client's requests keep succeeding."""

    CONNECTIONS = 500
    HEADER_TIMEOUT_S = 1
    BYTE_INTERVAL_S = 0.25  # each attacker sends one header byte this often: never finishing
    CLOSE_DEADLINE_S = 30  # generous: ASan and a shared machine; the rule is 2 x the timeout

    def setUp(self):
        self.server = Server(extra_args=["--header-timeout", f"{self.HEADER_TIMEOUT_S}s"])
        self.addCleanup(self.server.close)  # also when start() fails
        self.server.start()

    def test_slow_header_connections_are_closed_while_others_are_served(self):
        server = self.server
        tokens, _ = server.register()
        pid = server.process.pid
        fds_before = open_fds(pid)

        selector = selectors.DefaultSelector()
        sockets = []
        opened = {}
        for _ in range(self.CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            opened[sock] = time.monotonic()
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
            sockets.append(sock)
        opened_at = time.monotonic()
        self.addCleanup(lambda: [s.close() for s in sockets])

        # The normal client, in a thread, for as long as the attack lasts.
        normal = {"ok": 0, "failures": [], "slowest": 0.0}
        attack_over = threading.Event()

        def normal_client():
            while not attack_over.is_set():
                for method, path, token in (("GET", "/healthz", None),
                                            ("GET", "/api/events/", tokens["access"])):
                    began = time.monotonic()
                    try:
                        response = server.request(method, path, token=token)
                    except OSError as error:
                        normal["failures"].append(f"{method} {path}: {error!r}")
                        continue
                    normal["slowest"] = max(normal["slowest"], time.monotonic() - began)
                    if response.status == 200:
                        normal["ok"] += 1
                    else:
                        normal["failures"].append(f"{method} {path}: {response!r}")

        client = threading.Thread(target=normal_client, daemon=True)
        client.start()

        closed_after = {}
        answers = []
        next_byte = time.monotonic()
        deadline = opened_at + self.CLOSE_DEADLINE_S
        try:
            while len(closed_after) < len(sockets) and time.monotonic() < deadline:
                timeout = max(0.0, next_byte - time.monotonic())
                for key, _ in selector.select(timeout):
                    sock = key.fileobj
                    try:
                        data = sock.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if data:
                        answers.append(data)
                        continue
                    selector.unregister(sock)
                    closed_after[sock] = time.monotonic() - opened[sock]
                if time.monotonic() >= next_byte:
                    for sock in sockets:
                        if sock in closed_after:
                            continue
                        try:
                            sock.send(b"a")
                        except BlockingIOError:
                            pass
                        except OSError:
                            selector.unregister(sock)
                            closed_after[sock] = time.monotonic() - opened[sock]
                    next_byte = time.monotonic() + self.BYTE_INTERVAL_S
        finally:
            attack_over.set()
            client.join(60)
            selector.close()

        self.assertEqual(len(closed_after), len(sockets),
                         f"{len(sockets) - len(closed_after)} slow connections still open after "
                         f"{self.CLOSE_DEADLINE_S} s")
        # Never served: a header that never ends is not a request.
        self.assertFalse([a for a in answers if b" 200 " in a.split(b"\r\n")[0]], answers[:3])
        # Not closed before the timeout had a chance to run out (the server did not simply refuse
        # connections).
        self.assertGreaterEqual(min(closed_after.values()), self.HEADER_TIMEOUT_S * 0.9)
        self.assertFalse(normal["failures"], normal["failures"][:5])
        self.assertGreater(normal["ok"], 0)
        self.assertLess(normal["slowest"], 10, "a normal request waited behind the attack")
        # The server let go of the sockets: its descriptors are back where they were.
        fds_deadline = time.monotonic() + 10
        while open_fds(pid) > fds_before and time.monotonic() < fds_deadline:
            time.sleep(0.05)  # polling the server's descriptor table against a deadline
        self.assertLessEqual(open_fds(pid), fds_before)
        response = server.request("GET", "/healthz")
        self.assertEqual(response.status, 200, response)


if __name__ == "__main__":
    unittest.main()
