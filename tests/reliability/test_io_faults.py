"""Proof 2 of issue 7, I/O faults: a failing fsync or write never loses an acknowledged write.

One server runs the whole test. For each injection point, strace attaches to it (every thread) and
makes one system call fail, `-e inject=SYSCALL:error=ERRNO:when=K` (the K-th call after attaching;
`K+`: that one and every later one, a disk that stays broken), restricted with `-P` to one file:
- fdatasync of the WAL → EIO (the sync of a commit, or of a checkpoint);
- pwrite64 of the WAL → ENOSPC (SQLite writes WAL frames with pwrite64, never write);
- fdatasync and pwrite64 of the database file (only checkpoints touch it in WAL mode).
Three client threads create and update events during the fault; then strace detaches (the fault
stops) and the test asserts:
- every answer was the write's success or a 5xx, never anything else; at least one 5xx for each
  failed commit (a failed WAL write or commit sync), none for a failed checkpoint (the commit was
  already durable in the WAL);
- the server is still running, and the first write after the fault succeeds;
- every acknowledged write is there, identical, and no write answered 5xx is (strict check);
- every few points, and at the end: one more create refused by a failed sync, SIGKILL right
  after it, `PRAGMA integrity_check` ok, restart on the same data directory, and every acknowledged
  write is still there. A write answered 5xx may show up after such a restart, exactly as sent (its
  WAL frames reached the file but its commit was refused; a crash before the next commit overwrites
  them lets recovery find them): a 5xx means "not acknowledged", as a dropped connection does,
  never "acknowledged"; while the server runs, a refused write is never visible.

The right behaviour, and the server's: SQLite rolls a transaction whose commit failed back, keeps
the WAL index at the last good commit, and the next transaction overwrites the failed frames, so the
server answers the writes of that transaction 500 and keeps serving (a crash-restart would not make
anything safer). See src/store/sqlite/sqlite_store.cpp (run_group).

Needs strace (tools/install-deps.sh installs it) and permission to ptrace the server (root in CI).
ALMANAC_TEST_SEED replays a run.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

from reliability import Ledger, Server, User, Writer, integrity_check, seeded_random

WRITERS = 3
ATTACH_DEADLINE_S = 30.0
DETACH_DEADLINE_S = 30.0
JOIN_DEADLINE_S = 120.0
CHECKPOINT_REQUEST_CAP = 1500  # requests per thread at most, waiting for a checkpoint to fail
RESTART_EVERY = 10  # points between SIGKILL + restart checks
ALLOWED_FAILURES = (500, 503)


def schedule():
    """The injection points: (syscall, errno, file, when, kind). kind 'commit': a fault there fails
    the commit; 'checkpoint': a fault there fails a checkpoint only."""
    points = []
    for i in range(24):  # one failed WAL sync, at a varying place in the WAL's life
        points.append(("fdatasync", "EIO", "wal", str(1 + i % 4), "commit"))
    for k in (1, 2, 3, 5):  # the WAL's disk stays broken until strace detaches
        points.append(("fdatasync", "EIO", "wal", f"{k}+", "commit"))
    for i in range(20):  # one failed frame write (header or page) at a varying place in a commit
        points.append(("pwrite64", "ENOSPC", "wal", str(1 + (7 * i) % 41), "commit"))
    for k in (1, 4, 9, 30):
        points.append(("pwrite64", "ENOSPC", "wal", f"{k}+", "commit"))
    points.append(("fdatasync", "EIO", "db", "1", "checkpoint"))
    points.append(("fdatasync", "EIO", "db", "1+", "checkpoint"))
    points.append(("pwrite64", "ENOSPC", "db", "1", "checkpoint"))
    points.append(("pwrite64", "ENOSPC", "db", "2+", "checkpoint"))
    return points


class Tracer:
    """strace attached to every thread of a running process, injecting one fault; `detach()` ends
    the fault (SIGINT: strace detaches and exits; the process runs on untraced)."""

    def __init__(self, pid, syscall, error, path, when, output):
        self.pid = pid
        self.output = output
        # pwrite64 is traced along with fdatasync (injected into only when named) so that the
        # output tells a commit's sync (WAL frames written since the previous sync) from another.
        traced = "fdatasync,pwrite64"
        self.command = [shutil.which("strace") or "strace", "-f", "-qq", "-e", "signal=none",
                        "-o", output, "-e", f"trace={traced}", "-P", path,
                        "-e", f"inject={syscall}:error={error}:when={when}", "-p", str(pid)]
        self.syscall = syscall
        self.process = None

    def attach(self):
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + ATTACH_DEADLINE_S
        while not self._all_traced_by(self.process.pid):
            if self.process.poll() is not None:
                raise AssertionError(f"strace exited with {self.process.returncode}: "
                                     f"{self.process.stderr.read().decode(errors='replace')}")
            if time.monotonic() > deadline:
                self.detach()
                raise AssertionError(f"strace did not attach within {ATTACH_DEADLINE_S} s")
            time.sleep(0.01)  # attach poll interval

    def detach(self):
        if self.process is None:
            return
        process, self.process = self.process, None
        process.send_signal(signal.SIGINT)
        try:
            process.wait(DETACH_DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(f"strace did not detach within {DETACH_DEADLINE_S} s") from None
        process.stderr.close()
        deadline = time.monotonic() + DETACH_DEADLINE_S
        while not self._all_traced_by(0):
            if time.monotonic() > deadline:
                raise AssertionError("the server is still traced after strace exited")
            time.sleep(0.01)

    def _all_traced_by(self, tracer):
        for task in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{task}/status") as f:
                    status = f.read()
            except FileNotFoundError:
                continue  # the thread ended
            if int(status.split("TracerPid:")[1].split()[0]) != tracer:
                return False
        return True

    def injected(self):
        """(faults injected, of them: syncs of a commit, i.e. with WAL frames written before)."""
        try:
            with open(self.output) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return 0, 0
        injected = commit_syncs = 0
        wrote = False
        for line in lines:
            if "pwrite64(" in line:
                wrote = True
            if "INJECTED" in line:
                injected += 1
            if "fdatasync(" in line:
                if "INJECTED" in line and wrote:
                    commit_syncs += 1
                wrote = False
        return injected, commit_syncs


class IoFaultTest(unittest.TestCase):

    def test_faults_never_lose_an_acknowledged_write(self):
        strace = shutil.which("strace")
        self.assertIsNotNone(strace, "strace is missing: tools/install-deps.sh test installs it")
        rng = seeded_random()
        server = Server()
        server.start()
        started = time.monotonic()
        try:
            points = self.run_points(server, rng)
        except BaseException:
            print(server.log_tail(), file=sys.stderr)
            raise
        finally:
            server.kill9()
            server.cleanup()
        print(f"I/O faults: {points} injection points in {time.monotonic() - started:.1f} s",
              file=sys.stderr)

    def run_points(self, server, rng):
        ledger = Ledger()
        ledger.users = [User(server) for _ in range(WRITERS)]
        files = {"wal": os.path.join(server.datadir, "almanac.db-wal"),
                 "db": os.path.join(server.datadir, "almanac.db")}
        totals = {"injected": 0, "failed_commits": 0}
        refused = 0  # creates refused right before a SIGKILL
        points = schedule()
        for number, (syscall, error, file, when, kind) in enumerate(points, start=1):
            label = f"point {number}: {syscall} {error} on the {file} file, when={when}"
            point_started = time.monotonic()
            injected, commit_syncs, writers = self.inject(server, ledger, rng, syscall, error,
                                                          files[file], when, kind, label)
            totals["injected"] += injected
            self.assertGreaterEqual(injected, 1, f"{label}: the fault never fired")
            failures = sum(n for w in writers for s, n in w.statuses.items() if s >= 500)
            for writer in writers:
                self.assertEqual(writer.errors, [], label)
            if kind == "commit":
                failed_commits = injected if syscall == "pwrite64" else commit_syncs
                totals["failed_commits"] += failed_commits
                self.assertGreaterEqual(failures, failed_commits,
                                        f"{label}: {failed_commits} commits failed, but only "
                                        f"{failures} requests were answered 5xx")
            else:
                self.assertEqual(failures, 0, f"{label}: a failed checkpoint failed a request")
            print(f"{label}: {injected} injected, {failures} answered 5xx "
                  f"({time.monotonic() - point_started:.1f} s)", file=sys.stderr)
            # The fault has stopped: the server runs, and the first write succeeds.
            self.assertIsNone(server.process.poll(), f"{label}: the server exited")
            self.assertEqual(server.request("GET", "/healthz").status, 200, label)
            self.assertFirstWriteSucceeds(server, ledger, rng, label)
            ledger.check(self, server, rng=rng, strict=True)
            if number % RESTART_EVERY == 0 or number == len(points):
                # One more create refused by a failed commit sync, then SIGKILL before any other
                # write: the refused commit's frames are in the WAL and nothing overwrote them, so
                # recovery may find it (the check accepts it only exactly as it was sent).
                injected, _, writers = self.inject(server, ledger, rng, "fdatasync", "EIO",
                                                   files["wal"], "1", "commit", label,
                                                   threads=1, per_thread=1, update_share=0)
                self.assertEqual((injected, writers[0].statuses), (1, {500: 1}), label)
                refused += 1
                port = server.port
                server.kill9()
                self.assertEqual(integrity_check(files["db"]), ["ok"], label)
                server.start(preferred_port=port)
                ledger.check(self, server, rng=rng)
        counts = ledger.counts
        print(f"\nI/O faults: {len(points)} injection points, {totals['injected']} faults "
              f"injected, {totals['failed_commits']} commits failed; acknowledged "
              f"{counts['creates']} creates and {counts['updates']} updates, "
              f"{counts['answered_5xx']} writes answered 5xx ({refused} of them right before a "
              f"SIGKILL, {counts['adopted']} found done after the restart); "
              f"{counts['gets_checked']} GETs and {counts['events_listed']} listed events checked",
              file=sys.stderr)
        server.stop()  # a clean stop: exit code 0
        return len(points)

    def inject(self, server, ledger, rng, syscall, error, path, when, kind, label,
               threads=WRITERS, per_thread=None, update_share=0.3):
        output = os.path.join(server.datadir, "strace.out")
        tracer = Tracer(server.process.pid, syscall, error, path, when, output)
        stop, acked = threading.Event(), threading.Event()
        if per_thread is None and kind == "commit":
            # Enough commits for the K-th call to come: each request commits (alone or in a
            # group of at most WRITERS), each commit syncs once and writes >= 2 frames.
            k = int(when.rstrip("+"))
            per_thread = k + 3 if syscall == "fdatasync" else k // 4 + 3
        elif per_thread is None:
            per_thread = CHECKPOINT_REQUEST_CAP  # until a checkpoint ran into the fault
        writers = [Writer(server, ledger, i, rng=_fork(rng), stop=stop, acked=acked,
                          allowed=ALLOWED_FAILURES, max_requests=per_thread,
                          update_share=update_share)
                   for i in range(threads)]
        tracer.attach()
        try:
            for writer in writers:
                writer.start()
            if kind == "checkpoint":
                deadline = time.monotonic() + JOIN_DEADLINE_S
                while tracer.injected()[0] == 0 and any(w.is_alive() for w in writers):
                    self.assertLess(time.monotonic(), deadline, f"{label}: no checkpoint")
                    stop.wait(0.05)  # poll interval of the fault's output
                # A few more writes with the fault still there.
                for writer in writers:
                    writer.max_requests = writer.requests + 3
            for writer in writers:
                writer.join(JOIN_DEADLINE_S)
                self.assertFalse(writer.is_alive(), f"{label}: a writer hangs")
        finally:
            stop.set()
            tracer.detach()
        injected, commit_syncs = tracer.injected()
        os.remove(output)
        return injected, commit_syncs, writers

    def assertFirstWriteSucceeds(self, server, ledger, rng, label):
        stop, acked = threading.Event(), threading.Event()
        writer = Writer(server, ledger, rng.randrange(WRITERS), rng=_fork(rng), stop=stop,
                        acked=acked, max_requests=1, update_share=0)
        writer.run()
        self.assertEqual(writer.errors, [], f"{label}: the first write after the fault failed")
        self.assertTrue(acked.is_set(), label)


def _fork(rng):
    return random.Random(rng.getrandbits(64))


if __name__ == "__main__":
    unittest.main()
