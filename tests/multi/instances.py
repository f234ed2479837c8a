"""What the tests of several instances share (issue 8): nginx serving deploy/nginx.conf, two Almanac
instances on one PostgreSQL database behind it, and a throwaway PostgreSQL cluster of a test's own
(tools/pg-cluster.sh) for the tests that stop it.

Python 3.11 standard library only.
"""

import datetime
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))

from harness import (  # noqa: E402
    HTTP_TIMEOUT_S,
    READY_DEADLINE_S,
    STOP_DEADLINE_S,
    Server,
    _send,
    pick_free_port,
    run_psql,
    unique_name,
    verify_listener_owner,
)

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
NGINX_SITE = os.path.join(REPO, "deploy", "nginx.conf")
PG_CLUSTER = os.path.join(REPO, "tools", "pg-cluster.sh")
EVENTS = "/api/events/"
PG_CLUSTER_DEADLINE_S = 180  # initdb and start, or a stop, under a loaded machine


def nginx_binary():
    return shutil.which("nginx") or "/usr/sbin/nginx"


def slot(index, base=datetime.datetime(2031, 1, 1, 8, 0)):
    """The index-th one-hour slot: (start, end) as clients send them."""
    start = base + datetime.timedelta(hours=index)
    end = start + datetime.timedelta(hours=1)
    return start.strftime("%Y-%m-%d %H:%M"), end.strftime("%Y-%m-%d %H:%M")


def event_body(index, title=None):
    start, end = slot(index)
    return {"title": title or unique_name("event"), "start_time": start, "end_time": end}


class Nginx:
    """nginx in the foreground (no daemon, no master process) in a temporary prefix, serving
    deploy/nginx.conf with the upstreams and the listen port replaced."""

    def __init__(self, upstream_ports):
        self.upstream_ports = list(upstream_ports)
        self.prefix = tempfile.mkdtemp(prefix="almanac-nginx-")
        self.error_log = os.path.join(self.prefix, "error.log")
        self.access_log = os.path.join(self.prefix, "access.log")
        self.port = None
        self.process = None

    def site(self, port):
        """deploy/nginx.conf with the test's addresses; fails when the file changed shape."""
        with open(NGINX_SITE, encoding="utf-8") as f:
            text = f.read()
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

    def start(self, attempts=5):
        for _ in range(attempts):
            port = pick_free_port()
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
        if self.process is None:
            return
        process, self.process = self.process, None
        process.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
        try:
            process.wait(STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

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


class Instances:
    """Two Almanac instances, A and B, on one PostgreSQL database (the same URL and the same
    --jwt-secret, each with --trusted-proxies 127.0.0.1) and nginx in front of them.

    pg_server: the PostgreSQL server to make the database on (default: the harness's,
    postgres_server_url()). start() starts all three; close() stops and removes them, pass or
    fail, and raises the first error once all are stopped."""

    def __init__(self, pg_server=None):
        self.pg_server = pg_server
        self.a = self.b = self.nginx = None

    def start(self):
        proxies = ["--trusted-proxies", "127.0.0.1"]
        try:
            self.a = Server(extra_args=proxies, pg_server=self.pg_server)  # makes the database
            self.b = Server(extra_args=proxies, jwt_secret=self.a.jwt_secret,
                            pg_server=self.pg_server)
            # B uses A's database: drop the one its constructor made.
            run_psql(self.b.pg_server, f"DROP DATABASE {self.b.pg_database}")
            self.b.database, self.b.pg_database = self.a.database, self.a.pg_database
            self.a.start()
            self.b.start()
            self.nginx = Nginx([self.a.port, self.b.port]).start()
        except BaseException:
            self.close()
            raise
        return self

    def close(self, drop_database=True):
        """Stops nginx, A and B (asserting a clean exit of each instance) and removes their
        files; the database too unless drop_database is False (it goes with its cluster)."""
        if not drop_database:
            for server in (self.a, self.b):
                if server is not None:
                    server.pg_database = None
        errors = []
        for stop in (lambda: self.nginx and self.nginx.stop(), lambda: self.a and self.a.stop(),
                     lambda: self.b and self.b.stop()):
            try:
                stop()
            except Exception as error:  # noqa: BLE001: keep stopping the others
                errors.append(error)
        for cleanup in (lambda: self.nginx and self.nginx.cleanup(),
                        lambda: self.a and self.a.cleanup(), lambda: self.b and self.b.cleanup()):
            try:
                cleanup()
            except Exception as error:  # noqa: BLE001
                errors.append(error)
        if errors:
            raise errors[0]

    def print_logs(self):
        """The tails of both instances' logs and nginx's, on stderr (after a failure)."""
        for server in (self.a, self.b):
            if server is not None:
                print(server.log_tail(20), file=sys.stderr)
        if self.nginx is not None:
            print(self.nginx.log_text(), file=sys.stderr)


class PgCluster:
    """A throwaway PostgreSQL cluster of one test's own (tools/pg-cluster.sh in a temporary
    directory): never the pg_cluster fixture's, which other tests use meanwhile. `url` connects
    to its `postgres` database. stop_immediate() and start_again() crash it and bring it back on
    the same data and port; remove() stops it and deletes its data, whatever state it is in."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="almanac-pg-own-")
        self.url = None

    def _run(self, command):
        done = subprocess.run([PG_CLUSTER, command, self.dir], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=PG_CLUSTER_DEADLINE_S)
        if done.returncode != 0:
            raise AssertionError(f"pg-cluster.sh {command} failed ({done.returncode}):\n"
                                 f"{done.stdout.decode('utf-8', 'replace')}")

    def start(self):
        try:
            self._run("start")
            with open(os.path.join(self.dir, "url"), encoding="utf-8") as f:
                self.url = f.readline().strip()
        except BaseException:
            self.remove()
            raise
        return self

    def stop_immediate(self):
        """pg_ctl stop -m immediate: the server exits at once, as in a crash."""
        self._run("stop-immediate")

    def start_again(self):
        """Starts the stopped cluster on its data and port; returns once it accepts
        connections (after crash recovery)."""
        self._run("start-again")

    def remove(self):
        try:
            self._run("stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
