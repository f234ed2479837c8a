#!/usr/bin/env python3
"""Soak test (issue 7, proof 8): mixed traffic at a fixed request rate against a fresh server.

Starts the server binary on a fresh data directory (through tests/api/harness.py: a port of our
choosing, rate limits off), registers a few users, then sends reads, writes, logins, refreshes and
history requests at --rate requests per second (open loop: a request is due every 1/rate seconds
whether or not the previous ones finished) for --duration. Meanwhile it samples the server's
resident memory (/proc/<pid>/status VmRSS), its open file descriptors (/proc/<pid>/fd) and the
size of the SQLite WAL file.

It prints a summary and exits non-zero when:
  - any response was not the expected success (or a request failed on the wire),
  - the server could not keep up (requests started more than --max-lag seconds late),
  - RSS after the warm-up grew by more than --rss-growth (default 10 %): the floor (lowest sample)
    of any window of --rss-window samples above the floor of the first window after the warm-up
    (floors, because a login's argon2id hash holds 19 MiB only while it runs),
  - descriptors other than sockets grew after the warm-up, or the server still holds more
    descriptors than before the traffic once the clients closed their connections,
  - the WAL file grew beyond --wal-limit,
  - the server did not stop cleanly (exit code 0 after SIGTERM; under ASan this includes
    LeakSanitizer's report at exit).

The warm-up must outlast the filling of SQLite's page caches (4 MiB per connection: the writer
and one reader per I/O thread), which grow with the database and count as RSS. At 400 requests/s
on the release build the floor rose by about 5 MiB and then stayed flat (+0.0 % over the 150 s
after a 150 s warm-up); at 100/s with a 60 s warm-up it was still rising (+12.5 % over four
minutes) while --read-only traffic at 200/s stayed flat (+0.2 %): growth with the data, not with
the requests. The default warm-up (a fifth of the duration) at half of capacity covers it.

--rate auto measures capacity first (closed loop, every worker sending back to back for
--measure seconds) and then runs at half of it. What is measured is the capacity of this client
and server together on this machine: with a fast server the Python client may be the bottleneck.

Python standard library only.
"""

import argparse
import http.client
import json
import os
import queue
import random
import re
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "api"))

import harness  # noqa: E402  (the API tests' server harness)

USERS = 8
EVENTS_PER_USER = 60  # each user's pool is kept around this size: creates and deletes balance
DAY_SPAN = 3650  # events are spread over ten years, so that creates rarely overlap

# operation -> weight (per 100 requests). Logins are rare: an argon2id hash costs far more than any
# other request.
MIX = {
    "list": 20, "list_filtered": 6, "get": 18, "create": 9, "batch": 2, "patch": 10,
    "delete": 9, "history": 9, "changelog": 6, "version": 5, "diff": 3, "refresh": 2, "login": 1,
}


