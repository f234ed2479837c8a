"""Test harness for Almanac's API tests: the real server binary, a port the test chose, real HTTP.

Python 3.11 standard library only. The binary comes from the environment variable ALMANAC_BIN (CTest
sets it). Every server gets its own temporary data directory and its own log file in it
(`Server.log_path`), which a test may read after `stop()` (the log is complete once the process
exited).

Typical use:

    class LoginTest(ServerTestCase):          # one server for the whole class
        def test_login(self):
            tokens, user = self.server.register()
            response = self.server.request("POST", "/api/auth/login/", {...})

Nothing here sleeps to wait for state except the readiness poll of `GET /healthz` in
`Server.start()`.

ALMANAC_TEST_TOPOLOGY=nginx-pg makes every Server two instances on one fresh PostgreSQL database
behind nginx with deploy/nginx.conf (see `Server`); a test that cannot hold there says why with
`@skip_behind_nginx(reason)`.
"""

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

READY_DEADLINE_S = 60.0  # under ASan start-up is slow; this is a deadline, not a wait
STOP_DEADLINE_S = 30.0
HTTP_TIMEOUT_S = 30.0
PORT_RANGE = (20000, 32767)
LOG_TAIL_LINES = 60

# The default: a 64-character random hex secret, unique per Server.
RANDOM_SECRET = object()


def almanac_bin():
    """Returns the server binary named by ALMANAC_BIN; fails loudly when it is unset or missing."""
    path = os.environ.get("ALMANAC_BIN")
    if not path:
        raise RuntimeError("ALMANAC_BIN is not set: point it at the almanac server binary")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"ALMANAC_BIN={path!r} is not an executable file")
    return path


def child_env(extra=None):
    """The environment for a child: ours without any ALMANAC_* variable, plus `extra`.

    Stripping ALMANAC_* keeps a developer's shell settings from changing what a test observes.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALMANAC_")}
    env.update(extra or {})
    return env


def postgres_server_url():
    """The URL of the PostgreSQL test server when the API tests run on the PostgreSQL engine, else
    None. ALMANAC_TEST_POSTGRES gives it, or ALMANAC_TEST_POSTGRES_FILE names the file holding it
    (written by the pg_cluster CTest fixture: a missing file there is an error, not a skip)."""
    url = os.environ.get("ALMANAC_TEST_POSTGRES")
    if url:
        return url
    path = os.environ.get("ALMANAC_TEST_POSTGRES_FILE")
    if not path:
        return None
    with open(path, encoding="utf-8") as f:
        url = f.readline().strip()
    if not url:
        raise RuntimeError(f"no PostgreSQL URL in {path} (did the pg_cluster fixture start?)")
    return url


def run_psql(url, sql):
    """Runs one SQL command on `url` with Debian's psql and returns its rows as unaligned text
    (one line a row, fields split by '|'); raises on failure."""
    psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
    done = subprocess.run([psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url,
                           "-c", sql], check=True, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, env=child_env(), timeout=60)
    return done.stdout.decode()


def pick_free_port(attempts=200, exclude=()):
    """Returns a random TCP port in PORT_RANGE, not in `exclude`, that 127.0.0.1 could bind a
    moment ago."""
    for _ in range(attempts):
        port = random.randint(*PORT_RANGE)
        if port not in exclude and is_port_free(port):
            return port
    raise RuntimeError(f"no free port found in {PORT_RANGE} after {attempts} attempts")


def is_port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# --- /proc: who owns the listening socket ------------------------------------------------------

_TCP_LISTEN = "0A"
# Local addresses through which a connection to 127.0.0.1 can be accepted.
_LOOPBACK_V4 = {"0100007F", "00000000"}
_LOOPBACK_V6 = {
    "00000000000000000000000000000000",  # ::
    "0000000000000000FFFF00000100007F",  # ::ffff:127.0.0.1 (as /proc prints it, per 32-bit word)
}


def listening_inodes(port):
    """Returns {(table, local_address_hex): [inode, ...]} for LISTEN sockets on `port` that could
    accept a connection to 127.0.0.1:port."""
    found = {}
    for table, addresses in (("/proc/net/tcp", _LOOPBACK_V4), ("/proc/net/tcp6", _LOOPBACK_V6)):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != _TCP_LISTEN:
                continue
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) != port or address.upper() not in addresses:
                continue
            found.setdefault((table, address.upper()), []).append(fields[9])
    return found


def socket_inodes_of(pid):
    """Returns the set of socket inodes (as strings) that process `pid` holds open."""
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for name in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue  # the fd closed between listdir and readlink
        match = re.fullmatch(r"socket:\[(\d+)\]", target)
        if match:
            inodes.add(match.group(1))
    return inodes


def verify_listener_owner(pid, port):
    """Raises AssertionError unless process `pid` owns the socket listening on 127.0.0.1:port and
    no other process listens where a connection to 127.0.0.1:port could land."""
    entries = listening_inodes(port)
    loopback = entries.get(("/proc/net/tcp", "0100007F"))
    if not loopback:
        raise AssertionError(f"no LISTEN socket on 127.0.0.1:{port} in /proc/net/tcp")
    owned = socket_inodes_of(pid)
    if not any(inode in owned for inode in loopback):
        raise AssertionError(f"port {port}: the LISTEN socket (inode {loopback}) does not belong "
                             f"to the server (pid {pid}); another process answers on this port")
    strangers = [(where, inode) for where, inodes in entries.items() for inode in inodes
                 if inode not in owned]
    if strangers:
        raise AssertionError(
            f"port {port}: LISTEN socket(s) {strangers} do not belong to the server (pid {pid}); "
            "another process could answer on this port")


# --- responses -----------------------------------------------------------------------------------


class Response:
    """One HTTP response: `.status`, `.reason`, `.headers` (case-insensitive), `.body` (bytes)."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage: case-insensitive get()/get_all()
        self.body = body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise AssertionError(
                f"response {self.status} body is not JSON ({error}): {self.body[:500]!r}") from None

    def media_type(self):
        """The Content-Type without parameters, lower-cased ('' when absent)."""
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def __repr__(self):
        return f"<Response {self.status} {dict(self.headers.items())} {self.body[:300]!r}>"


