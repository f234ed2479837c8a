"""What the tests of several instances share (issue 8): nginx serving deploy/nginx.conf, two Almanac
instances on one PostgreSQL database behind it, and a throwaway PostgreSQL cluster of a test's own
(tools/pg-cluster.sh) for the tests that stop it.

Python 3.11 standard library only.
"""

import datetime
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))

from harness import (  # noqa: E402
    Nginx,
    Server,
    nginx_binary,  # noqa: F401 (the tests of several instances import it from here)
    run_psql,
    unique_name,
)

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PG_CLUSTER = os.path.join(REPO, "tools", "pg-cluster.sh")
EVENTS = "/api/events/"
PG_CLUSTER_DEADLINE_S = 180  # initdb and start, or a stop, under a loaded machine


def slot(index, base=datetime.datetime(2031, 1, 1, 8, 0)):
    """The index-th one-hour slot: (start, end) as clients send them."""
    start = base + datetime.timedelta(hours=index)
    end = start + datetime.timedelta(hours=1)
    return start.strftime("%Y-%m-%d %H:%M"), end.strftime("%Y-%m-%d %H:%M")


def event_body(index, title=None):
    start, end = slot(index)
    return {"title": title or unique_name("event"), "start_time": start, "end_time": end}


class LogsOnFailure:
    """A TestCase mix-in for tests holding `self.instances`: prints the instances' logs when the
    test failed."""

    def run(self, result=None):
        seen = (len(result.failures), len(result.errors)) if result is not None else (0, 0)
        outcome = super().run(result)
        if result is not None and (len(result.failures), len(result.errors)) != seen:
            self.instances.print_logs()
        return outcome


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
