"""The transport over real HTTP (issue 2): routing, headers, JSON errors, limits, smuggling,
keep-alive and graceful stop. Limit and smuggling cases are written byte by byte on raw sockets."""

import json
import re
import signal
import socket
import unittest

from harness import (
    TOKEN_INVALID,
    Server,
    ServerTestCase,
    count_status_lines,
    parse_responses,
    raw_request,
    skip_behind_nginx,
    unique_name,
)

KIB = 1024
MIB = 1024 * KIB
LOGIN = "/api/auth/login/"
REGISTER = "/api/auth/register/"
SANE_GENERATED_ID = re.compile(r"^[!-~]{1,128}$")  # printable ASCII, no spaces
VERSION_LIKE = re.compile(r"\d+\.\d+")
# Behind nginx these requests never reach Almanac: nginx's own parser and limits refuse them with
# an HTML page of its own (or forward them re-framed), so the test would test nginx.
NGINX_ANSWERS = ("nginx refuses or re-frames this request itself (its own parser and limits), "
                 "so Almanac's transport is not reached; api.test_http tests it")


def bad_login():
    return {"username": unique_name("nobody"), "password": "wrong-password"}


class RawAssertions:
    """Checks on raw response streams; mixed into ServerTestCase subclasses."""

    def assertSingleResponse(self, raw, status):
        """Exactly one response in the stream, with `status` and a JSON error body. Returns it."""
        self.assertEqual(count_status_lines(raw), 1,
                         f"expected exactly one response: {raw[:2000]!r}")
        responses = parse_responses(raw)
        self.assertEqual(len(responses), 1, raw[:2000])
        got_status, headers, body = responses[0]
        self.assertEqual(got_status, status, raw[:2000])
        self.assertEqual(headers.get("content-type", "").split(";")[0].strip(), "application/json",
                         raw[:2000])
        error = json.loads(body)
        self.assertIsInstance(error.get("error"), str, body)
        self.assertIsInstance(error.get("code"), str, body)
        return responses[0]

    def assertClosed(self, raw):
        self.assertTrue(raw.closed, "the server did not close the connection within the read "
                        f"timeout; received: {raw[:2000]!r}")


class RoutingTest(ServerTestCase):

    def test_unknown_path_is_404_json(self):
        for method, path in (("GET", "/no/such/path"), ("GET", "/"), ("POST", "/api/auth/nothing/"),
                             ("POST", "/api/auth/login/extra/"), ("GET", "/api/")):
            with self.subTest(method=method, path=path):
                response = self.server.request(method, path, {} if method == "POST" else None)
                self.assertErrorBody(response, 404, code="not_found")

    def test_wrong_verb_is_405_with_allow(self):
        for path in (LOGIN, "/api/auth/login", "/api/auth/register/", "/api/auth/refresh/",
                     "/api/auth/logout/"):
            with self.subTest(path=path):
                response = self.server.request("GET", path)
                self.assertErrorBody(response, 405)
                allowed = {v.strip() for v in (response.headers.get("Allow") or "").split(",")}
                self.assertEqual(allowed, {"POST"}, response)

    def test_wrong_verb_on_healthz(self):
        response = self.server.request("DELETE", "/healthz")
        self.assertErrorBody(response, 405)
        allowed = {v.strip() for v in (response.headers.get("Allow") or "").split(",")}
        self.assertIn("GET", allowed, response)
        self.assertNotIn("DELETE", allowed, response)

    def test_route_without_trailing_slash_is_served_without_redirect(self):
        with_slash = self.server.request("POST", LOGIN, bad_login())
        without = self.server.request("POST", "/api/auth/login", bad_login())
        self.assertEqual(without.status, 401, without)
        self.assertEqual(without.status, with_slash.status)
        self.assertEqual(without.json(), with_slash.json())
        self.assertIsNone(without.headers.get("Location"))

        username = unique_name()
        register = self.server.request("POST", "/api/auth/register", {
            "username": username, "email": f"{username}@example.com", "password": "long-password"})
        body = self.assertJsonResponse(register, 201)
        self.assertEqual(body["user"]["username"], username)

        refresh = self.server.request("POST", "/api/auth/refresh", {"refresh": "garbage"})
        self.assertEqual(self.assertJsonResponse(refresh, 401), TOKEN_INVALID)
        logout = self.server.request("POST", "/api/auth/logout", {"refresh": body["refresh"]})
        self.assertEqual(logout.status, 205, logout)

    def test_healthz(self):
        response = self.server.request("GET", "/healthz")
        self.assertEqual(self.assertJsonResponse(response, 200), {"status": "ok"})

    def test_schema_is_openapi_yaml(self):
        for path in ("/api/schema/", "/api/schema"):
            with self.subTest(path=path):
                response = self.server.request("GET", path)
                self.assertEqual(response.status, 200, response)
                self.assertTrue(response.body.startswith(b"openapi: 3.1"), response.body[:100])
                self.assertIn(b"/api/auth/register/", response.body)