def encode_body(body, headers):
    """dict/list → JSON bytes (Content-Type application/json); bytes/str → sent as they are."""
    headers = dict(headers or {})
    if body is None:
        return None, headers
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
    elif isinstance(body, str):
        data = body.encode("utf-8")
    elif isinstance(body, (bytes, bytearray)):
        data = bytes(body)
    else:
        raise TypeError(f"unsupported body type {type(body).__name__}")
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    return data, headers


def _send(connection, method, path, body, headers, token):
    data, headers = encode_body(body, headers)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    return Response(response.status, response.reason, response.msg, payload)


class _CountingConnection(http.client.HTTPConnection):
    """An HTTPConnection that counts how many TCP connections it opened."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connects = 0

    def connect(self):
        super().connect()
        self.connects += 1


class Client:
    """One keep-alive connection to a server; `request()` as on Server. `connects` counts the TCP
    connections opened so far (http.client reconnects silently after the server closed)."""

    def __init__(self, server):
        self._connection = _CountingConnection("127.0.0.1", server.port, timeout=HTTP_TIMEOUT_S)

    @property
    def connects(self):
        return self._connection.connects

    def request(self, method, path, body=None, headers=None, token=None):
        return _send(self._connection, method, path, body, headers, token)

    def close(self):
        self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RawResponse(bytes):
    """Bytes read from a raw socket. `.closed` is True when the server closed the connection (EOF or
    reset) before the read timeout; `.reset` when it was a reset; `.send_error` is the error that
    interrupted sending (None if everything was sent)."""

    closed = False
    reset = False
    send_error = None


def parse_responses(data):
    """Splits a raw HTTP/1.1 response stream into [(status, headers{lower: value}, body), ...].

    Understands Content-Length and chunked bodies; a response without either runs to the end of the
    stream (204/205/304 without a length have no body). Raises ValueError on garbage.
    """
    responses = []
    rest = bytes(data)
    while rest:
        head, sep, rest = rest.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError(f"incomplete response head: {head[:200]!r}")
        lines = head.split(b"\r\n")
        match = re.fullmatch(rb"HTTP/1\.[01] (\d{3})(?: .*)?", lines[0])
        if not match:
            raise ValueError(f"not a status line: {lines[0][:200]!r}")
        status = int(match.group(1))
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            key = name.decode("latin-1").strip().lower()
            value = value.decode("latin-1").strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size_line, sep, rest = rest.partition(b"\r\n")
                if not sep:
                    raise ValueError("truncated chunked body")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    _, sep, rest = rest.partition(b"\r\n")  # no trailers expected
                    break
                body, rest = body + rest[:size], rest[size + 2:]
        elif "content-length" in headers:
            length = int(headers["content-length"])
            if len(rest) < length:
                raise ValueError("truncated body")
            body, rest = rest[:length], rest[length:]
        elif status in (204, 205, 304) or 100 <= status < 200:
            body = b""
        else:
            body, rest = rest, b""
        responses.append((status, headers, body))
    return responses


def _complete_responses(data):
    """How many complete responses `data` holds (0 while the first is incomplete)."""
    try:
        return len(parse_responses(data))
    except ValueError:
        return 0


def raw_request(method, target, headers=(), body=b"", version="HTTP/1.1"):
    """Builds request bytes by hand: a Host header, then `headers` ((name, value) pairs, sent as
    given, duplicates included), then `body` (bytes, sent as given)."""
    lines = [f"{method} {target} {version}", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def count_status_lines(data):
    """Counts HTTP status lines anywhere in a raw stream: a response may follow a body directly."""
    return len(re.findall(rb"HTTP/1\.[01] \d{3}", bytes(data)))


# --- JWT helpers ---------------------------------------------------------------------------------


def b64url_decode(segment):
    if isinstance(segment, str):
        segment = segment.encode("ascii")
    return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_jwt(token):
    """Returns (header, payload, signature_bytes) of a compact JWS without verifying it."""
    header, payload, signature = token.split(".")
    return (json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)),
            b64url_decode(signature))


def jwt_signature_valid(token, secret):
    """True when `token` carries a valid HS256 signature under `secret` (str or bytes)."""
    key = secret.encode() if isinstance(secret, str) else secret
    signing_input, _, signature = token.rpartition(".")
    expected = hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()
    return hmac.compare_digest(expected, b64url_decode(signature))


def make_jwt(header, payload, secret=None, digest=hashlib.sha256, signature=None):
    """Builds a compact JWS. header/payload: dicts (JSON-encoded) or bytes (used verbatim).
    The signature is HMAC-`digest` under `secret` unless `signature` (bytes) is given."""
    def segment(part):
        raw = part if isinstance(part, bytes) else json.dumps(part, separators=(",", ":")).encode()
        return b64url_encode(raw)

    signing_input = f"{segment(header)}.{segment(payload)}"
    if signature is None:
        key = secret.encode() if isinstance(secret, str) else secret
        signature = hmac.new(key, signing_input.encode("ascii"), digest).digest()
    return f"{signing_input}.{b64url_encode(signature)}"


def refresh_claims(user_id, lifetime=7 * 24 * 3600, now=None, **overrides):
    """SimpleJWT-shaped refresh-token claims for `user_id`, valid now unless overridden."""
    now = int(time.time()) if now is None else now
    claims = {"token_type": "refresh", "exp": now + lifetime, "iat": now,
              "jti": uuid.uuid4().hex, "user_id": user_id}
    claims.update(overrides)
    return claims


# --- topologies ----------------------------------------------------------------------------------

# ALMANAC_TEST_TOPOLOGY chooses what a Server is:
#   single    (default) one almanac process; SQLite in its data directory, or a fresh PostgreSQL
#             database when postgres_server_url() names a server;
#   nginx-pg  a fresh PostgreSQL database, INSTANCES_BEHIND_NGINX almanac processes on it with the
#             same arguments and secret, and nginx running deploy/nginx.conf in front of them
#             (round-robin): Server.port and the request methods talk to nginx.
TOPOLOGY_ENV = "ALMANAC_TEST_TOPOLOGY"
TOPOLOGIES = ("single", "nginx-pg")
INSTANCES_BEHIND_NGINX = 2
REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
NGINX_SITE = os.path.join(REPO, "deploy", "nginx.conf")


def topology():
    """The topology named by ALMANAC_TEST_TOPOLOGY ('single' when unset); fails on any other."""
    value = os.environ.get(TOPOLOGY_ENV) or "single"
    if value not in TOPOLOGIES:
        raise RuntimeError(f"{TOPOLOGY_ENV}={value!r}: expected one of {TOPOLOGIES}")
    return value


BEHIND_NGINX = topology() == "nginx-pg"


def skip_behind_nginx(reason):
    """unittest.skipIf for what cannot hold with several instances behind nginx; `reason` says
    why (it is printed with the skip)."""
    return unittest.skipIf(BEHIND_NGINX, f"behind nginx: {reason}")


def nginx_binary():
    return shutil.which("nginx") or "/usr/sbin/nginx"


class Nginx:
    """nginx in the foreground (no daemon, no master process) in a prefix directory (a new
    temporary one unless given), serving deploy/nginx.conf with the upstreams, the listen port and
    the access log replaced."""

    def __init__(self, upstream_ports, prefix=None):
        self.upstream_ports = list(upstream_ports)
        if prefix is None:
            prefix = tempfile.mkdtemp(prefix="almanac-nginx-")
        os.makedirs(prefix, exist_ok=True)
        self.prefix = prefix
        self.error_log = os.path.join(self.prefix, "error.log")
        self.access_log = os.path.join(self.prefix, "access.log")
        self.port = None
        self.process = None

    def site(self, port):
        """deploy/nginx.conf with the test's addresses; fails when the file changed shape."""
        with open(NGINX_SITE, encoding="utf-8") as f:
            text = f.read()
        if len(self.upstream_ports) != 2:
            raise AssertionError(f"{NGINX_SITE} names two upstreams, not "
                                 f"{len(self.upstream_ports)}")
        replacements = [
            (r"server 127\.0\.0\.1:8001\b", f"server 127.0.0.1:{self.upstream_ports[0]}"),
            (r"server 127\.0\.0\.1:8002\b", f"server 127.0.0.1:{self.upstream_ports[1]}"),
            (r"listen 80;", f"listen 127.0.0.1:{port};"),
            (r"access_log /var/log/nginx/almanac\.access\.log",
             f"access_log {self.access_log}"),
        ]
        for pattern, replacement in replacements:
            text, count = re.subn(pattern, replacement, text)
            if count != 1:
                raise AssertionError(f"{NGINX_SITE}: expected one match of {pattern!r}, "
                                     f"found {count}")
        return text

    def main_config(self):
        temp = {name: os.path.join(self.prefix, name)
                for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            os.makedirs(path, exist_ok=True)
        return (f"error_log {self.error_log} info;\n"
                f"pid {os.path.join(self.prefix, 'nginx.pid')};\n"
                "events { worker_connections 512; }\n"
                "http {\n"
                f"    client_body_temp_path {temp['client_body']};\n"
                f"    proxy_temp_path {temp['proxy']};\n"
                f"    fastcgi_temp_path {temp['fastcgi']};\n"
                f"    uwsgi_temp_path {temp['uwsgi']};\n"
                f"    scgi_temp_path {temp['scgi']};\n"
                f"    include {os.path.join(self.prefix, 'almanac.conf')};\n"
                "}\n")

    def start(self, attempts=5, preferred_port=None):
        """Starts nginx on a free port (`preferred_port` first), waits until it accepts
        connections and verifies it owns the listening socket."""
        if not os.access(nginx_binary(), os.X_OK):
            raise AssertionError("nginx is not installed (tools/install-deps.sh test)")
        for attempt in range(attempts):
            port = preferred_port if attempt == 0 and preferred_port else pick_free_port()
            with open(os.path.join(self.prefix, "almanac.conf"), "w", encoding="utf-8") as f:
                f.write(self.site(port))
            config = os.path.join(self.prefix, "nginx.conf")
            with open(config, "w", encoding="utf-8") as f:
                f.write(self.main_config())
            with open(os.path.join(self.prefix, "stderr.log"), "ab") as out:
                self.process = subprocess.Popen(
                    [nginx_binary(), "-p", self.prefix, "-e", self.error_log, "-c", config,
                     "-g", "daemon off; master_process off;"],
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            self.port = port
            deadline = time.monotonic() + READY_DEADLINE_S
            while True:
                if self.process.poll() is not None:
                    self.process = None
                    if "in use" in self.log_text():
                        break  # the port was taken: try another
                    raise AssertionError(f"nginx exited before it was ready\n{self.log_text()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    verify_listener_owner(self.process.pid, port)
                    return self
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"nginx not listening within {READY_DEADLINE_S} s\n"
                                         f"{self.log_text()}")
                time.sleep(0.05)  # readiness poll interval
        raise AssertionError(f"nginx found no free port in {attempts} attempts")

    def stop(self):
        """SIGQUIT (graceful: finish what is in flight), SIGKILL after STOP_DEADLINE_S. Returns
        nginx's exit code (None when it was not running or had to be killed)."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        process.send_signal(signal.SIGQUIT)
        try:
            return process.wait(STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None

    def cleanup(self):
        if os.environ.get("ALMANAC_KEEP_TEST_DATA"):
            print(f"keeping {self.prefix}", file=sys.stderr)
            return
        shutil.rmtree(self.prefix, ignore_errors=True)

    def log_text(self):
        parts = []
        for name in ("stderr.log", "error.log"):
            try:
                with open(os.path.join(self.prefix, name), encoding="utf-8",
                          errors="replace") as f:
                    parts.append(f"--- {name} ---\n{f.read()[-4000:]}")
            except FileNotFoundError:
                pass
        return "\n".join(parts)

    def request(self, method, path, body=None, headers=None, token=None,
                timeout=HTTP_TIMEOUT_S):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            return _send(connection, method, path, body, headers, token)
        finally:
            connection.close()


# --- the server ----------------------------------------------------------------------------------

_name_counter = 0
_name_lock = threading.Lock()


def unique_name(prefix="user"):
    """A username that no other test in this run uses (letters, digits, `_`)."""
    global _name_counter
    with _name_lock:
        _name_counter += 1
        return f"{prefix}_{os.getpid()}_{_name_counter}_{secrets.token_hex(3)}"


class ServerError(AssertionError):
    pass


def _healthz_ok(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


class Instance:
    """One almanac process of a Server: its port, process, working directory and log file.
    `request()` talks to this process directly (not through nginx)."""

    def __init__(self, server, name, workdir, log_path):
        self.server = server
        self.name = name
        self.workdir = workdir
        self.log_path = log_path
        self.port = None
        self.process = None
        self._log_offset = 0

    def launch(self, port):
        """Starts the process on `port` without waiting for it."""
        server = self.server
        env = child_env(server.env)
        if server.listen_via_env:
            env["ALMANAC_LISTEN"] = f"127.0.0.1:{port}"
        os.makedirs(self.workdir, exist_ok=True)
        command = server.command(port)
        with open(self.log_path, "ab") as log:
            hidden = {server.jwt_secret, server.database if server.pg_database else None} - {None}
            shown = ["<secret>" if arg in hidden else arg for arg in command]
            log.write(f"\n=== harness: starting on port {port}: {shown}\n".encode())
            log.flush()
            self._log_offset = log.tell()
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env, cwd=self.workdir)
        self.port = port

    def await_ready(self):
        """Waits for `GET /healthz` → 200 and verifies the process owns its listening socket.
        Returns True when running; a string explaining why the port was unusable (the process
        exited); raises on any other failure."""
        port = self.port
        deadline = time.monotonic() + READY_DEADLINE_S
        while True:
            code = self.process.poll()
            if code is not None:
                self.process = None
                new_log = self._log_since(self._log_offset)
                if "in use" in new_log.lower() or not is_port_free(port):
                    return f"port {port} taken (exit code {code})"
                raise ServerError(f"the server exited with code {code} before it was ready\n"
                                  f"{self.log_tail()}")
            if _healthz_ok(port):
                break
            if time.monotonic() > deadline:
                self.kill9()
                raise ServerError(f"the server was not ready within {READY_DEADLINE_S} s\n"
                                  f"{self.log_tail()}")
            time.sleep(0.05)  # readiness poll interval
        try:
            verify_listener_owner(self.process.pid, port)
        except AssertionError as error:
            self.kill9()
            raise ServerError(f"{error}\n{self.log_tail()}") from None
        return True

    def stop(self, sig=signal.SIGTERM):
        """Sends `sig`, waits up to STOP_DEADLINE_S, and asserts exit code 0."""
        if self.process is None:
            return
        process, self.process = self.process, None
        process.send_signal(sig)
        try:
            code = process.wait(STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise ServerError(f"the server did not stop within {STOP_DEADLINE_S} s of {sig!r}\n"
                              f"{self.log_tail()}") from None
        if code != 0:
            raise ServerError(f"the server exited with code {code} after {sig!r} (expected 0)\n"
                              f"{self.log_tail()}")

    def kill9(self):
        if self.process is None:
            return
        process, self.process = self.process, None
        process.kill()
        process.wait()

    def request(self, method, path, body=None, headers=None, token=None):
        if self.port is None:
            raise ServerError("instance not started")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT_S)
        try:
            return _send(connection, method, path, body, headers, token)
        finally:
            connection.close()

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def _log_since(self, offset):
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def log_tail(self, lines=LOG_TAIL_LINES):
        text = self.log_text().splitlines()[-lines:]
        return f"--- tail of {self.log_path} ---\n" + "\n".join(text) + "\n--- end of log ---"


class Server:
    """The real almanac binary on a port of our choosing; in the nginx-pg topology (topology()),
    INSTANCES_BEHIND_NGINX processes on one fresh PostgreSQL database behind nginx.

    jwt_secret: RANDOM_SECRET (default: 64 random hex chars), a string, or None (no --jwt-secret:
    the server generates its own). extra_args are appended to the command line. env adds
    environment variables. listen_via_env passes the address as ALMANAC_LISTEN instead of --listen.
    rate_limits: False (default) passes `--rate-limits off`, since the suites register many users
    from one address; True leaves the server's default (on), for the rate-limit tests.
    restart() keeps the data directory, the secret and the arguments. pg_server: the URL of the
    PostgreSQL server to make this Server's database on (default: postgres_server_url()).

    Behind nginx: every instance gets the same command line (plus `--trusted-proxies 127.0.0.1`
    before extra_args, as README's "Running several instances" asks) and its own working directory
    and log file; `port`/`request()`/`client()`/`raw()` talk to nginx, `process` is nginx's
    process (the owner of `port`), `instances` are the almanac processes (each with its own
    `port`, `process` and `request()`); stop(), restart() and kill9() act on every instance and
    on nginx; log_text() is the instances' logs one after the other (`log_path` names the first).
    """

    def __init__(self, extra_args=(), jwt_secret=RANDOM_SECRET, env=None, listen_via_env=False,
                 rate_limits=False, pg_server=None):
        self.binary = almanac_bin()
        self.topology = topology()
        self.extra_args = list(extra_args)
        self.jwt_secret = secrets.token_hex(32) if jwt_secret is RANDOM_SECRET else jwt_secret
        self.env = dict(env or {})
        self.listen_via_env = listen_via_env
        self.rate_limits = rate_limits
        self.pg_server = pg_server or postgres_server_url()
        if self.topology == "nginx-pg" and not self.pg_server:
            raise RuntimeError(f"{TOPOLOGY_ENV}=nginx-pg needs the PostgreSQL test server "
                               "(ALMANAC_TEST_POSTGRES_FILE, the pg_cluster CTest fixture)")
        self.datadir = tempfile.mkdtemp(prefix="almanac-api-")
        self.database = f"sqlite:{self.datadir}/almanac.db"
        # On PostgreSQL (postgres_server_url()), each Server gets a fresh database of its own.
        self.pg_database = None
        if self.pg_server:
            self.pg_database = "almanac_api_" + secrets.token_hex(8)
            run_psql(self.pg_server, f"CREATE DATABASE {self.pg_database}")
            self.database = self.pg_server.rsplit("/", 1)[0] + "/" + self.pg_database
        self.nginx = None
        if self.topology == "nginx-pg":
            # Each instance works in a directory of its own, as on a machine of its own.
            self.instances = [
                Instance(self, name, os.path.join(self.datadir, name),
                         os.path.join(self.datadir, f"server-{name}.log"))
                for name in "ab"[:INSTANCES_BEHIND_NGINX]]
        else:
            self.instances = [Instance(self, "server", self.datadir,
                                       os.path.join(self.datadir, "server.log"))]
        self.log_path = self.instances[0].log_path

    @property
    def port(self):
        """The port clients use: nginx's behind nginx, else the one instance's."""
        if self.topology == "nginx-pg":
            return self.nginx.port if self.nginx is not None else None
        return self.instances[0].port

    @property
    def process(self):
        """The process that owns `port` (nginx's behind nginx), None when stopped."""
        if self.topology == "nginx-pg":
            return self.nginx.process if self.nginx is not None else None
        return self.instances[0].process

    def _running(self):
        return any(i.process is not None for i in self.instances) or self.process is not None

    # lifecycle

    def command(self, port):
        args = [self.binary, "serve"]
        if not self.listen_via_env:
            args += ["--listen", f"127.0.0.1:{port}"]
        args += ["--database", self.database]
        if self.jwt_secret is not None:
            args += ["--jwt-secret", self.jwt_secret]
        args += ["--log-format", "json", "--threads", "2"]
        if not self.rate_limits:
            args += ["--rate-limits", "off"]
        if self.topology == "nginx-pg":
            args += ["--trusted-proxies", "127.0.0.1"]  # nginx's address; extra_args may change it
        args += self.extra_args
        return args

    def start(self, preferred_port=None, attempts=5):
        """Starts the server (every instance, then nginx), waits for `GET /healthz` → 200 on each
        instance, verifies each process owns its listening socket.

        Retries on another port when the chosen one turned out to be taken."""
        if self._running():
            raise ServerError("server already running")
        if self.topology == "nginx-pg":
            return self._start(None, preferred_port, attempts)
        return self._start([preferred_port], None, attempts)

    def _start(self, instance_ports, nginx_port, attempts):
        instance_ports = instance_ports or [None] * len(self.instances)
        try:
            self._start_instances(instance_ports, attempts)
            if self.topology == "nginx-pg":
                if self.nginx is None:
                    self.nginx = Nginx([i.port for i in self.instances],
                                       prefix=os.path.join(self.datadir, "nginx"))
                self.nginx.upstream_ports = [i.port for i in self.instances]
                self.nginx.start(attempts=attempts, preferred_port=nginx_port)
        except BaseException:
            self.kill9()
            raise
        return self

    def _start_instances(self, preferred_ports, attempts):
        """Launches every instance at once, then waits for each; relaunches those whose port was
        taken on another one."""
        pending = list(zip(self.instances, preferred_ports))
        last_error = None
        for attempt in range(attempts):
            taken = {i.port for i in self.instances if i.process is not None}
            for instance, preferred in pending:
                port = preferred if attempt == 0 and preferred else pick_free_port(exclude=taken)
                taken.add(port)
                instance.launch(port)
            retry = []
            for instance, preferred in pending:
                started = instance.await_ready()
                if started is not True:
                    last_error = started
                    retry.append((instance, preferred))
            pending = retry
            if not pending:
                return
        raise ServerError(f"the server could not start on a free port after {attempts} attempts: "
                          f"{last_error}\n{self.log_tail()}")

    def stop(self, sig=signal.SIGTERM):
        """Sends `sig` (SIGTERM) to every instance, waits up to 30 s, and asserts exit code 0;
        then stops nginx (SIGQUIT, exit code 0)."""
        errors = []
        for instance in self.instances:
            try:
                instance.stop(sig)
            except ServerError as error:
                errors.append(error)
        if self.nginx is not None and self.nginx.process is not None:
            code = self.nginx.stop()
            if code != 0:
                errors.append(ServerError(f"nginx exited with code {code} after SIGQUIT "
                                          f"(expected 0)\n{self.nginx.log_text()}"))
        if errors:
            raise errors[0]

    def kill9(self):
        """SIGKILL to every instance: for crash tests. No exit-code check. nginx is stopped."""
        for instance in self.instances:
            instance.kill9()
        if self.nginx is not None:
            self.nginx.stop()

    def restart(self):
        """stop() then start() with the same data directory, secret and arguments; tries the same
        ports first."""
        instance_ports = [i.port for i in self.instances]
        nginx_port = self.nginx.port if self.nginx is not None else None
        self.stop()
        self._start(instance_ports, nginx_port, 5)  # falls back to other ports if taken

    def cleanup(self):
        """Removes the data directory (kept when ALMANAC_KEEP_TEST_DATA is set)."""
        if os.environ.get("ALMANAC_KEEP_TEST_DATA"):
            print(f"keeping {self.datadir} {self.pg_database or ''}", file=sys.stderr)
            return
        shutil.rmtree(self.datadir, ignore_errors=True)
        if self.pg_database:
            database, self.pg_database = self.pg_database, None
            run_psql(self.pg_server, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    def close(self):
        """stop() (asserting exit code 0) and remove the data directory either way."""
        try:
            self.stop()
        finally:
            self.cleanup()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            print(self.log_tail(), file=sys.stderr)
        self.close()

    # logs

    def log_text(self):
        """The log of every instance, one after the other."""
        return "".join(instance.log_text() for instance in self.instances)

    def log_tail(self, lines=LOG_TAIL_LINES):
        tails = [instance.log_tail(lines) for instance in self.instances]
        if self.nginx is not None:
            tails.append(self.nginx.log_text())
        return "\n".join(tails)

    # HTTP

    def request(self, method, path, body=None, headers=None, token=None,
                timeout=HTTP_TIMEOUT_S):
        """One request on a fresh connection. body: dict/list → JSON; bytes/str → raw. `timeout`
        bounds the connect and each read."""
        if self.port is None:
            raise ServerError("server not started")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            return _send(connection, method, path, body, headers, token)
        finally:
            connection.close()

    def client(self):
        """A Client with one keep-alive connection."""
        return Client(self)

    def raw(self, data, read_timeout=10, responses=None):
        """Sends `data` on a new socket (in a background thread, so a server that answers before
        reading everything is observed) and reads until the server closes or `read_timeout` seconds
        pass without data, or, when `responses` is given, until that many complete responses
        arrived. Returns a RawResponse (bytes with .closed/.reset/.send_error)."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=read_timeout)
        send_error = []

        def send():
            try:
                sock.sendall(data)
            except OSError as error:  # the server closed early: expected in limit tests
                send_error.append(error)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        received = bytearray()
        closed = reset = False
        try:
            while True:
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    closed = reset = True
                    break
                if not chunk:
                    closed = True
                    break
                received += chunk
                if responses is not None and _complete_responses(received) >= responses:
                    break
        finally:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sender.join(read_timeout)
            sock.close()
        result = RawResponse(bytes(received))
        result.closed, result.reset = closed, reset
        result.send_error = send_error[0] if send_error else None
        return result

    # users

    def register(self, username=None, email=None, password=None):
        """Registers a new unique user. Returns (tokens, user): tokens = the response body
        {"refresh", "access", "user"}, user = {"id", "username", "email", "password"}."""
        username = username or unique_name()
        email = email or f"{username.lower()}@example.com"
        password = password or f"pw-{secrets.token_hex(8)}"
        response = self.request("POST", "/api/auth/register/",
                                {"username": username, "email": email, "password": password})
        if response.status != 201:
            raise AssertionError(f"register {username!r} failed: {response!r}")
        tokens = response.json()
        user = dict(tokens["user"], email=email, password=password)
        return tokens, user


class ServerTestCase(unittest.TestCase):
    """A TestCase with one Server for the whole class (setUpClass). Subclasses may set
    `server_args`/`server_kwargs`. The server log tail is printed when a test fails."""

    server_args = ()
    server_kwargs = {}
    server = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = Server(extra_args=cls.server_args, **cls.server_kwargs)
        try:
            cls.server.start()
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        server, cls.server = cls.server, None
        if server is not None:
            server.close()
        super().tearDownClass()

    def run(self, result=None):
        before = _problem_count(result)
        outcome = super().run(result)
        if result is not None and _problem_count(result) > before and self.server is not None:
            print(f"\n{self.id()} failed; server log:\n{self.server.log_tail()}", file=sys.stderr)
        return outcome

    # assertions shared by the suites

    def assertJsonResponse(self, response, status):
        """Asserts the status and Content-Type: application/json, and returns the parsed body."""
        self.assertEqual(response.status, status, response)
        self.assertEqual(response.media_type(), "application/json", response)
        return response.json()

    def assertErrorBody(self, response, status, code=None, field=None):
        """Asserts an `{"error": str, "code": str}` body (with `fields[field]` a non-empty list of
        strings when `field` is given) and returns it."""
        body = self.assertJsonResponse(response, status)
        self.assertIsInstance(body, dict, response)
        self.assertIsInstance(body.get("error"), str, response)
        self.assertTrue(body["error"], response)
        self.assertIsInstance(body.get("code"), str, response)
        if code is not None:
            self.assertEqual(body["code"], code, response)
        if field is not None:
            fields = body.get("fields")
            self.assertIsInstance(fields, dict, response)
            self.assertIn(field, fields, response)
            self.assertIsInstance(fields[field], list, response)
            self.assertTrue(fields[field], response)
            for message in fields[field]:
                self.assertIsInstance(message, str, response)
        return body

    def assertServing(self):
        """The server still answers /healthz with 200."""
        response = self.server.request("GET", "/healthz")
        self.assertEqual(response.status, 200, response)


def _problem_count(result):
    if result is None:
        return 0
    unexpected = getattr(result, "unexpectedSuccesses", [])
    return len(result.failures) + len(result.errors) + len(unexpected)


TOKEN_INVALID = {"detail": "Token is invalid or expired", "code": "token_not_valid"}
