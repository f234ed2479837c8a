"""Checks of the harness itself, without the almanac binary: the listener-ownership check against a
Python http.server child, the raw response parser, and the JWT helpers the auth tests forge with."""

import hashlib
import http.client
import os
import socket
import subprocess
import sys
import time
import unittest

from harness import (
    count_status_lines,
    decode_jwt,
    jwt_signature_valid,
    make_jwt,
    parse_responses,
    pick_free_port,
    verify_listener_owner,
)


class ListenerOwnershipTest(unittest.TestCase):

    def start_http_server(self):
        """A `python3 -m http.server` child on a free port, ready to answer."""
        port = pick_free_port()
        child = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                                  str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(child.wait)
        self.addCleanup(child.kill)
        deadline = time.monotonic() + 30
        while True:  # readiness poll
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/")
                connection.getresponse().read()
                connection.close()
                return child, port
            except OSError:
                self.assertIsNone(child.poll(), "http.server exited")
                self.assertLess(time.monotonic(), deadline, "http.server never became ready")
                time.sleep(0.05)

    def test_the_child_owns_its_listener(self):
        child, port = self.start_http_server()
        verify_listener_owner(child.pid, port)  # raises on failure

    def test_another_process_listening_is_detected(self):
        _, port = self.start_http_server()
        with self.assertRaises(AssertionError):
            verify_listener_owner(os.getpid(), port)  # we do not own that socket

    def test_nobody_listening_is_detected(self):
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]  # bound, never listening
            with self.assertRaises(AssertionError):
                verify_listener_owner(os.getpid(), port)


class ParseResponsesTest(unittest.TestCase):

    def test_content_length_chunked_and_empty_bodies(self):
        stream = (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
                  b"HTTP/1.1 205 Reset Content\r\n\r\n"
                  b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        responses = parse_responses(stream)
        self.assertEqual([(s, b) for s, _, b in responses],
                         [(200, b"{}"), (205, b""), (400, b"abcde")])
        self.assertEqual(count_status_lines(stream), 3)

    def test_incomplete_stream_is_an_error(self):
        with self.assertRaises(ValueError):
            parse_responses(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}")


class JwtHelpersTest(unittest.TestCase):
    def test_make_and_verify_round_trip(self):
        token = make_jwt({"alg": "HS256", "typ": "JWT"}, {"user_id": 7}, "k" * 32)
        self.assertTrue(jwt_signature_valid(token, "k" * 32))
        self.assertFalse(jwt_signature_valid(token, "x" * 32))
        header, payload, _ = decode_jwt(token)
        self.assertEqual((header["alg"], payload["user_id"]), ("HS256", 7))

    def test_other_digest_does_not_verify_as_hs256(self):
        token = make_jwt({"alg": "HS384"}, {"user_id": 7}, "k" * 32, digest=hashlib.sha384)
        self.assertFalse(jwt_signature_valid(token, "k" * 32))


if __name__ == "__main__":
    unittest.main()