class HeadersTest(ServerTestCase):

    def sample_responses(self):
        """One response of each kind the server gives today, labelled."""
        username = unique_name()
        credentials = {"username": username, "email": f"{username}@example.com",
                       "password": "long-password"}
        register = self.server.request("POST", REGISTER, credentials)
        tokens = register.json()
        return {
            "201 register": register,
            "200 login": self.server.request("POST", LOGIN, {"username": username,
                                                             "password": "long-password"}),
            "200 refresh": self.server.request("POST", "/api/auth/refresh/",
                                               {"refresh": tokens["refresh"]}),
            "200 healthz": self.server.request("GET", "/healthz"),
            "400 validation": self.server.request("POST", REGISTER, {}),
            "400 malformed": self.server.request("POST", REGISTER, b"{nope"),
            "401 login": self.server.request("POST", LOGIN, bad_login()),
            "401 token": self.server.request("POST", "/api/auth/refresh/", {"refresh": "x"}),
            "404": self.server.request("GET", "/nope"),
            "405": self.server.request("GET", LOGIN),
            "205 logout": self.server.request("POST", "/api/auth/logout/",
                                              {"refresh": tokens["refresh"]}),
            "200 schema": self.server.request("GET", "/api/schema/"),
        }

    def test_every_response_is_json_with_a_request_id(self):
        for label, response in self.sample_responses().items():
            with self.subTest(label):
                self.assertEqual(response.status, int(label.split()[0]), response)
                if label not in ("205 logout", "200 schema"):
                    self.assertEqual(response.media_type(), "application/json", response)
                    response.json()
                request_id = response.headers.get("X-Request-Id")
                self.assertTrue(request_id, response)
                self.assertRegex(request_id, SANE_GENERATED_ID)

    def test_no_version_in_any_header(self):
        for label, response in self.sample_responses().items():
            with self.subTest(label):
                server = response.headers.get("Server")
                if server is not None:
                    self.assertNotRegex(server, r"\d", "Server header carries a version")
                self.assertIsNone(response.headers.get("X-Powered-By"))
                for name, value in response.headers.items():
                    self.assertNotRegex(value.lower(), r"beast|boost", f"{name}: {value}")
                    if name.lower() not in ("x-request-id", "date"):
                        self.assertNotRegex(value, VERSION_LIKE, f"{name}: {value}")

    def test_sane_request_id_is_echoed(self):
        for request_id in ("abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e"):
            with self.subTest(request_id=request_id):
                response = self.server.request("GET", "/healthz",
                                               headers={"X-Request-Id": request_id})
                self.assertEqual(response.headers.get("X-Request-Id"), request_id)
        # Echoed on errors as well.
        response = self.server.request("GET", "/nope", headers={"X-Request-Id": "abc-404"})
        self.assertEqual(response.headers.get("X-Request-Id"), "abc-404")

    def test_insane_request_id_is_replaced(self):
        for label, request_id in (("300 characters", "a" * 300), ("spaces", "abc 123"),
                                  ("empty", "")):
            with self.subTest(label):
                response = self.server.request("GET", "/healthz",
                                               headers={"X-Request-Id": request_id})
                self.assertEqual(response.status, 200, response)
                generated = response.headers.get("X-Request-Id")
                self.assertTrue(generated, response)
                self.assertNotEqual(generated, request_id)
                self.assertRegex(generated, SANE_GENERATED_ID)

    def test_generated_request_ids_differ(self):
        ids = {self.server.request("GET", "/healthz").headers.get("X-Request-Id") for _ in range(5)}
        self.assertEqual(len(ids), 5, ids)