def parse_duration(text):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 30m, 1h)")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def parse_size(text):
    match = re.fullmatch(r"(\d+)(|KiB|MiB|GiB)", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 64MiB)")
    return int(match.group(1)) * {"": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[
        match.group(2)]


# --- the server's resources ----------------------------------------------------------------------


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def fd_counts(pid):
    """(sockets, others) among the process's open descriptors."""
    sockets = others = 0
    fd_dir = f"/proc/{pid}/fd"
    for name in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue  # closed between listdir and readlink
        if target.startswith("socket:"):
            sockets += 1
        else:
            others += 1
    return sockets, others


def file_size(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


class Sample:
    def __init__(self, at, pid, wal_path):
        self.at = at
        self.rss = rss_bytes(pid)
        self.sockets, self.other_fds = fd_counts(pid)
        self.wal = file_size(wal_path)


# --- traffic -------------------------------------------------------------------------------------


class User:
    def __init__(self, tokens, user):
        self.id = user["id"]
        self.username = user["username"]
        self.password = user["password"]
        self.access = tokens["access"]
        self.refresh = tokens["refresh"]
        self.lock = threading.Lock()
        self.events = []  # ids free to use; an id in use by a request is taken out (leased)

    def lease(self):
        with self.lock:
            if not self.events:
                return None
            return self.events.pop(random.randrange(len(self.events)))

    def give_back(self, *ids):
        with self.lock:
            self.events.extend(ids)

    def pool_size(self):
        with self.lock:
            return len(self.events)


def event_body(rng):
    day = rng.randrange(DAY_SPAN)
    minute = rng.randrange(0, 23 * 60, 5)
    start = time.strftime("%Y-%m-%d", time.gmtime(1_893_456_000 + day * 86400))  # from 2030
    begin = f"{start} {minute // 60:02d}:{minute % 60:02d}"
    end_minute = minute + 30
    end = f"{start} {end_minute // 60:02d}:{end_minute % 60:02d}"
    return {"title": f"soak {rng.randrange(10**6)}", "description": "d" * rng.randrange(200),
            "location": "room", "start_time": begin, "end_time": end}


class Traffic:
    """The request mix. run(op, conn, rng) sends one request and returns an error string or
    None."""

    WRITES = ("create", "batch", "patch", "delete", "login")

    def __init__(self, users, read_only=False):
        self.users = users
        self.ops = [op for op, weight in MIX.items() for _ in range(weight)
                    if not (read_only and op in self.WRITES)]

    def seed(self, conn, rng):
        """Gives every user EVENTS_PER_USER events (batches), so that traffic starts in its steady
        state."""
        for user in self.users:
            items = [event_body(rng) for _ in range(EVENTS_PER_USER)]
            status, payload = self.call(conn, "POST", "/api/events/batch/", items,
                                        token=user.access)
            if status != 201:
                raise RuntimeError(f"seeding failed: {status} {payload[:300]!r}")
            user.give_back(*[item["id"] for item in json.loads(payload)["created_events"]])

    def pick(self, rng):
        return rng.choice(self.ops)

    @staticmethod
    def call(conn, method, path, body=None, token=None):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        return response.status, payload

    def expect(self, got, status, what):
        if got[0] != status:
            return f"{what}: {got[0]} (expected {status}) {got[1][:200]!r}"
        return None

    def run(self, op, conn, rng):
        user = rng.choice(self.users)
        if op in ("create", "delete", "batch"):
            # Keep each pool near EVENTS_PER_USER: a write adds when below, removes when above.
            op = "delete" if user.pool_size() > EVENTS_PER_USER else (
                "batch" if op == "batch" else "create")
        if op == "list":
            return self.expect(self.call(conn, "GET", "/api/events/?page_size=20",
                                         token=user.access), 200, op)
        if op == "list_filtered":
            query = rng.choice(["?ordering=-start_time&page_size=10", "?q=soak&page_size=5",
                                "?start=2031-01-01%2000:00&end=2032-01-01%2000:00",
                                "?role=owner&page=2&page_size=10"])
            return self.expect(self.call(conn, "GET", "/api/events/" + query,
                                         token=user.access), 200, op)
        if op == "create":
            got = self.call(conn, "POST", "/api/events/?allow_conflicts=true", event_body(rng),
                            token=user.access)
            if got[0] == 201:
                user.give_back(json.loads(got[1])["event"]["id"])
            return self.expect(got, 201, op)
        if op == "batch":
            items = [event_body(rng) for _ in range(5)]
            got = self.call(conn, "POST", "/api/events/batch/", items, token=user.access)
            if got[0] == 201:
                body = json.loads(got[1])
                user.give_back(*[item["id"] for item in body["created_events"]])
                if body["errors"]:
                    return f"batch: item errors {body['errors'][:2]}"
            return self.expect(got, 201, op)
        if op == "refresh":
            got = self.call(conn, "POST", "/api/auth/refresh/", {"refresh": user.refresh})
            if got[0] == 200:
                user.access = json.loads(got[1])["access"]
            return self.expect(got, 200, op)
        if op == "login":
            got = self.call(conn, "POST", "/api/auth/login/",
                            {"username": user.username, "password": user.password})
            if got[0] == 200:
                body = json.loads(got[1])
                user.access, user.refresh = body["access"], body["refresh"]
            return self.expect(got, 200, op)
        # The rest work on one of the user's events.
        event_id = user.lease()
        if event_id is None:
            return self.expect(self.call(conn, "GET", "/api/events/", token=user.access), 200,
                               "list (no event yet)")
        keep = True
        try:
            path = f"/api/events/{event_id}/"
            if op == "get":
                return self.expect(self.call(conn, "GET", path, token=user.access), 200, op)
            if op == "patch":
                return self.expect(self.call(conn, "PATCH", path + "?allow_conflicts=true",
                                             {"title": f"patched {rng.randrange(10**6)}"},
                                             token=user.access), 200, op)
            if op == "delete":
                got = self.call(conn, "DELETE", path, token=user.access)
                keep = got[0] != 200
                return self.expect(got, 200, op)
            if op == "history":
                return self.expect(self.call(conn, "GET", path + "history/", token=user.access),
                                   200, op)
            if op == "changelog":
                return self.expect(self.call(conn, "GET", path + "changelog/",
                                             token=user.access), 200, op)
            if op in ("version", "diff"):
                got = self.call(conn, "GET", path + "history/", token=user.access)
                if got[0] != 200:
                    return self.expect(got, 200, f"{op} (history)")
                listed = json.loads(got[1])
                listed = listed["results"] if isinstance(listed, dict) else listed
                versions = [item["version_id"] for item in listed]
                if op == "version":
                    return self.expect(self.call(conn, "GET",
                                                 f"{path}history/{rng.choice(versions)}/",
                                                 token=user.access), 200, op)
                old, new = min(versions), max(versions)
                return self.expect(self.call(conn, "GET", f"{path}diff/{old}/{new}/",
                                             token=user.access), 200, op)
            raise ValueError(f"unknown operation {op}")
        finally:
            if keep:
                user.give_back(event_id)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.count = {}
        self.latencies = {}
        self.errors = []
        self.error_count = 0
        self.max_lag = 0.0

    def record(self, op, seconds, error, lag):
        with self.lock:
            self.count[op] = self.count.get(op, 0) + 1
            self.latencies.setdefault(op, []).append(seconds)
            self.max_lag = max(self.max_lag, lag)
            if error:
                self.error_count += 1
                if len(self.errors) < 20:
                    self.errors.append(error)

    def total(self):
        with self.lock:
            return sum(self.count.values())


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Worker(threading.Thread):
    """Takes due times off the queue, waits for each, sends one request on its keep-alive
    connection."""

    def __init__(self, port, traffic, stats, jobs, seed):
        super().__init__(daemon=True)
        self.port, self.traffic, self.stats, self.jobs = port, traffic, stats, jobs
        self.rng = random.Random(seed)
        self.conn = None

    def connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return self.conn

    def run(self):
        while True:
            due = self.jobs.get()
            if due is None:
                break
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)  # the schedule: this request is due at `due`
            lag = max(0.0, time.monotonic() - due)
            op = self.traffic.pick(self.rng)
            began = time.monotonic()
            try:
                error = self.traffic.run(op, self.connection(), self.rng)
            except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
                error = f"{op}: {exc!r}"
                self.close()
            self.stats.record(op, time.monotonic() - began, error, lag)
        self.close()

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def drive(port, traffic, workers, seconds, rate, stats, on_tick=None):
    """Sends requests for `seconds`: at `rate` per second (open loop), or back to back when rate
    is None. Returns when every worker finished."""
    jobs = queue.Queue()
    threads = [Worker(port, traffic, stats, jobs, seed) for seed in range(workers)]
    for thread in threads:
        thread.start()
    start = time.monotonic()
    end = start + seconds
    if rate is None:
        # Closed loop: keep the queue one job ahead of each worker.
        while time.monotonic() < end:
            while jobs.qsize() < workers:
                jobs.put(0.0)
            time.sleep(0.01)  # the feeding interval of the closed loop
            if on_tick:
                on_tick()
    else:
        sent = 0
        while True:
            due = start + sent / rate
            if due >= end:
                break
            now = time.monotonic()
            if due > now + 0.05:
                time.sleep(min(due - now - 0.05, 0.2))  # the schedule: hand jobs out just in time
                if on_tick:
                    on_tick()
                continue
            jobs.put(due)
            sent += 1
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.environ.get("ALMANAC_BIN")
                        or os.path.join(ROOT, "build", "release", "almanac"))
    parser.add_argument("--duration", type=parse_duration, default=parse_duration("30m"))
    parser.add_argument("--rate", default="auto",
                        help="requests per second, or auto: half of the measured capacity")
    parser.add_argument("--measure", type=parse_duration, default=parse_duration("20s"),
                        help="how long --rate auto measures capacity")
    parser.add_argument("--warmup", type=parse_duration, default=None,
                        help="the warm-up, excluded from the growth rules (default: a fifth of "
                             "the duration, at least 10 s)")
    parser.add_argument("--workers", type=int, default=16, help="client connections")
    parser.add_argument("--sample-every", type=parse_duration, default=parse_duration("2s"))
    parser.add_argument("--rss-growth", type=float, default=0.10,
                        help="largest growth of the RSS floor after the warm-up (0.10: 10 %%)")
    parser.add_argument("--rss-window", type=int, default=5,
                        help="samples per RSS floor (the lowest RSS of the window)")
    parser.add_argument("--fd-slack", type=int, default=0,
                        help="non-socket descriptors allowed above the warm-up's")
    parser.add_argument("--wal-limit", type=parse_size, default=parse_size("64MiB"))
    parser.add_argument("--max-lag", type=parse_duration, default=parse_duration("5s"))
    parser.add_argument("--asan-quarantine-mb", type=int, default=None,
                        help="under ASan: cap the allocator's quarantine of freed memory (MiB) "
                             "so that it fills during the warm-up instead of looking like growth")
    parser.add_argument("--read-only", action="store_true",
                        help="reads and refreshes only (to tell a leak from a growing database)")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="an extra server argument (repeatable)")
    args = parser.parse_args()
    if args.warmup is None:
        args.warmup = max(10.0, args.duration / 5)
    if args.warmup >= args.duration:
        parser.error("--warmup must be shorter than --duration")

    os.environ["ALMANAC_BIN"] = os.path.abspath(args.binary)  # the server runs in its data dir
    env = {}
    if args.asan_quarantine_mb is not None:
        options = os.environ.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = ":".join(
            filter(None, [options, f"quarantine_size_mb={args.asan_quarantine_mb}"]))
    lifetime = f"{int(args.duration + args.measure + 3600)}s"
    # Warnings only: a request line per request would fill the disk over 30 minutes.
    server = harness.Server(extra_args=["--access-token-lifetime", lifetime, "--log-level", "warn"]
                            + args.server_arg,
                            env=env)
    try:
        server.start()
    except BaseException:
        server.cleanup()
        raise
    failures = []
    try:
        pid = server.process.pid
        wal_path = server.database.removeprefix("sqlite:") + "-wal"
        users = [User(*server.register()) for _ in range(USERS)]
        traffic = Traffic(users, read_only=args.read_only)
        seeding = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        traffic.seed(seeding, random.Random(0))
        seeding.close()

        rate = args.rate
        if rate == "auto":
            measured = Stats()
            drive(server.port, traffic, args.workers, args.measure, None, measured)
            capacity = measured.total() / args.measure
            rate = capacity / 2
            print(f"capacity: {capacity:.0f} requests/s over {args.measure:.0f} s "
                  f"({measured.error_count} errors); soaking at {rate:.0f}/s", flush=True)
            if measured.error_count:
                failures.append(f"{measured.error_count} errors while measuring: "
                                f"{measured.errors[:5]}")
        rate = float(rate)

        fds_before = fd_counts(pid)
        samples = []
        stats = Stats()
        start = time.monotonic()
        next_sample = [start]

        def tick():
            now = time.monotonic()
            if now >= next_sample[0]:
                samples.append(Sample(now - start, pid, wal_path))
                next_sample[0] = now + args.sample_every

        drive(server.port, traffic, args.workers, args.duration, rate, stats, on_tick=tick)
        elapsed = time.monotonic() - start
        samples.append(Sample(elapsed, pid, wal_path))

        # The clients closed their connections: the server's descriptors return to where they
        # were before the traffic (polled against a deadline).
        deadline = time.monotonic() + 10
        fds_after = fd_counts(pid)
        while sum(fds_after) > sum(fds_before) and time.monotonic() < deadline:
            time.sleep(0.05)  # polling /proc against the deadline
            fds_after = fd_counts(pid)

        warm = [s for s in samples if s.at >= args.warmup]
        if not warm:
            failures.append("no sample after the warm-up")
            warm = samples[-1:]
        baseline = warm[0]
        # RSS floors: a login's argon2id hash holds its 19 MiB only while it runs, so one sample
        # can land on a hash or not. The lowest RSS of each window of samples is what the server
        # keeps; a leak raises the floor, a hash in flight does not.
        windows = [warm[i:i + args.rss_window] for i in range(0, len(warm), args.rss_window)]
        if len(windows) > 1 and len(windows[-1]) < args.rss_window:
            windows[-2].extend(windows.pop())
        floors = [min(s.rss for s in window) for window in windows]
        growth = (max(floors) - floors[0]) / floors[0]
        peak_rss = max(s.rss for s in warm)
        peak_other = max(s.other_fds for s in warm)
        peak_sockets = max(s.sockets for s in samples)
        peak_wal = max(s.wal for s in samples)

        total = stats.total()
        print(f"soak: {total} requests in {elapsed:.0f} s ({total / elapsed:.1f}/s, target "
              f"{rate:.1f}/s), {stats.error_count} errors, max start lag {stats.max_lag:.2f} s")
        print(f"{'operation':14} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for op in sorted(stats.count):
            values = stats.latencies[op]
            print(f"{op:14} {stats.count[op]:7d} {percentile(values, 0.5) * 1000:8.1f} "
                  f"{percentile(values, 0.99) * 1000:8.1f} {max(values) * 1000:8.1f}")
        mib = 1 << 20
        print(f"RSS: {samples[0].rss / mib:.1f} MiB at start; after the {args.warmup:.0f} s "
              f"warm-up, floors per {args.rss_window} samples: "
              f"{' '.join(f'{f / mib:.1f}' for f in floors)} MiB (growth {growth * 100:+.1f} %, "
              f"limit {args.rss_growth * 100:.0f} %); highest sample {peak_rss / mib:.1f} MiB")
        print(f"descriptors: {sum(fds_before)} before the traffic, non-socket {baseline.other_fds} "
              f"after the warm-up and at most {peak_other} after it, sockets at most "
              f"{peak_sockets} (client connections: {args.workers}), {sum(fds_after)} after the "
              f"clients closed")
        print(f"WAL: at most {peak_wal / mib:.1f} MiB (limit {args.wal_limit / mib:.0f} MiB), "
              f"{samples[-1].wal / mib:.1f} MiB at the end; samples: {len(samples)}")

        if stats.error_count:
            failures.append(f"{stats.error_count} error responses; first: {stats.errors[:10]}")
        if stats.max_lag > args.max_lag:
            failures.append(f"the server fell behind the rate: a request started "
                            f"{stats.max_lag:.1f} s late (limit {args.max_lag:.1f} s)")
        if growth > args.rss_growth:
            failures.append(f"RSS grew {growth * 100:.1f} % after the warm-up")
        if peak_other > baseline.other_fds + args.fd_slack:
            failures.append(f"non-socket descriptors grew from {baseline.other_fds} to "
                            f"{peak_other}")
        if sum(fds_after) > sum(fds_before):
            failures.append(f"descriptors leaked: {sum(fds_before)} before the traffic, "
                            f"{sum(fds_after)} after the clients closed")
        if peak_wal > args.wal_limit:
            failures.append(f"the WAL reached {peak_wal} bytes")
    finally:
        try:
            server.stop()  # asserts exit code 0 (ASan: no leak report at exit)
        except harness.ServerError as error:
            failures.append(f"the server did not stop cleanly: {error}")
        if failures:
            print(server.log_tail(20), file=sys.stderr)
        server.cleanup()

    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    print("soak: FAILED" if failures else "soak: passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