class MalformedJsonTest(ServerTestCase):
    """Bad JSON bodies → 400 with an error body, never 5xx, and the server keeps serving."""

    def assertRejected(self, body, path=REGISTER):
        response = self.server.request("POST", path, body)
        self.assertErrorBody(response, 400)
        self.assertServing()

    def test_syntax_errors(self):
        for body in (b"{nope", b'{"username": "x",', b"not json", b"", b"{}}", b'{"a": 1} x',
                     b"{'username': 'single quotes'}", b'{"a": NaN}', b'{"a": 01}', b"{}]"):
            with self.subTest(body=body[:40]):
                self.assertRejected(body)

    def test_invalid_utf8_in_a_string(self):
        for bad in (b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"abc\x80"):
            with self.subTest(bytes=bad):
                body = (b'{"username": "' + bad + b'", "email": "u@example.com", '
                        b'"password": "long-password"}')
                self.assertRejected(body)

    def test_nesting_65_levels(self):
        # The object is level 1; 64 nested arrays make 65.
        body = '{"username": ' + "[" * 64 + "]" * 64 + "}"
        self.assertRejected(body.encode())
        self.assertRejected(("[" * 65 + "]" * 65).encode())

    def test_nesting_100000_levels(self):
        self.assertRejected(b"[" * 100000)
        self.assertRejected(b"[" * 100000 + b"]" * 100000)
        self.assertRejected(b'{"a":' * 50000 + b"1" + b"}" * 50000)

    def test_array_where_an_object_is_expected(self):
        for path in (REGISTER, LOGIN, "/api/auth/refresh/", "/api/auth/logout/"):
            with self.subTest(path=path):
                self.assertRejected(b"[]", path)
                self.assertRejected(b'[{"username": "a", "password": "b"}]', path)

    def test_scalar_where_an_object_is_expected(self):
        for body in (b'"text"', b"42", b"null", b"true"):
            with self.subTest(body=body):
                self.assertRejected(body, LOGIN)

    def test_number_where_a_string_belongs(self):
        response = self.server.request("POST", LOGIN, {"username": 12, "password": "long-password"})
        self.assertErrorBody(response, 400, field="username")
        self.assertServing()


class LimitsTest(RawAssertions, ServerTestCase):

    @skip_behind_nginx(NGINX_ANSWERS)
    def test_content_length_over_1_mib_is_413_without_reading_the_body(self):
        # Only the head is sent: a server that waited for the 2 MiB body would hit the read timeout.
        request = raw_request("POST", REGISTER, [("Content-Type", "application/json"),
                                                 ("Content-Length", str(2 * MIB))])
        raw = self.server.raw(request)
        self.assertSingleResponse(raw, 413)
        self.assertClosed(raw)
        self.assertServing()

    @skip_behind_nginx(NGINX_ANSWERS)
    def test_chunked_body_over_1_mib_is_413(self):
        chunk = b"x" * (64 * KIB)
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
        request = raw_request("POST", REGISTER, [("Content-Type", "application/json"),
                                                 ("Transfer-Encoding", "chunked")], body)
        raw = self.server.raw(request)
        self.assertSingleResponse(raw, 413)
        self.assertClosed(raw)
        self.assertServing()

    @skip_behind_nginx(NGINX_ANSWERS)
    def test_one_chunk_of_2_mib_is_413(self):
        body = b"%x\r\n" % (2 * MIB) + b"x" * (2 * MIB) + b"\r\n0\r\n\r\n"
        request = raw_request("POST", REGISTER, [("Content-Type", "application/json"),
                                                 ("Transfer-Encoding", "chunked")], body)
        raw = self.server.raw(request)
        self.assertSingleResponse(raw, 413)
        self.assertClosed(raw)
        self.assertServing()

    def test_body_well_under_the_limit_is_read(self):
        body = json.dumps({"username": "u" * (512 * KIB), "email": "x@example.com",
                           "password": "long-password"})
        response = self.server.request("POST", REGISTER, body)
        self.assertErrorBody(response, 400, field="username")

    @skip_behind_nginx(NGINX_ANSWERS)
    def test_one_16_kib_header_is_431(self):
        request = raw_request("GET", "/healthz", [("X-Big", "a" * (16 * KIB))])
        raw = self.server.raw(request, responses=1)
        self.assertSingleResponse(raw, 431)
        self.assertServing()

    def test_200_headers_of_60_bytes_is_431(self):
        headers = [(f"X-Header-{i:03d}", "v" * 44) for i in range(200)]
        self.assertEqual(len(f"{headers[0][0]}: {headers[0][1]}\r\n"), 60)
        raw = self.server.raw(raw_request("GET", "/healthz", headers), responses=1)
        self.assertSingleResponse(raw, 431)
        self.assertServing()

    def test_headers_under_8_kib_are_fine(self):
        headers = [(f"X-Header-{i:03d}", "v" * 44) for i in range(100)]  # 6000 bytes
        response = self.server.request("GET", "/healthz", headers=dict(headers))
        self.assertEqual(response.status, 200, response)

    @skip_behind_nginx(NGINX_ANSWERS)
    def test_16_kib_url_is_414(self):
        raw = self.server.raw(raw_request("GET", "/api/" + "a" * (16 * KIB)), responses=1)
        self.assertSingleResponse(raw, 414)
        self.assertServing()

    @skip_behind_nginx(NGINX_ANSWERS)
    def test_transfer_encoding_gzip_is_400_and_close(self):
        request = raw_request("POST", LOGIN, [("Content-Type", "application/json"),
                                              ("Transfer-Encoding", "gzip")])
        raw = self.server.raw(request)
        self.assertSingleResponse(raw, 400)
        self.assertClosed(raw)

    @skip_behind_nginx(NGINX_ANSWERS)
    def test_other_transfer_encodings_are_400(self):
        for value in ("chunked, gzip", "gzip, chunked", "identity", "deflate", "chunked, chunked"):
            with self.subTest(te=value):
                request = raw_request("POST", LOGIN, [("Content-Type", "application/json"),
                                                      ("Transfer-Encoding", value)], b"0\r\n\r\n")
                raw = self.server.raw(request)
                self.assertSingleResponse(raw, 400)
                self.assertClosed(raw)

    @skip_behind_nginx(NGINX_ANSWERS)
    def test_content_length_with_transfer_encoding_is_400_and_close(self):
        request = raw_request("POST", LOGIN, [("Content-Type", "application/json"),
                                              ("Content-Length", "5"),
                                              ("Transfer-Encoding", "chunked")], b"0\r\n\r\n")
        raw = self.server.raw(request)
        self.assertSingleResponse(raw, 400)
        self.assertClosed(raw)

    @skip_behind_nginx(NGINX_ANSWERS)
    def test_two_different_content_lengths_are_400(self):
        request = raw_request("POST", LOGIN, [("Content-Type", "application/json"),
                                              ("Content-Length", "2"), ("Content-Length", "3")],
                              b"{} ")
        raw = self.server.raw(request, responses=1)
        self.assertSingleResponse(raw, 400)

    @skip_behind_nginx(NGINX_ANSWERS)
    def test_invalid_content_length_is_400(self):
        for value in ("abc", "-1", "1x", "0x10"):
            with self.subTest(content_length=value):
                request = raw_request("POST", LOGIN, [("Content-Type", "application/json"),
                                                      ("Content-Length", value)], b"{}")
                raw = self.server.raw(request, responses=1)
                self.assertSingleResponse(raw, 400)

    @skip_behind_nginx(NGINX_ANSWERS)
    def test_smuggling_inside_transfer_encoding_gzip(self):
        inner = raw_request("GET", "/healthz", [("X-Smuggled", "1")])
        request = raw_request("POST", LOGIN, [("Content-Type", "application/json"),
                                              ("Transfer-Encoding", "gzip")], inner)
        raw = self.server.raw(request)
        self.assertSingleResponse(raw, 400)  # exactly one status line: the inner GET never ran
        self.assertClosed(raw)

    @skip_behind_nginx(NGINX_ANSWERS)
    def test_smuggling_with_content_length_and_chunked(self):
        inner = raw_request("GET", "/healthz", [("X-Smuggled", "1")])
        request = raw_request("POST", LOGIN, [("Content-Type", "application/json"),
                                              ("Content-Length", "5"),
                                              ("Transfer-Encoding", "chunked")],
                              b"0\r\n\r\n" + inner)
        raw = self.server.raw(request)
        self.assertSingleResponse(raw, 400)
        self.assertClosed(raw)

    @skip_behind_nginx(NGINX_ANSWERS)
    def test_smuggling_with_two_transfer_encoding_headers(self):
        inner = raw_request("GET", "/healthz", [("X-Smuggled", "1")])
        request = raw_request("POST", LOGIN, [("Content-Type", "application/json"),
                                              ("Transfer-Encoding", "chunked"),
                                              ("Transfer-Encoding", "gzip")], b"0\r\n\r\n" + inner)
        raw = self.server.raw(request)
        self.assertSingleResponse(raw, 400)
        self.assertClosed(raw)

    def test_valid_chunked_body_is_accepted(self):
        body = json.dumps(bad_login()).encode()
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        request = raw_request("POST", LOGIN, [("Content-Type", "application/json"),
                                              ("Transfer-Encoding", "chunked"),
                                              ("Connection", "close")], chunked)
        raw = self.server.raw(request)
        responses = parse_responses(raw)
        self.assertEqual(len(responses), 1, raw)
        self.assertEqual(responses[0][0], 401, raw)  # parsed as JSON, credentials refused


class KeepAliveTest(ServerTestCase):

    def test_requests_share_one_connection(self):
        with self.server.client() as client:
            first = client.request("GET", "/healthz")
            second = client.request("POST", LOGIN, bad_login())
            third = client.request("GET", "/nope")
            self.assertEqual([first.status, second.status, third.status], [200, 401, 404])
            self.assertEqual(client.connects, 1, "the server closed a keep-alive connection")

    def test_pipelined_requests_are_answered_in_order(self):
        request = (raw_request("GET", "/healthz", [("X-Request-Id", "first-1")])
                   + raw_request("GET", "/nope", [("X-Request-Id", "second-2"),
                                                  ("Connection", "close")]))
        raw = self.server.raw(request)
        self.assertTrue(raw.closed, raw)
        responses = parse_responses(raw)
        self.assertEqual([r[0] for r in responses], [200, 404], raw)
        self.assertEqual([r[1].get("x-request-id") for r in responses], ["first-1", "second-2"])

    def test_connection_close_is_honoured(self):
        raw = self.server.raw(raw_request("GET", "/healthz", [("Connection", "close")]))
        self.assertTrue(raw.closed, raw)
        self.assertEqual([r[0] for r in parse_responses(raw)], [200])


class RequestIdInLogTest(unittest.TestCase):

    def test_request_id_appears_in_the_json_log_line(self):
        request_id = f"trace-{unique_name('id').replace('_', '-')}"
        with Server() as server:
            response = server.request("GET", "/nope", headers={"X-Request-Id": request_id})
            self.assertEqual(response.headers.get("X-Request-Id"), request_id)
            server.stop()  # the log is complete once the process exited
            lines = [line for line in server.log_text().splitlines() if request_id in line]
            self.assertTrue(lines, f"request id {request_id} not in {server.log_path}")
            record = json.loads(lines[0])  # --log-format json: one object per line
            self.assertIsInstance(record, dict, lines[0])


class GracefulStopTest(unittest.TestCase):

    def test_sigterm_with_an_idle_keep_alive_connection_exits_0(self):
        with Server() as server:
            port = server.port
            with server.client() as client:
                self.assertEqual(client.request("GET", "/healthz").status, 200)
                server.stop()  # asserts exit code 0 within 30 s, despite the idle connection
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=5).close()

    def test_sigint_exits_0(self):
        with Server() as server:
            self.assertEqual(server.request("GET", "/healthz").status, 200)
            server.stop(signal.SIGINT)


if __name__ == "__main__":
    unittest.main()
