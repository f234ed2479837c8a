#!/usr/bin/python3
"""Almanac's load benchmark: wrk against Almanac and against an nginx reference, in one run.

    /usr/bin/python3 bench/run.py [--duration 10] [--connections 64] [--rounds 3] [--scenarios a,b]
                                  [--engine sqlite|postgresql|all] [--topology single|nginx2|all]
    /usr/bin/python3 bench/run.py --scale [--scale-events 1000,1000000] [--duration 10] [--rounds 3]

Python 3 standard library only. What it does, in order:
  1. installs Debian's nginx-light and wrk (and postgresql-15 for that engine) when missing
     (apt-get; silent when present);
  2. starts nginx as the reference (2 workers, `return 200 '{"ok":true}'`) on a loopback port it
     chose, from a generated nginx.conf in a temporary directory;
  3. starts what is measured, each configuration on a loopback port of its own, and seeds it
     (registers a user, keeps its tokens): the release binary (build/release/almanac) on a fresh
     temporary SQLite database; on the PostgreSQL engine, one instance on a fresh database of a
     throwaway PostgreSQL cluster started for the run with production-like durability
     (tools/pg-cluster.sh start DIR --durable); two instances on one such database behind nginx
     configured with deploy/nginx.conf (topology nginx2);
  4. for each scenario runs wrk, alternating the reference and each configuration (A B C A B C
     ...) for --rounds rounds, with the same Lua script (bench/wrk/) against each; samples
     Almanac's memory;
  5. prints a table per configuration, one comparing the configurations (req/s, ratio to SQLite
     single and to nginx), then one `BENCH {json}` line per scenario and configuration; exits 1
     when any response had an unexpected status (or wrk reported a socket error), 2 on a setup
     failure.
With --scale it runs only the scale measurement instead (run_scale): two SQLite servers seeded
with 1,000 and 1,000,000 events, the same get / list page / conflict check on both, alternated,
and the cost ratio between the sizes (issue 6, target 5).
Every process it starts (and the PostgreSQL cluster) is stopped on the way out, also on Ctrl-C,
SIGTERM or a failure. Traffic goes to 127.0.0.1 only; every load run is bounded by --duration (and
a hard timeout).

Adding a scenario: a Lua script in bench/wrk/ (method, body, expected status) and one Scenario(...)
line in SCENARIOS below; `seed` gives the script whatever the database must hold (see README.md).
"""

import argparse
import calendar
import dataclasses
import http.client
import json
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRK_DIR = os.path.join(ROOT, "bench", "wrk")
DEFAULT_BINARY = os.path.join(ROOT, "build", "release", "almanac")
PG_CLUSTER = os.path.join(ROOT, "tools", "pg-cluster.sh")
NGINX_SITE = os.path.join(ROOT, "deploy", "nginx.conf")

# What can be measured, in the order the tables show them: (engine, topology, reads). SQLite is
# one process's file: two instances behind nginx need the PostgreSQL engine. reads: where
# PostgreSQL's reads run (--database-reads), "pool" on the reader connections' threads (the
# default) or "inline" on the I/O thread; SQLite reads inline.
BASELINE = ("sqlite", "single", "inline")
CONFIGURATIONS = [BASELINE,
                  ("postgresql", "single", "pool"), ("postgresql", "single", "inline"),
                  ("postgresql", "nginx2", "pool"), ("postgresql", "nginx2", "inline")]
CONFIGURATION_TITLES = {BASELINE: "SQLite",
                        ("postgresql", "single", "pool"): "PostgreSQL",
                        ("postgresql", "single", "inline"): "PG inline reads",
                        ("postgresql", "nginx2", "pool"): "PG 2x nginx",
                        ("postgresql", "nginx2", "inline"): "PG 2x nginx inline"}

PORT_RANGE = (12000, 19999)  # below 32768, apart from the API tests' 20000-32767
READY_DEADLINE_S = 30.0
STOP_DEADLINE_S = 15.0
HTTP_TIMEOUT_S = 30.0
WRK_TIMEOUT = "5s"           # wrk's per-request timeout: slower answers count as errors
WRK_SLACK_S = 60.0           # a wrk run is killed if it outlives --duration by this much
RSS_SAMPLE_S = 0.05
HASH_SAMPLES = 5             # sequential logins timed to measure seconds per argon2id hash

ALMANAC_THREADS = 2          # I/O threads of Almanac ...
NGINX_WORKERS = 2            # ... and worker processes of nginx: the same, on this 2-core box

BENCH_USER = {"username": "benchuser", "email": "bench@example.com",
              "password": "Bench-password-1"}


# --- scenarios -----------------------------------------------------------------------------------

@dataclasses.dataclass
class Scenario:
    """One load scenario.

    name         the table's row name
    script       file in bench/wrk/: method and body of the request (its own expected status is
                 only the default for running wrk by hand: the runner passes `expect`)
    path         Almanac's path (the reference is always asked for `/`); `{NAME}` is replaced
                 by the script environment's NAME, e.g. "/api/events/{BENCH_EVENT_ID}/"
    expect       the status Almanac must answer (the reference always answers 200)
    connections  wrk -c for this scenario; None: the --connections flag
    seed         optional callable(seed: Seed) -> {env var: value} for the Lua script and the
                 path, run once before the scenario (create the rows it reads, pick ids, ...);
                 seed.port, seed.access, seed.refresh, seed.user_id and seed.request(...) help
    login_rate   True: also print logins/s next to cores / seconds-per-hash
    before_run   optional callable(seed: Seed, env) -> {env var: value}, run before each Almanac
                 run of the scenario (e.g. move the create scenario's time slots past the events
                 the previous round stored)
    items        events per request (a batch): also print items/s = items x req/s
    durability   the Almanac server that answers: "full" (the default server, fsync before every
                 acknowledgement) or "normal" (a second server started with --durability normal,
                 only when a selected scenario needs it; SQLite only: on PostgreSQL every commit
                 waits for its WAL flush, and the scenario is skipped)
    flood        True: no reference runs; the scenario's GET is measured alone and during a
                 login flood, at saturation and paced (run_login_flood)
    engines      the engines it runs on; the others skip it, logging `skip_reason`
    same_body    True: a second reference runs in the same rounds, nginx answering the bytes of
                 Almanac's own answer (fetched once after seeding): the cost of an HTTP exchange
                 of that size, the physical limit for this response (run_scenario)
    """
    name: str
    script: str
    path: str
    expect: int = 200
    connections: int | None = None
    seed: object = None
    login_rate: bool = False
    what: str = ""
    before_run: object = None
    items: int = 0
    durability: str = "full"
    flood: bool = False
    engines: tuple = ("sqlite", "postgresql")
    skip_reason: str = ""
    same_body: bool = False


LIST_USER_EVENTS = 10_000     # event_list: the user's events, stored by batches of ...
SEED_BATCH = 1_000            # ... this many (the default --max-batch)
CREATE_FIRST_SLOT = 4_102_444_800  # event_create: 2100-01-01 00:00:00 UTC, far from other events
CREATE_LAST_SLOT = 253_370_764_800 - 3600  # the last hour of 9999 (the API's latest time)
UPDATE_DAY = "2099-06-01"     # event_update: the day its two slots are on (no other event there)
HISTORY_VERSIONS = 10_000     # history, diff: the versions of their event (one create, PATCHes)
# Concurrent keep-alive connections sending those PATCHes, by engine. On PostgreSQL concurrent
# changes of one row are serialization failures that the store retries (at most 20 attempts); a
# steady stream of them starves the one that lost (8 and even 2 connections at once ended in a
# 500 after its 20 attempts on this box): one at a time there.
HISTORY_SEED_CLIENTS = {"sqlite": 8, "postgresql": 1}


def utc_text(seconds):
    """Unix seconds as the API prints times: "YYYY-MM-DD HH:MM:SS" (UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def utc_seconds(text):
    """The API's "YYYY-MM-DD HH:MM:SS" (UTC) as Unix seconds."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S"))


def realistic_events(count, rng, title="bench"):
    """`count` event bodies spread over 2024-2026, starting 07:00-19:45 on the quarter hour,
    30 min to 3 h long (they may overlap: the batch endpoint does not check by default)."""
    first_day = 1_704_067_200  # 2024-01-01 00:00:00 UTC
    events = []
    for i in range(count):
        start = first_day + rng.randrange(3 * 365 + 1) * 86400 + rng.randrange(28, 80) * 900
        events.append({"title": f"{title} {i}", "description": "Seeded by bench/run.py",
                       "start_time": utc_text(start),
                       "end_time": utc_text(start + rng.randrange(2, 13) * 900),
                       "location": rng.choice(["", "Zoom", "Room 4.12"])})
    return events


def seed_event_get(seed, day="2099-01-01"):
    """One event of the seeded user (on `day`), read back by id."""
    access = seed.fresh_access()
    status, body = seed.request("POST", "/api/events/", {
        "title": "bench get", "description": "The event GET /api/events/{id}/ reads",
        "start_time": f"{day} 09:00:00", "end_time": f"{day} 10:00:00",
        "location": "Room 1"}, token=access)
    if status != 201:
        raise SetupError(f"create answered {status}: {body!r}")
    return {"BENCH_EVENT_ID": str(body["event"]["id"]), "BENCH_ACCESS_TOKEN": access}


def seed_login_flood(seed):
    """As event_get's, on a day of its own (both may run on one database)."""
    return seed_event_get(seed, day="2099-02-01")


def seed_event_list(seed):
    """A user of its own with LIST_USER_EVENTS events, stored through the batch endpoint."""
    user = seed.add_user("bench-list")
    rng = random.Random(20250427)
    for first in range(0, LIST_USER_EVENTS, SEED_BATCH):
        status, body = seed.request("POST", "/api/events/batch/",
                                    realistic_events(SEED_BATCH, rng, f"list {first}"),
                                    token=user["access"])
        if status != 201 or body.get("errors"):
            raise SetupError(f"batch answered {status}: {str(body)[:500]}")
    status, body = seed.request("GET", "/api/events/?page=1&page_size=10", token=user["access"])
    if status != 200 or body.get("count") != LIST_USER_EVENTS:
        raise SetupError(f"list answered {status} with count {body.get('count')!r}, expected "
                         f"{LIST_USER_EVENTS}")
    return {"BENCH_ACCESS_TOKEN": user["access"]}


def seed_event_create(seed):
    """A user of its own, with nothing stored yet: its creates start at CREATE_FIRST_SLOT."""
    user = seed.add_user("bench-create")
    return {"BENCH_ACCESS_TOKEN": user["access"], "BENCH_SLOT_BASE": str(CREATE_FIRST_SLOT)}


def next_create_slot(seed, env):
    """The first whole hour after the latest event the create user holds, so that no round
    reuses a slot of an earlier one (each request is its own slot: a 409 would be a failure)."""
    status, body = seed.request("GET", "/api/events/?page=1&page_size=1&ordering=-end_time",
                                token=env["BENCH_ACCESS_TOKEN"])
    if status != 200:
        raise SetupError(f"list answered {status}: {body!r}")
    base = CREATE_FIRST_SLOT
    if body["results"]:
        latest = utc_seconds(body["results"][0]["end_time"])
        base = max(base, (latest // 3600 + 1) * 3600)
    if base > CREATE_LAST_SLOT - 10_000_000 * 3600:
        raise SetupError("event_create ran out of hours before year 9999; use fewer rounds or "
                         "a shorter --duration")
    return {"BENCH_SLOT_BASE": str(base)}


def seed_event_update(seed):
    """One event of the seeded user that the script moves between two slots of UPDATE_DAY."""
    access = seed.fresh_access()
    status, body = seed.request("POST", "/api/events/", {
        "title": "bench update", "start_time": f"{UPDATE_DAY} 10:00:00",
        "end_time": f"{UPDATE_DAY} 11:00:00"}, token=access)
    if status != 201:
        raise SetupError(f"create answered {status}: {body!r}")
    return {"BENCH_EVENT_ID": str(body["event"]["id"]), "BENCH_UPDATE_DAY": UPDATE_DAY,
            "BENCH_ACCESS_TOKEN": access}


def seed_history(seed):
    """A user of its own with one event of HISTORY_VERSIONS versions: a create, then PATCHes of
    its title (and every third one of its location), sent on HISTORY_SEED_CLIENTS keep-alive
    connections at once (each answered when durable; the writer commits them in groups). Shared
    by the history and diff scenarios: seeded once per run."""
    if seed.history_env is not None:
        return seed.history_env
    user = seed.add_user("bench-history")
    token = user["access"]
    status, body = seed.request("POST", "/api/events/", {
        "title": "bench history", "description": "The event whose history is read",
        "start_time": "2099-03-01 09:00:00", "end_time": "2099-03-01 10:00:00",
        "location": "Room 1"}, token=token)
    if status != 201:
        raise SetupError(f"create answered {status}: {body!r}")
    event_id = body["event"]["id"]
    began = time.monotonic()
    changes = iter(range(2, HISTORY_VERSIONS + 1))
    lock = threading.Lock()
    failures = []

    def send_patches():
        conn = http.client.HTTPConnection("127.0.0.1", seed.port, timeout=HTTP_TIMEOUT_S)
        try:
            while not failures:
                with lock:
                    n = next(changes, None)
                if n is None:
                    return
                patch = {"title": f"bench history (rev {n})"}
                if n % 3 == 0:
                    patch["location"] = ["Room 1", "Zoom", "Room 4.12"][n // 3 % 3]
                status, answer = http_request(seed.port, "PATCH", f"/api/events/{event_id}/",
                                              patch, token=token, connection=conn)
                if status != 200:
                    failures.append(f"PATCH answered {status}: {str(answer)[:300]}")
        except OSError as error:
            failures.append(f"PATCH failed: {error}")
        finally:
            conn.close()

    clients = [threading.Thread(target=send_patches)
               for _ in range(HISTORY_SEED_CLIENTS[seed.engine])]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    if failures:
        raise SetupError(failures[0])
    log(f"history: {HISTORY_VERSIONS - 1:,} PATCHes in {time.monotonic() - began:.1f} s "
        f"({HISTORY_SEED_CLIENTS[seed.engine]} connections, {seed.engine})")
    newest, oldest = None, None
    pages = (HISTORY_VERSIONS + 9) // 10
    for page in (1, pages):
        status, body = seed.request(
            "GET", f"/api/events/{event_id}/history/?page={page}&page_size=10", token=token)
        if status != 200 or body.get("count") != HISTORY_VERSIONS:
            raise SetupError(f"history page {page} answered {status} with count "
                             f"{body.get('count') if isinstance(body, dict) else body!r}, "
                             f"expected {HISTORY_VERSIONS}")
        ids = [entry["version_id"] for entry in body["results"]]
        if page == 1:
            newest = ids[0]
        else:
            oldest = ids[-1]
    # The diff compares the first version with the newest: the fields that differ between them.
    status, body = seed.request("GET", f"/api/events/{event_id}/diff/{oldest}/{newest}/",
                                token=token)
    if status != 200 or not body:
        raise SetupError(f"diff answered {status}: {body!r}")
    seed.history_env = {"BENCH_ACCESS_TOKEN": token, "BENCH_EVENT_ID": str(event_id),
                        "BENCH_VERSION_A": str(oldest), "BENCH_VERSION_B": str(newest)}
    return seed.history_env


def seed_batch(seed):
    """A user of its own, so that the millions of events the batches store stay out of the
    other scenarios' way."""
    return {"BENCH_ACCESS_TOKEN": seed.add_user("bench-batch")["access"]}


SCENARIOS = [
    Scenario("healthz", "healthz.lua", "/healthz",
             what="transport baseline: GET /healthz (one DB query)"),
    Scenario("refresh", "refresh.lua", "/api/auth/refresh/",
             what="JWT verify + DB read + JWT sign"),
    Scenario("login", "login.lua", "/api/auth/login/", connections=8, login_rate=True,
             what="argon2id verify on the hash pool + 2 JWT signs"),
    Scenario("event_get", "event_get.lua", "/api/events/{BENCH_EVENT_ID}/", seed=seed_event_get,
             same_body=True, what="authenticated point read of one event"),
    Scenario("event_list", "event_list.lua", "/api/events/?page=1&page_size=10",
             seed=seed_event_list, same_body=True,
             what=f"page 1 (10) and count of a user with {LIST_USER_EVENTS:,} events"),
    Scenario("event_create", "event_create.lua", "/api/events/", expect=201,
             seed=seed_event_create, before_run=next_create_slot,
             what="durable create with conflict check, each request a free slot"),
    Scenario("event_create_normal", "event_create.lua", "/api/events/", expect=201,
             seed=seed_event_create, before_run=next_create_slot, durability="normal",
             what="event_create on a server started with --durability normal (no fsync wait)"),
    Scenario("event_update", "event_update.lua", "/api/events/{BENCH_EVENT_ID}/",
             seed=seed_event_update,
             what="durable PUT moving one event between two slots (conflict check)"),
    Scenario("history", "history.lua",
             "/api/events/{BENCH_EVENT_ID}/history/?page=1&page_size=10", seed=seed_history,
             same_body=True,
             what=f"history page 1 (newest 10) and count of an event with {HISTORY_VERSIONS:,} "
                  "versions"),
    Scenario("diff", "diff.lua",
             "/api/events/{BENCH_EVENT_ID}/diff/{BENCH_VERSION_A}/{BENCH_VERSION_B}/",
             seed=seed_history, same_body=True,
             what=f"diff of the first and the newest of {HISTORY_VERSIONS:,} versions"),
    Scenario("login_flood", "event_get.lua", "/api/events/{BENCH_EVENT_ID}/",
             seed=seed_login_flood, flood=True, engines=("sqlite",),
             skip_reason="it measures the hashing pool's isolation from the I/O threads, which "
                         "does not depend on the engine (SQLite only, to keep the run short)",
             what="event_get alone and during a login flood (-c8 logins), saturated and paced"),
    Scenario("batch_1000", "batch_1000.lua", "/api/events/batch/", expect=201, connections=4,
             seed=seed_batch, items=1000,
             what="1,000 events validated and stored in one transaction"),
]


# --- small helpers -------------------------------------------------------------------------------

class SetupError(Exception):
    """The benchmark could not be set up (exit status 2)."""


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def pick_free_port(taken=()):
    for _ in range(500):
        port = random.randint(*PORT_RANGE)
        if port in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise SetupError(f"no free port in {PORT_RANGE}")


def tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def ensure_debian_packages(packages):
    """Installs the Debian packages that are missing; says nothing when all are present."""
    missing = []
    for package in packages:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                                capture_output=True, text=True).stdout
        if status != "install ok installed":
            missing.append(package)
    if not missing:
        return
    prefix = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            raise SetupError(f"missing Debian packages {missing}: run as root, or install them")
        prefix = ["sudo"]
    log(f"installing Debian packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]):
        done = subprocess.run(prefix + command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise SetupError(f"{' '.join(command)} failed:\n{done.stderr}")


def http_request(port, method, path, body=None, token=None, connection=None):
    """One request to 127.0.0.1:port; returns (status, parsed JSON or raw bytes)."""
    status, raw = http_exchange(port, method, path, body, token, connection)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw


def http_exchange(port, method, path, body=None, token=None, connection=None):
    """One request to 127.0.0.1:port; returns (status, the body's bytes as sent)."""
    own = connection is None
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT_S)
    try:
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


def wait_ready(port, path, process, log_path, expect_status):
    deadline = time.monotonic() + READY_DEADLINE_S
    last = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SetupError(f"process exited with status {process.returncode} before answering "
                             f"on port {port}:\n{tail(log_path)}")
        try:
            status, _ = http_request(port, "GET", path)
            if status == expect_status:
                return
            last = f"status {status}"
        except OSError as error:
            last = str(error)
        time.sleep(0.05)
    raise SetupError(f"nothing answered {expect_status} on 127.0.0.1:{port}{path} within "
                     f"{READY_DEADLINE_S:.0f}s (last: {last}):\n{tail(log_path)}")


# --- the processes we start ----------------------------------------------------------------------

class Child:
    """A process we started in its own session (process group); stop() ends it and its group."""

    def __init__(self, name, argv, log_path, env=None, stop_signal=signal.SIGTERM, cwd=None):
        self.name = name
        self.log_path = log_path
        self.stop_signal = stop_signal
        with open(log_path, "ab") as out:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=subprocess.STDOUT, env=env,
                                            start_new_session=True, cwd=cwd)
        self.pid = self.process.pid

    def stop(self):
        if self.process.poll() is None:
            try:
                os.kill(self.pid, self.stop_signal)
                self.process.wait(timeout=STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                log(f"{self.name} (pid {self.pid}) ignored {self.stop_signal.name}; killing it")
            except ProcessLookupError:
                pass
        # Whatever is left of its process group (nginx workers after a killed master).
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.process.poll() is None:
            self.process.wait(timeout=STOP_DEADLINE_S)


NGINX_CONF = """\
# Generated by bench/run.py: a reference, one HTTP exchange answering a fixed body (the trivial
# {{"ok":true}}, or the bytes of one of Almanac's answers). Deleted after the run.
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    # Like Almanac, never close a keep-alive connection after N requests (nginx's default is
    # 1000), so that both are measured on the same open connections.
    keepalive_requests 1000000000;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            default_type application/json;
{answer}
        }}
    }}
}}
"""


TRIVIAL_BODY = b'{"ok":true}'


NGINX_TOKEN_BYTES = 3000  # nginx reads a configuration token into a 4 kB buffer


def nginx_answer(body):
    """The directives of a location answering `body` (bytes) with a 200, or None if nginx would
    read part of it as a variable (a '$'). A body that fits in one token is a literal: nginx
    copies it as it is (measured here: 0.91 of the trivial answer's req/s for a 2 kB page,
    against 0.8 from a cached static file and 0.6 with sendfile); a longer one is cut into
    variables, joined per request."""
    text = body.decode("utf-8")
    if "$" in text:
        return None
    chunks, size = [""], 0
    for char in text:
        escaped = "\\" + char if char in "\\'" else char
        if size + len(escaped.encode()) > NGINX_TOKEN_BYTES:
            chunks.append("")
            size = 0
        chunks[-1] += escaped
        size += len(escaped.encode())
    quoted = [f"'{chunk}'" for chunk in chunks]
    indent = " " * 12
    if len(quoted) == 1:
        return f"{indent}return 200 {quoted[0]};"
    lines = [f"{indent}set $body{i} {q};" for i, q in enumerate(quoted)]
    joined = "".join(f"$body{i}" for i in range(len(quoted)))
    return "\n".join(lines + [f'{indent}return 200 "{joined}";'])


def start_nginx(workdir, port, body=TRIVIAL_BODY, name="nginx"):
    """nginx answering `body` (bytes without a '$') with a 200 to every request on `port`."""
    nginx_dir = os.path.join(workdir, name)
    os.makedirs(nginx_dir)
    os.chmod(workdir, 0o755)  # nginx's workers run as nobody
    os.chmod(nginx_dir, 0o755)
    conf = os.path.join(nginx_dir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(workers=NGINX_WORKERS, dir=nginx_dir, port=port,
                                  answer=nginx_answer(body)))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    argv = [nginx, "-c", conf, "-p", nginx_dir, "-e", os.path.join(nginx_dir, "error.log"),
            "-g", "daemon off;"]
    check = subprocess.run(argv[:-2] + ["-t", "-q"], capture_output=True, text=True)
    if check.returncode != 0:
        raise SetupError(f"nginx -t refused the generated {conf}:\n{check.stderr}")
    child = Child(name, argv, os.path.join(nginx_dir, "stdout.log"))
    try:
        wait_ready(port, "/", child.process, os.path.join(nginx_dir, "error.log"), 200)
    except BaseException:
        child.stop()
        raise
    return child


def start_almanac(binary, workdir, port, name, database=None, durability="full",
                  jwt_secret=None, extra_args=()):
    """One Almanac instance on 127.0.0.1:port; `database` None: a fresh SQLite file in a
    directory of its own (named `name`), else a postgresql:// URL."""
    data_dir = os.path.join(workdir, name)
    os.makedirs(data_dir, mode=0o700)
    argv = [binary, "serve", "--listen", f"127.0.0.1:{port}",
            "--database", database or f"sqlite:{data_dir}/almanac.db",
            "--jwt-secret", jwt_secret or secrets.token_hex(32), "--log-level", "warn",
            "--threads", str(ALMANAC_THREADS), "--durability", durability,
            # The load scenarios register and log in many users from one address as fast as
            # they can: the limits would answer 429 instead of measuring the server.
            "--rate-limits", "off", *extra_args]
    # A developer's ALMANAC_* variables must not change what is measured.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALMANAC_")}
    log_path = os.path.join(data_dir, "almanac.log")
    child = Child(f"almanac ({name})", argv, log_path, env=env, cwd=data_dir)
    wait_ready(port, "/healthz", child.process, log_path, 200)
    return child


FRONT_MAIN_CONF = """\
# Generated by bench/run.py: nginx in front of two Almanac instances, serving deploy/nginx.conf
# (included below with its addresses replaced). Deleted after the run.
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    # As the reference does: never close wrk's keep-alive connections mid-run (the site does not
    # set it; nginx's default is 1000). The upstream side keeps deploy/nginx.conf's settings.
    keepalive_requests 1000000000;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/almanac.conf;
}}
"""


def front_site(port, upstream_ports, access_log):
    """deploy/nginx.conf with the run's addresses (as tests/multi/test_two_instances.py does);
    fails when the file changed shape."""
    with open(NGINX_SITE, encoding="utf-8") as f:
        text = f.read()
    replacements = [
        (r"server 127\.0\.0\.1:8001\b", f"server 127.0.0.1:{upstream_ports[0]}"),
        (r"server 127\.0\.0\.1:8002\b", f"server 127.0.0.1:{upstream_ports[1]}"),
        (r"listen 80;", f"listen 127.0.0.1:{port};"),
        (r"access_log /var/log/nginx/almanac\.access\.log", f"access_log {access_log}"),
    ]
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text)
        if count != 1:
            raise SetupError(f"{NGINX_SITE}: expected one match of {pattern!r}, found {count}")
    return text


def start_front(workdir, name, port, upstream_ports):
    """nginx (worker_processes NGINX_WORKERS, like the reference) serving deploy/nginx.conf in
    front of the instances on `upstream_ports`, with its access log on (as deployed)."""
    nginx_dir = os.path.join(workdir, name)
    os.makedirs(nginx_dir)
    os.chmod(workdir, 0o755)  # nginx's workers run as nobody
    os.chmod(nginx_dir, 0o755)
    with open(os.path.join(nginx_dir, "almanac.conf"), "w") as f:
        f.write(front_site(port, upstream_ports, os.path.join(nginx_dir, "access.log")))
    conf = os.path.join(nginx_dir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(FRONT_MAIN_CONF.format(workers=NGINX_WORKERS, dir=nginx_dir))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    argv = [nginx, "-c", conf, "-p", nginx_dir, "-e", os.path.join(nginx_dir, "error.log"),
            "-g", "daemon off;"]
    check = subprocess.run(argv[:-2] + ["-t", "-q"], capture_output=True, text=True)
    if check.returncode != 0:
        raise SetupError(f"nginx -t refused the generated {conf}:\n{check.stderr}")
    child = Child(f"nginx ({name})", argv, os.path.join(nginx_dir, "stdout.log"))
    wait_ready(port, "/healthz", child.process, os.path.join(nginx_dir, "error.log"), 200)
    return child


class PgCluster:
    """A throwaway PostgreSQL cluster (tools/pg-cluster.sh start DIR --durable: fsync on,
    synchronous_commit on, full_page_writes on), stopped and deleted by stop()."""

    name = "postgresql cluster"
    pid = None

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "pg")
        self.started = False
        self.url = self.settings = self.data_dir = None
        self.via_port = None  # Almanac connects through this port (a latency proxy) when set

    def start(self):
        os.makedirs(self.dir)
        self.started = True  # from here on stop() undoes whatever start got to
        done = subprocess.run([PG_CLUSTER, "start", self.dir, "--durable"],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              start_new_session=True, timeout=300)
        if done.returncode != 0:
            raise SetupError(f"tools/pg-cluster.sh start failed:\n{done.stdout}{done.stderr}")
        with open(os.path.join(self.dir, "url")) as f:
            self.url = f.read().strip()
        with open(os.path.join(self.dir, "settings")) as f:
            self.settings = f.read().strip()
        with open(os.path.join(self.dir, "data_dir")) as f:
            self.data_dir = f.read().strip()

    def create_database(self, name):
        """A fresh database on the cluster; returns its URL."""
        psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
        done = subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url,
                               "-c", f"CREATE DATABASE {name}"], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise SetupError(f"CREATE DATABASE {name} failed:\n{done.stderr}")
        url = self.url.rsplit("/", 1)[0] + "/" + name
        if self.via_port is not None:
            url = re.sub(r":\d+/", f":{self.via_port}/", url, count=1)
        return url

    @property
    def port(self):
        return int(re.search(r":(\d+)/", self.url).group(1))

    def stop(self):
        if self.started:
            self.started = False
            if self.data_dir:  # the server's log, for a run that keeps its logs
                try:
                    shutil.copy(os.path.join(self.data_dir, "server.log"), self.dir)
                except OSError:
                    pass
            subprocess.run([PG_CLUSTER, "stop", self.dir], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=120)


LATENCY_PROXY = os.path.join(ROOT, "build", "release", "bench", "latency_proxy")


def start_latency_proxy(workdir, cluster, ports, rtt_ms):
    """bench/latency_proxy.cpp between Almanac and the cluster, adding rtt_ms to every round
    trip (half each way); the cluster's URLs then name its port."""
    if not os.access(LATENCY_PROXY, os.X_OK):
        raise SetupError(f"{LATENCY_PROXY} is missing: cmake --preset release -DALMANAC_BENCH=ON "
                         "&& cmake --build --preset release --target latency_proxy")
    port = pick_free_port(taken=ports)
    ports.add(port)
    log_path = os.path.join(workdir, "latency-proxy.log")
    one_way_us = int(round(rtt_ms * 1000 / 2))
    child = Child("latency proxy", [LATENCY_PROXY, str(port), "127.0.0.1", str(cluster.port),
                                    str(one_way_us)], log_path)
    deadline = time.monotonic() + READY_DEADLINE_S
    while "ready" not in tail(log_path):
        if child.process.poll() is not None or time.monotonic() > deadline:
            child.stop()
            raise SetupError(f"the latency proxy did not start:\n{tail(log_path)}")
        time.sleep(0.05)
    cluster.via_port = port
    return child


def filesystem_type(path):
    """`stat -f` of path's filesystem (ext2/ext3 for ext4, tmpfs...): whether an fsync there
    reaches a disk."""
    done = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


@dataclasses.dataclass
class Target:
    """One configuration under test, at one durability: the port wrk loads, the Almanac
    processes behind it (one, or two behind a front nginx) and the seeded user."""
    engine: str
    topology: str
    reads: str
    port: int
    instances: list
    seed: object = None
    front: object = None
    idle_rss_kb: int = 0

    @property
    def key(self):
        return (self.engine, self.topology, self.reads)

    @property
    def label(self):
        label = self.engine if self.topology == "single" else f"{self.engine}-{self.topology}"
        if self.engine == "sqlite" or self.reads == "pool":
            return label
        return f"{label}-inline-reads"

    def check_alive(self, during):
        for child in self.instances + ([self.front] if self.front else []):
            if child.process.poll() is not None:
                raise SetupError(f"{child.name} exited with {child.process.returncode} during "
                                 f"{during}:\n{tail(child.log_path)}")


# --- memory --------------------------------------------------------------------------------------

def proc_status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss(pid):
    """Resets VmHWM to the current RSS (Linux: writing 5 to clear_refs); False when refused."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class RssSampler:
    """Samples VmRSS every RSS_SAMPLE_S while running; `peak_kb` is the largest seen (the sum over
    `pids`: the instances of one configuration), together with VmHWM when it could be reset at
    start (so it covers spikes between samples; with several processes the sum of their peaks,
    an upper bound)."""

    def __init__(self, pids):
        self.pids = list(pids)
        self.peak_kb = 0
        self._stop = threading.Event()
        self._hwm_reset = all([reset_peak_rss(pid) for pid in self.pids])
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            rss = sum(proc_status_kb(pid, "VmRSS") or 0 for pid in self.pids)
            if rss:
                self.peak_kb = max(self.peak_kb, rss)
            self._stop.wait(RSS_SAMPLE_S)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        if self._hwm_reset:
            self.peak_kb = max(self.peak_kb,
                               sum(proc_status_kb(pid, "VmHWM") or 0 for pid in self.pids))
        return False


# --- seeding -------------------------------------------------------------------------------------

class Seed:
    """What the fresh database holds for the scripts: the seeded user and its tokens."""

    def __init__(self, port, engine="sqlite"):
        self.port = port
        self.engine = engine
        status, body = http_request(port, "POST", "/api/auth/register/", BENCH_USER)
        if status != 201:
            raise SetupError(f"register answered {status}: {body!r}")
        self.user_id = body["user"]["id"]
        self.access = body["access"]
        self.refresh = body["refresh"]
        self.history_env = None  # seed_history's event, shared by the history and diff scenarios
        # Check the refresh scenario's request once before loading it.
        status, body = http_request(port, "POST", "/api/auth/refresh/", {"refresh": self.refresh})
        if status != 200:
            raise SetupError(f"refresh answered {status}: {body!r}")

    def add_user(self, username):
        """Registers another user (for a scenario that needs its own data); returns
        {"id", "access", "refresh"}."""
        status, body = http_request(self.port, "POST", "/api/auth/register/", {
            "username": username, "email": f"{username}@example.com",
            "password": BENCH_USER["password"]})
        if status != 201:
            raise SetupError(f"register {username} answered {status}: {body!r}")
        return {"id": body["user"]["id"], "access": body["access"], "refresh": body["refresh"]}

    def fresh_access(self):
        """A new access token of the seeded user (a login), for a scenario that starts long
        after the run did (access tokens live 15 minutes)."""
        status, body = http_request(self.port, "POST", "/api/auth/login/", {
            "username": BENCH_USER["username"], "password": BENCH_USER["password"]})
        if status != 200:
            raise SetupError(f"login answered {status}: {body!r}")
        return body["access"]

    def request(self, method, path, body=None, token=None):
        """One request to Almanac as the seeded user (token: the access token unless given);
        returns (status, parsed JSON body)."""
        return http_request(self.port, method, path, body, token=token or self.access)

    def env(self):
        return {"BENCH_ACCESS_TOKEN": self.access, "BENCH_REFRESH_TOKEN": self.refresh,
                "BENCH_USERNAME": BENCH_USER["username"], "BENCH_PASSWORD": BENCH_USER["password"]}

    def seconds_per_hash(self, samples=HASH_SAMPLES):
        """Median wall time of `samples` sequential logins on one idle keep-alive connection:
        one argon2id verification each, plus an HTTP exchange that is negligible beside it."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT_S)
        body = {"username": BENCH_USER["username"], "password": BENCH_USER["password"]}
        times = []
        try:
            http_request(self.port, "POST", "/api/auth/login/", body, connection=conn)  # warm
            for _ in range(samples):
                start = time.perf_counter()
                status, answer = http_request(self.port, "POST", "/api/auth/login/", body,
                                              connection=conn)
                times.append(time.perf_counter() - start)
                if status != 200:
                    raise SetupError(f"login answered {status}: {answer!r}")
        finally:
            conn.close()
        return statistics.median(times)


# --- wrk -----------------------------------------------------------------------------------------

@dataclasses.dataclass
class WrkRun:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    unexpected: int
    errors: int
    statuses: dict
    peak_rss_kb: int | None = None


class WrkProcess:
    """One wrk run in the background (start_wrk); finish() waits for it and reads its result."""

    def __init__(self, argv, process, result_path, output_path, duration):
        self.argv = argv
        self.process = process
        self.result_path = result_path
        self.output_path = output_path
        self.duration = duration

    def finish(self):
        """Waits for wrk (killing it past duration + WRK_SLACK_S); returns its WrkRun."""
        try:
            self.process.wait(timeout=self.duration + WRK_SLACK_S)
        finally:
            self.kill()
        if self.process.returncode != 0 or not os.path.exists(self.result_path):
            raise SetupError(f"wrk ({' '.join(self.argv)}) exited with "
                             f"{self.process.returncode} and no result:\n{tail(self.output_path)}")
        with open(self.result_path) as f:
            result = json.load(f)
        errors = result["errors"]
        socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
        latency = result["latency_us"]["percentiles"]
        return WrkRun(rps=result["requests"] / (result["duration_us"] / 1e6),
                      p50_ms=latency["50"] / 1000.0, p99_ms=latency["99"] / 1000.0,
                      requests=result["requests"], unexpected=result["unexpected"],
                      errors=socket_errors, statuses=result["statuses"])

    def kill(self):
        """Ends wrk's process group if it still runs (on every way out)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start_wrk(args, workdir, label, port, path, script, connections, env, expect=None,
              duration=None, timeout=WRK_TIMEOUT):
    """Starts wrk against 127.0.0.1:port+path for `duration` seconds (--duration by default),
    counting answers slower than `timeout` as errors; returns a WrkProcess."""
    duration = duration or args.duration
    result_path = os.path.join(workdir, f"wrk-{label}.json")
    output_path = os.path.join(workdir, f"wrk-{label}.out")
    if os.path.exists(result_path):
        os.unlink(result_path)
    argv = ["wrk", f"-t{args.wrk_threads}", f"-c{connections}", f"-d{duration}s",
            "--timeout", timeout, "-s", os.path.join(WRK_DIR, script),
            f"http://127.0.0.1:{port}{path}"]
    run_env = dict(os.environ, **env, BENCH_RESULT=result_path,
                   BENCH_WRK_THREADS=str(args.wrk_threads))
    if expect is not None:
        run_env["BENCH_EXPECT"] = str(expect)
    else:
        run_env.pop("BENCH_EXPECT", None)
    with open(output_path, "wb") as out:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, env=run_env, start_new_session=True)
    return WrkProcess(argv, process, result_path, output_path, duration)


def run_wrk(args, workdir, label, port, path, script, connections, env, expect=None):
    """One wrk run of --duration seconds; returns its WrkRun."""
    return start_wrk(args, workdir, label, port, path, script, connections, env,
                     expect).finish()


# --- the run -------------------------------------------------------------------------------------

def median(values):
    return statistics.median(values) if values else float("nan")


def summarize(runs):
    return {
        "rps_median": round(median([r.rps for r in runs]), 1),
        "p50_ms": round(median([r.p50_ms for r in runs]), 3),
        "p99_ms": round(median([r.p99_ms for r in runs]), 3),
        "rps": [round(r.rps, 1) for r in runs],
        "requests": sum(r.requests for r in runs),
        "unexpected": sum(r.unexpected for r in runs),
        "socket_errors": sum(r.errors for r in runs),
        "statuses": merge_statuses(runs),
    }


def merge_statuses(runs):
    merged = {}
    for run in runs:
        for status, count in run.statuses.items():
            merged[status] = merged.get(status, 0) + count
    return merged


def start_same_body(workdir, scenario, target, path, env, reference_port):
    """The same-body reference of `scenario` (Scenario.same_body): nginx on a port of its own,
    answering the body of Almanac's answer to `path` as the seeded user. Returns (port, child,
    body), or None (logged) when nginx cannot answer that body."""
    status, body = http_exchange(target.port, "GET", path, token=env.get("BENCH_ACCESS_TOKEN"))
    if status != 200:
        raise SetupError(f"{scenario.name}: GET {path} answered {status}: {body[:200]!r}")
    if nginx_answer(body) is None:
        log(f"{scenario.name}: no same-body reference: its answer holds a '$' (an nginx variable)")
        return None
    port = pick_free_port(taken={reference_port, target.port})
    log(f"{scenario.name}: same-body reference: nginx answering its {len(body):,} bytes")
    child = start_nginx(workdir, port, body, name=f"nginx-{scenario.name}")
    # The escaping above is the runner's: check that nginx answers exactly those bytes.
    _, echoed = http_exchange(port, "GET", "/")
    if echoed != body:
        child.stop()
        raise SetupError(f"{scenario.name}: the same-body nginx answered {len(echoed):,} bytes "
                         f"that differ from Almanac's {len(body):,}")
    return port, child, body


def run_rounds(args, workdir, scenario, connections, targets, envs, paths, reference_port,
               reference_env, same):
    """The wrk runs of `scenario`, alternated in each round: the reference, the same-body
    reference if any, then each target. Returns (reference runs, same-body runs, {target key:
    runs})."""
    reference, same_runs, ours = [], [], {target.key: [] for target in targets}
    for round_number in range(1, args.rounds + 1):
        log(f"{scenario.name}: round {round_number}/{args.rounds}: nginx")
        reference.append(run_wrk(args, workdir, f"{scenario.name}-{round_number}-nginx",
                                 reference_port, "/", scenario.script, connections,
                                 reference_env, expect=200))
        if same is not None:
            log(f"{scenario.name}: round {round_number}/{args.rounds}: nginx, same body")
            same_runs.append(run_wrk(args, workdir, f"{scenario.name}-{round_number}-nginx-same",
                                     same[0], "/", scenario.script, connections, reference_env,
                                     expect=200))
        for target in targets:
            log(f"{scenario.name}: round {round_number}/{args.rounds}: almanac {target.label}")
            env = envs[target.key]
            if scenario.before_run is not None:
                env.update(scenario.before_run(target.seed, env))
            with RssSampler(child.pid for child in target.instances) as sampler:
                run = run_wrk(args, workdir,
                              f"{scenario.name}-{round_number}-{target.label}",
                              target.port, paths[target.key], scenario.script, connections,
                              env, expect=scenario.expect)
            run.peak_rss_kb = sampler.peak_kb
            ours[target.key].append(run)
            target.check_alive(scenario.name)
    return reference, same_runs, ours


def run_scenario(args, workdir, scenario, reference_port, configurations):
    """Runs `scenario` against nginx and each configuration that can answer it, alternated
    within each round (reference, same-body reference if any, then each configuration in
    CONFIGURATIONS order).
    `configurations` maps (engine, topology) to {durability: Target}. Returns one result per
    configuration that ran it."""
    connections = scenario.connections or args.connections
    targets = [servers[scenario.durability] for servers in configurations.values()
               if scenario.durability in servers]
    skipped = [t.label for t in targets if t.engine not in scenario.engines]
    if skipped:
        log(f"{scenario.name}: skipped on {', '.join(skipped)}: {scenario.skip_reason}")
    targets = [t for t in targets if t.engine in scenario.engines]
    if not targets:
        return []
    if scenario.flood:
        return run_login_flood(args, workdir, scenario, targets)
    envs, paths, results = {}, {}, {}
    for target in targets:
        env = target.seed.env()
        if scenario.seed is not None:
            log(f"{scenario.name}: seeding {target.label}")
            env.update(scenario.seed(target.seed))
        envs[target.key] = env
        paths[target.key] = scenario.path.format_map(env)  # "/api/events/{BENCH_EVENT_ID}/"
        result = {"scenario": scenario.name, "path": paths[target.key],
                  "connections": connections, "measures": scenario.what,
                  "engine": target.engine, "topology": target.topology,
                  "reads": target.reads,
                  "configuration": target.label}
        if scenario.login_rate:
            result["seconds_per_hash"] = target.seed.seconds_per_hash()
        results[target.key] = result
    # The reference gets the first target's environment (its token); it ignores it anyway.
    reference_env = envs[targets[0].key]
    same = None  # the same-body reference: (port, child, body bytes), or None
    if scenario.same_body:
        same = start_same_body(workdir, scenario, targets[0], paths[targets[0].key],
                               reference_env, reference_port)
    try:
        reference, same_runs, ours = run_rounds(args, workdir, scenario, connections, targets,
                                                envs, paths, reference_port, reference_env,
                                                same)
    finally:
        if same is not None:
            same[1].stop()
    nginx = summarize(reference)
    for target in targets:
        result = results[target.key]
        if same is not None:
            result["same_body_bytes"] = len(same[2])
            result["nginx_same_body"] = summarize(same_runs)
            result["ratio_same_body"] = round(
                summarize(ours[target.key])["rps_median"]
                / result["nginx_same_body"]["rps_median"], 3)
        result["almanac"] = summarize(ours[target.key])
        result["nginx"] = nginx
        result["ratio"] = round(result["almanac"]["rps_median"] / nginx["rps_median"], 3)
        result["rss_peak_kb"] = max(r.peak_rss_kb or 0 for r in ours[target.key])
        if scenario.items:
            result["items_per_request"] = scenario.items
            result["items_per_s"] = round(scenario.items * result["almanac"]["rps_median"], 1)
        if scenario.login_rate:
            cores = os.cpu_count() or 1
            theoretical = cores / result["seconds_per_hash"]
            result["cores"] = cores
            result["seconds_per_hash"] = round(result["seconds_per_hash"], 5)
            result["logins_per_s_theoretical"] = round(theoretical, 1)
            result["login_efficiency"] = round(result["almanac"]["rps_median"] / theoretical, 3)
        result["ok"] = all(side["unexpected"] == 0 and side["socket_errors"] == 0
                           for side in (result["almanac"], result["nginx"],
                                        result.get("nginx_same_body", result["nginx"])))
    baseline = results.get(BASELINE)
    for key, result in results.items():
        if baseline is not None and key != BASELINE:
            result["ratio_to_sqlite"] = round(
                result["almanac"]["rps_median"] / baseline["almanac"]["rps_median"], 3)
    return list(results.values())


# login_flood: the GET measured alone and during a flood of logins, in two loads.
FLOOD_LOGIN_SCRIPT = "login.lua"
FLOOD_LOGIN_PATH = "/api/auth/login/"
FLOOD_LOGIN_CONNECTIONS = 8  # as the login scenario; far below --hash-queue (64): never a 503
FLOOD_LEAD_S = 1             # the flood starts this long before the GET run and ends as long after
# The flood's wrk counts no login as timed out within its run: when the GET load keeps the cores
# busy, the hashing (at the lowest priority) gets only what is left, and a login taking seconds
# is the design, not an error (its latency is in the result).
FLOOD_SETTLE_S = 1.0         # after a flood, the hashes still in flight finish before the next run
PACED_CONNECTIONS = 8        # the paced load: 8 connections, each pausing ...
PACE_MS = 2                  # ... this long after every answer (about 3,000 requests a second)
FLOOD_TARGET_P99_RATIO = 2.0  # issue 6, target 7: p99 during the flood <= 2 x p99 alone
# (name, wrk -c, script, extra environment); the target is judged on the paced load.
FLOOD_LOADS = (("saturated", None, "event_get.lua", {}),
               ("paced", PACED_CONNECTIONS, "event_get_paced.lua",
                {"BENCH_PACE_MS": str(PACE_MS)}))


def run_login_flood(args, workdir, scenario, targets):
    """The login_flood scenario (README.md): for each load of FLOOD_LOADS, GET alone and GET
    while a second wrk floods POST /api/auth/login/ at -c8 (started FLOOD_LEAD_S before the GET
    run, ending as long after it). Alone and flood alternate within each round, in the other
    order every other round (A B, B A, ...), so that a drift of the box's load hits both; with
    several targets, each takes its turn within each step of a round."""
    envs, paths, runs, peak_rss = {}, {}, {}, {}
    for target in targets:
        log(f"{scenario.name}: seeding {target.label}")
        env = target.seed.env()
        env.update(scenario.seed(target.seed))
        envs[target.key], paths[target.key] = env, scenario.path.format_map(env)
        runs[target.key] = {(load[0], part): [] for load in FLOOD_LOADS
                            for part in ("unloaded", "flood", "logins")}
        peak_rss[target.key] = 0
    for round_number in range(1, args.rounds + 1):
        order = ("unloaded", "flood") if round_number % 2 else ("flood", "unloaded")
        for load, load_connections, script, load_env in FLOOD_LOADS:
            connections = load_connections or scenario.connections or args.connections
            for part in order:
                for target in targets:
                    mine = runs[target.key]
                    label = f"{scenario.name}-{round_number}-{target.label}-{load}-{part}"
                    log(f"{scenario.name}: round {round_number}/{args.rounds}: almanac "
                        f"{target.label}, {load} GET -c{connections}, "
                        f"{'during a login flood' if part == 'flood' else 'alone'}")
                    flood = None
                    try:
                        with RssSampler(child.pid for child in target.instances) as sampler:
                            if part == "flood":
                                flood = start_wrk(
                                    args, workdir, label + "-logins", target.port,
                                    FLOOD_LOGIN_PATH, FLOOD_LOGIN_SCRIPT, FLOOD_LOGIN_CONNECTIONS,
                                    target.seed.env(), expect=200,
                                    duration=args.duration + 2 * FLOOD_LEAD_S,
                                    timeout=f"{args.duration + 2 * FLOOD_LEAD_S}s")
                                time.sleep(FLOOD_LEAD_S)
                            run = run_wrk(args, workdir, label, target.port, paths[target.key],
                                          script, connections,
                                          dict(envs[target.key], **load_env), expect=200)
                            if flood is not None:
                                mine[(load, "logins")].append(flood.finish())
                    finally:
                        if flood is not None:
                            flood.kill()
                    peak_rss[target.key] = max(peak_rss[target.key], sampler.peak_kb)
                    mine[(load, part)].append(run)
                    target.check_alive(scenario.name)
                    if part == "flood":
                        time.sleep(FLOOD_SETTLE_S)
    results = []
    for target in targets:
        result = {"scenario": scenario.name, "path": paths[target.key],
                  "measures": scenario.what, "engine": target.engine,
                  "topology": target.topology, "reads": target.reads,
                  "configuration": target.label, "login_path": FLOOD_LOGIN_PATH,
                  "login_connections": FLOOD_LOGIN_CONNECTIONS, "flood_lead_s": FLOOD_LEAD_S,
                  "target_p99_ratio": FLOOD_TARGET_P99_RATIO,
                  "rss_peak_kb": peak_rss[target.key], "nginx": None, "ratio": None}
        for load, load_connections, _, _ in FLOOD_LOADS:
            unloaded = runs[target.key][(load, "unloaded")]
            flood = runs[target.key][(load, "flood")]
            part = {"connections": load_connections or scenario.connections or args.connections,
                    "unloaded": summarize(unloaded), "flood": summarize(flood),
                    "logins": summarize(runs[target.key][(load, "logins")])}
            part["p99_ratio"] = round(part["flood"]["p99_ms"] / part["unloaded"]["p99_ms"], 3)
            part["p99_ratios"] = [round(f.p99_ms / u.p99_ms, 3)
                                  for u, f in zip(unloaded, flood)]
            part["rps_ratio"] = round(part["flood"]["rps_median"]
                                      / part["unloaded"]["rps_median"], 3)
            if load == "paced":
                part["pace_ms"] = PACE_MS
            result[load] = part
        # The table's row: the saturated GET during the flood (as event_get, with logins beside).
        result["connections"] = result["saturated"]["connections"]
        result["almanac"] = result["saturated"]["flood"]
        result["p99_ratio"] = result["paced"]["p99_ratio"]
        result["meets_target"] = result["p99_ratio"] <= FLOOD_TARGET_P99_RATIO
        result["ok"] = not problems_of(result)
        results.append(result)
    return results


def flood_sides(result):
    """Every wrk summary of a result, by name: almanac and nginx, or the login_flood runs."""
    if "saturated" not in result:
        return {side: result[side] for side in ("almanac", "nginx")}
    return {f"{load} {part}": result[load][part] for load, _, _, _ in FLOOD_LOADS
            for part in ("unloaded", "flood", "logins")}


def print_login_flood(result):
    rows = [("load", "conns", "GET req/s alone", "during", "GET p50/p99 ms alone", "during",
             "p99 during/alone", "logins/s during")]
    for load, _, _, _ in FLOOD_LOADS:
        part = result[load]
        conns = str(part["connections"])
        if load == "paced":
            conns += f" (+{part['pace_ms']} ms pauses)"
        rows.append((load, conns, fmt_rps(part["unloaded"]["rps_median"]),
                     fmt_rps(part["flood"]["rps_median"]), fmt_ms(part["unloaded"]),
                     fmt_ms(part["flood"]), f"{part['p99_ratio']:.2f}",
                     f"{part['logins']['rps_median']:,.1f}"))
    print(f"{result['scenario']}: GET {result['path']} alone and during a login flood (wrk "
          f"-c{result['login_connections']} POST {result['login_path']}, from "
          f"{result['flood_lead_s']} s before the GET run to {result['flood_lead_s']} s after; "
          "medians of the rounds):")
    print("\n".join("  " + line for line in format_table(rows, {2, 3, 6, 7})))
    verdict = "met" if result["meets_target"] else "NOT met"
    print(f"{result['scenario']}: target p99 during / alone <= {result['target_p99_ratio']:g} "
          f"(paced load): {result['p99_ratio']:.2f}, {verdict}; per round: paced "
          f"{result['paced']['p99_ratios']}, saturated {result['saturated']['p99_ratios']}")


def fmt_rps(value):
    return f"{value:,.0f}"


def fmt_ms(side):
    return f"{side['p50_ms']:.2f} / {side['p99_ms']:.2f}"


def format_table(rows, numeric):
    """Rows of cells as aligned text lines; the first row is the header, underlined."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
                 for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def problems_of(result):
    bad = []
    for side, summary in flood_sides(result).items():
        if summary["unexpected"]:
            bad.append(f"{side}: {summary['unexpected']} unexpected {summary['statuses']}")
        if summary["socket_errors"]:
            bad.append(f"{side}: {summary['socket_errors']} socket errors")
    return bad


def print_configuration(args, key, results, idle_rss_kb, settings):
    """The table of one configuration: each scenario against the reference, as before there
    were several."""
    title = CONFIGURATION_TITLES[key]
    rows = [("scenario", "conns", "Almanac req/s", "nginx req/s", "ratio", "same body",
             "Almanac p50/p99 ms", "nginx p50/p99 ms", "peak RSS", "status")]
    for r in results:
        nginx = r["nginx"]  # None: login_flood (no reference; its row is the GET during the flood)
        conns = str(r["connections"]) + (f"+{r['login_connections']}" if nginx is None else "")
        rows.append((r["scenario"], conns, fmt_rps(r["almanac"]["rps_median"]),
                     fmt_rps(nginx["rps_median"]) if nginx else "-",
                     f"{r['ratio']:.2f}" if nginx else "-",
                     f"{r['ratio_same_body']:.2f}" if "ratio_same_body" in r else "-",
                     fmt_ms(r["almanac"]),
                     fmt_ms(nginx) if nginx else "-",
                     f"{r['rss_peak_kb'] / 1024:.1f} MB", "ok" if r["ok"] else "FAIL"))
    print()
    print(f"Almanac ({title}: engine {key[0]}, topology {key[1]}, reads {key[2]}) vs nginx: "
          f"{settings}")
    print(f"ratio = Almanac req/s / nginx req/s (medians of {args.rounds} rounds, A B A B ...); "
          f"latency = median over rounds of each round's p50 and p99")
    print("same body = Almanac req/s / req/s of nginx answering the bytes of Almanac's answer, "
          "in the same rounds (- = not measured for that scenario)")
    print("\n".join(format_table(rows, {1, 2, 3, 4, 5, 8})))
    rss_note = " (the sum over both instances)" if key[1] == "nginx2" else ""
    print(f"Almanac RSS idle after start: {idle_rss_kb / 1024:.1f} MB; peak RSS = max during "
          f"the scenario's Almanac runs{rss_note}")
    for r in results:
        if "nginx_same_body" in r:
            same = r["nginx_same_body"]
            print(f"{r['scenario']}: nginx answering the same {r['same_body_bytes']:,} bytes: "
                  f"{fmt_rps(same['rps_median'])} req/s, p50/p99 {fmt_ms(same)} ms "
                  f"({same['rps_median'] / r['nginx']['rps_median']:.2f} of its trivial answer)")
        if "logins_per_s_theoretical" in r:
            print(f"{r['scenario']}: {r['almanac']['rps_median']:,.1f} logins/s vs theoretical "
                  f"{r['cores']} cores / {r['seconds_per_hash'] * 1000:.1f} ms per hash = "
                  f"{r['logins_per_s_theoretical']:,.1f}/s ({r['login_efficiency']:.2f}x; "
                  f"seconds per hash = median of {HASH_SAMPLES} sequential logins)")
        if "saturated" in r:
            print_login_flood(r)
        if "items_per_s" in r:
            print(f"{r['scenario']}: {r['items_per_s']:,.0f} events/s = {r['items_per_request']:,} "
                  f"events per request x {r['almanac']['rps_median']:,.1f} req/s "
                  f"(p50 {r['almanac']['p50_ms']:.1f} ms per request at -c{r['connections']})")
        for problem in problems_of(r):
            print(f"FAIL {r['scenario']} ({title}): {problem}")
    by_name = {r["scenario"]: r for r in results}
    if "event_create" in by_name and "event_create_normal" in by_name:
        full = by_name["event_create"]["almanac"]["rps_median"]
        normal = by_name["event_create_normal"]["almanac"]["rps_median"]
        print(f"durability: event_create with --durability full / normal = {full:,.0f} / "
              f"{normal:,.0f} req/s = {full / normal:.2f} (group commit: one fsync per group)")


def print_comparison(args, keys, results):
    """The configurations side by side: req/s, ratio to SQLite single and to nginx."""
    by_scenario = {}
    for r in results:
        by_scenario.setdefault(r["scenario"], {})[(r["engine"], r["topology"], r["reads"])] = r
    header = ["scenario", "nginx req/s"]
    for key in keys:
        title = CONFIGURATION_TITLES[key]
        header += [f"{title} req/s"]
        if key != BASELINE and BASELINE in keys:
            header += ["/SQLite"]
        header += ["/nginx"]
    rows = [tuple(header)]
    for scenario, row_results in by_scenario.items():
        first = next(iter(row_results.values()))
        row = [scenario, fmt_rps(first["nginx"]["rps_median"]) if first["nginx"] else "-"]
        for key in keys:
            r = row_results.get(key)
            with_sqlite = key != BASELINE and BASELINE in keys
            if r is None:
                row += ["-"] * (3 if with_sqlite else 2)
                continue
            row.append(fmt_rps(r["almanac"]["rps_median"]) + ("" if r["ok"] else " FAIL"))
            if with_sqlite:
                row.append(f"{r['ratio_to_sqlite']:.2f}" if "ratio_to_sqlite" in r else "-")
            row.append(f"{r['ratio']:.2f}" if r["ratio"] is not None else "-")
        rows.append(tuple(row))
    print()
    print(f"Configurations side by side (medians of {args.rounds} rounds; /SQLite = req/s / "
          "SQLite single's req/s, /nginx = req/s / the reference's req/s in the same rounds; "
          "- = not run on that configuration):")
    print("\n".join(format_table(rows, set(range(1, len(header))))))


def print_report(args, keys, results, idle_rss, settings):
    for key in keys:
        mine = [r for r in results if (r["engine"], r["topology"], r["reads"]) == key]
        if mine:
            print_configuration(args, key, mine, idle_rss[key], settings)
    if len(keys) > 1:
        print_comparison(args, keys, results)
    print()
    for r in results:
        print("BENCH " + json.dumps(r, sort_keys=True, separators=(",", ":")))
    sys.stdout.flush()


# --- scale (--scale) -----------------------------------------------------------------------------
# Issue 6: "the same read scenarios with 1,000 and with 1,000,000 events stored (100 users x
# 10,000), printed side by side as a ratio"; target 5: at 1,000,000 each costs <= 1.5x what it
# costs at 1,000. Two fresh SQLite servers, one per size, seeded through the batch endpoint, then
# the reads alternated between them (README.md, "Scale").

SCALE_USERS = 100              # users of each store; each holds size / SCALE_USERS events
SCALE_SIZES = (1_000, 1_000_000)
SCALE_SEED_CLIENTS = 4         # keep-alive connections sending the seeding batches at once
SCALE_KEEP_PER_BATCH = 20      # events of each batch answer kept as the reads' (user, event) pool
SCALE_REQUESTS = 20_000        # requests in each scenario's list (cycled by wrk)
SCALE_TARGET = 1.5             # issue 6, target 5: cost at the large size <= 1.5 x the small one
SCALE_TITLES = ("Standup", "Planning", "Design review", "1:1", "Customer call", "Code review",
                "Lunch", "Retro")
SCALE_FIRST_DAY = 1_704_067_200  # 2024-01-01 00:00:00 UTC
SCALE_DAYS = 3 * 365 + 1         # 2024-01-01 .. 2026-12-31, as event_store_bench
_SCALE_DAY_TEXT = [time.strftime("%Y-%m-%d", time.gmtime(SCALE_FIRST_DAY + d * 86400))
                   for d in range(SCALE_DAYS)]
_SCALE_QUARTER_TEXT = [f"{q // 4:02d}:{q % 4 * 15:02d}:00" for q in range(96)]


@dataclasses.dataclass
class ScaleScenario:
    """One read of the scale measurement. `build(rng, store)` returns SCALE_REQUESTS requests
    (method, path, user index, body or "") for that store; `expect` is every answer's status."""
    name: str
    what: str
    expect: int
    build: object


def scale_get_requests(rng, store):
    # A random kept event of a random batch each time: ids spread over the whole table.
    return [("GET", f"/api/events/{event_id}/", user, "")
            for user, event_id, _, _ in (rng.choice(store.kept) for _ in range(SCALE_REQUESTS))]


def scale_list_requests(rng, store):
    return [("GET", "/api/events/?page=1&page_size=10", rng.randrange(SCALE_USERS), "")
            for _ in range(SCALE_REQUESTS)]


def scale_conflict_requests(rng, store):
    # A create at exactly the times of one of the user's stored events: it overlaps at least that
    # one, so it is refused (409 with the overlapping events listed) and nothing is stored.
    requests = []
    for _ in range(SCALE_REQUESTS):
        user, _, start, end = rng.choice(store.kept)
        body = json.dumps({"title": "scale conflict", "start_time": start, "end_time": end},
                          separators=(",", ":"))
        requests.append(("POST", "/api/events/", user, body))
    return requests


SCALE_SCENARIOS = [
    ScaleScenario("scale_get", "GET /api/events/{id}/ of random stored events, as their owners",
                  200, scale_get_requests),
    ScaleScenario("scale_list", "GET /api/events/?page=1&page_size=10 as random users (page and "
                                "count of the user's size/100 events)", 200, scale_list_requests),
    ScaleScenario("scale_conflict", "POST /api/events/ overlapping a random stored event of the "
                                    "user: the conflict check, refused with 409, nothing stored",
                  409, scale_conflict_requests),
]


def scale_batch_body(rng, count, tag):
    """`count` events as one batch body (JSON text, built directly: a million of them are seeded):
    2024-2026, starting 07:00-19:45 on the quarter hour, 30 min to 3 h long, as realistic_events."""
    items = []
    for i in range(count):
        day = _SCALE_DAY_TEXT[rng.randrange(SCALE_DAYS)]
        first = rng.randrange(28, 80)
        last = first + rng.randrange(2, 13)
        items.append(f'{{"title":"{rng.choice(SCALE_TITLES)} {tag}-{i}",'
                     f'"description":"Seeded by bench/run.py --scale",'
                     f'"start_time":"{day} {_SCALE_QUARTER_TEXT[first]}",'
                     f'"end_time":"{day} {_SCALE_QUARTER_TEXT[last]}",'
                     f'"location":"{rng.choice(("", "Zoom", "Room 4.12"))}"}}')
    return ("[" + ",".join(items) + "]").encode()


class ScaleStore:
    """One Almanac server of the scale measurement, its users and a pool of stored events."""

    def __init__(self, size, target, db_path):
        self.size = size
        self.per_user = size // SCALE_USERS
        self.target = target
        self.db_path = db_path
        self.users = []      # [{"id", "access", "refresh"}], index = user index
        self.kept = []       # [(user index, event id, start_time, end_time)]
        self.seed_s = 0.0
        self.register_s = 0.0
        self.idle_rss_kb = 0

    @property
    def port(self):
        return self.target.port

    def db_bytes(self, suffix=""):
        """The size of the database file (suffix "-wal": of its write-ahead log)."""
        path = self.db_path + suffix
        return os.path.getsize(path) if os.path.exists(path) else 0

    def db_text(self):
        return (f"database {self.db_bytes() / 1e6:,.0f} MB + WAL "
                f"{self.db_bytes('-wal') / 1e6:,.0f} MB")

    def parallel(self, jobs, work, clients):
        """Runs work(connection, job) for every job on `clients` keep-alive connections."""
        jobs = iter(jobs)
        lock = threading.Lock()
        failures = []

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT_S)
            try:
                while not failures:
                    with lock:
                        job = next(jobs, None)
                    if job is None:
                        return
                    work(conn, job)
            except (OSError, http.client.HTTPException, SetupError, ValueError,
                    KeyError) as error:
                failures.append(f"{type(error).__name__}: {error}")
            finally:
                conn.close()

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise SetupError(f"seeding {self.size:,} events: {failures[0]}")

    def seed(self):
        began = time.monotonic()
        self.users = [None] * SCALE_USERS

        def register(conn, index):
            status, body = http_request(self.port, "POST", "/api/auth/register/", {
                "username": f"scale-{index:03d}", "email": f"scale-{index:03d}@example.com",
                "password": BENCH_USER["password"]}, connection=conn)
            if status != 201:
                raise SetupError(f"register answered {status}: {body!r}")
            self.users[index] = {"id": body["user"]["id"], "access": body["access"],
                                 "refresh": body["refresh"]}

        # argon2id per registration: as many at once as the hashing pool has threads (cores).
        self.parallel(range(SCALE_USERS), register, os.cpu_count() or 2)
        self.register_s = time.monotonic() - began
        # The users' batches interleaved (user 0's first, user 1's first, ..., user 0's second,
        # ...), so that each user's events lie all through the table, as years of use leave them.
        batch = min(SEED_BATCH, self.per_user)
        jobs = [(user, first) for first in range(0, self.per_user, batch)
                for user in range(SCALE_USERS)]
        lock = threading.Lock()
        began = time.monotonic()

        def send_batch(conn, job):
            user, first = job
            rng = random.Random(f"{self.size}-{user}-{first}")
            count = min(batch, self.per_user - first)
            body = scale_batch_body(rng, count, f"{user}-{first}")
            for attempt in (1, 2):
                conn.request("POST", "/api/events/batch/", body=body,
                             headers={"Content-Type": "application/json",
                                      "Authorization": f"Bearer {self.users[user]['access']}"})
                response = conn.getresponse()
                raw = response.read()
                if response.status != 401 or attempt == 2:
                    break
                # A seeding slower than the access tokens' 15 minutes: a fresh one, once.
                status, answer = http_request(self.port, "POST", "/api/auth/refresh/",
                                              {"refresh": self.users[user]["refresh"]},
                                              connection=conn)
                if status != 200:
                    raise SetupError(f"refresh answered {status}: {answer!r}")
                self.users[user]["access"] = answer["access"]
            if response.status != 201:
                raise SetupError(f"batch answered {response.status}: {raw[:300]!r}")
            answer = json.loads(raw)
            created = answer["created_events"]
            if answer["errors"] or len(created) != count:
                raise SetupError(f"batch stored {len(created)} of {count}: {raw[:300]!r}")
            kept = [(user, e["id"], e["start_time"], e["end_time"])
                    for e in rng.sample(created, min(SCALE_KEEP_PER_BATCH, count))]
            with lock:
                self.kept.extend(kept)

        self.parallel(jobs, send_batch, SCALE_SEED_CLIENTS)
        self.seed_s = time.monotonic() - began
        self.kept.sort(key=lambda kept: kept[1])  # the pool in id order: rng.choice is reproducible
        self.check_counts("after seeding")

    def check_counts(self, when):
        """Every user's list count is per_user: the seeding stored all, and (after the conflict
        runs) the refused creates stored nothing."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT_S)
        try:
            for index, user in enumerate(self.users):
                status, body = http_request(self.port, "GET", "/api/events/?page=1&page_size=1",
                                            token=user["access"], connection=conn)
                if status != 200 or body.get("count") != self.per_user:
                    raise SetupError(f"{when}: the list of user {index} at {self.size:,} events "
                                     f"answered {status} with count "
                                     f"{body.get('count') if isinstance(body, dict) else body!r}"
                                     f", expected {self.per_user}")
        finally:
            conn.close()

    def refresh_tokens(self):
        """A fresh access token for every user (access tokens live 15 minutes; a 1,000,000 run
        lasts longer): POST /api/auth/refresh/, no argon2id."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT_S)
        try:
            for user in self.users:
                status, body = http_request(self.port, "POST", "/api/auth/refresh/",
                                            {"refresh": user["refresh"]}, connection=conn)
                if status != 200:
                    raise SetupError(f"refresh answered {status}: {body!r}")
                user["access"] = body["access"]
        finally:
            conn.close()

    def write_requests(self, path, requests):
        """The request list for scale.lua, with the users' current tokens."""
        with open(path, "w") as f:
            for method, target, user, body in requests:
                f.write(f"{method}\t{target}\t{self.users[user]['access']}\t{body}\n")

    def probe(self, requests, expect):
        """The scenario's first requests, sent once before the load: they must answer `expect`."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT_S)
        try:
            for method, target, user, body in requests[:20]:
                status, answer = http_request(self.port, method, target,
                                              json.loads(body) if body else None,
                                              token=self.users[user]["access"], connection=conn)
                if status != expect:
                    raise SetupError(f"{method} {target} at {self.size:,} events answered "
                                     f"{status}, expected {expect}: {str(answer)[:300]}")
        finally:
            conn.close()


def run_scale(args, workdir, children):
    """--scale: starts one SQLite server per size, seeds them, runs each scale scenario on both
    (alternated, the order swapped every round), prints the table; returns the exit status."""
    ports = set()
    stores = []
    for size in args.scale_events:
        port = pick_free_port(taken=ports)
        ports.add(port)
        name = f"scale-{size}"
        children.append(start_almanac(args.binary, workdir, port, name,
                                      extra_args=args.almanac_args))
        stores.append(ScaleStore(size, Target("sqlite", "single", "inline", port, [children[-1]]),
                                 os.path.join(workdir, name, "almanac.db")))
    time.sleep(0.5)
    for store in stores:
        store.idle_rss_kb = proc_status_kb(store.target.instances[0].pid, "VmRSS") or 0
    for store in stores:
        log(f"scale: seeding {store.size:,} events ({SCALE_USERS} users x {store.per_user:,}) "
            f"through POST /api/events/batch/ on {SCALE_SEED_CLIENTS} connections")
        store.seed()
        log(f"scale: {store.size:,} events stored in {store.seed_s:.1f} s "
            f"({store.size / store.seed_s:,.0f} events/s; {SCALE_USERS} registrations before, "
            f"{store.register_s:.1f} s); {store.db_text()}")
    settings = (f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s --timeout "
                f"{WRK_TIMEOUT}, {args.rounds} rounds (the sizes alternated, the order swapped "
                f"every round); Almanac --threads {ALMANAC_THREADS}{almanac_args_text(args)} on "
                f"SQLite, --durability full on {filesystem_type(workdir)}; wrk and the servers on this machine's "
                f"{os.cpu_count()} cores")
    log(settings)
    load_before = os.getloadavg()[0]
    results = []
    requests_path = os.path.join(workdir, "scale-requests.tsv")
    for scenario in SCALE_SCENARIOS:
        plans = {}
        for store in stores:
            # The same random draws at both sizes (the same users in the same order for the
            # list), each from its own store's pool.
            plans[store.size] = scenario.build(random.Random(scenario.name), store)
            store.refresh_tokens()
            store.probe(plans[store.size], scenario.expect)
        runs = {store.size: [] for store in stores}
        peaks = {store.size: 0 for store in stores}
        for round_number in range(1, args.rounds + 1):
            order = stores if round_number % 2 else list(reversed(stores))
            for store in order:
                log(f"{scenario.name}: round {round_number}/{args.rounds}: {store.size:,} events")
                store.refresh_tokens()
                store.write_requests(requests_path, plans[store.size])
                env = {"BENCH_REQUESTS": requests_path,
                       "BENCH_ACCESS_TOKEN": store.users[0]["access"]}
                with RssSampler(child.pid for child in store.target.instances) as sampler:
                    run = run_wrk(args, workdir, f"{scenario.name}-{round_number}-{store.size}",
                                  store.port, "/", "scale.lua", args.connections, env,
                                  expect=scenario.expect)
                peaks[store.size] = max(peaks[store.size], sampler.peak_kb)
                runs[store.size].append(run)
                store.target.check_alive(scenario.name)
        if scenario.expect == 409:
            for store in stores:
                store.check_counts(f"after {scenario.name}")
        small, large = stores[0], stores[-1]
        result = {"scenario": scenario.name, "measures": scenario.what, "engine": "sqlite",
                  "connections": args.connections, "duration_s": args.duration,
                  "rounds": args.rounds, "wrk_threads": args.wrk_threads, "users": SCALE_USERS,
                  "expect": scenario.expect, "distinct_requests": SCALE_REQUESTS,
                  "target_cost_ratio": SCALE_TARGET}
        for side, store in (("small", small), ("large", large)):
            result[side] = dict(summarize(runs[store.size]), events=store.size,
                                events_per_user=store.per_user, rss_peak_kb=peaks[store.size],
                                rss_idle_kb=store.idle_rss_kb, seed_s=round(store.seed_s, 2),
                                database_bytes=store.db_bytes(),
                                wal_bytes=store.db_bytes("-wal"))
        result["cost_ratio"] = round(result["small"]["rps_median"]
                                     / result["large"]["rps_median"], 3)
        result["cost_ratios"] = [round(a.rps / b.rps, 3)
                                 for a, b in zip(runs[small.size], runs[large.size])]
        result["meets_target"] = result["cost_ratio"] <= SCALE_TARGET
        result["ok"] = all(result[side]["unexpected"] == 0 and result[side]["socket_errors"] == 0
                           for side in ("small", "large"))
        results.append(result)
    load_after = os.getloadavg()[0]
    for r in results:
        r.update(loadavg_before=round(load_before, 2), loadavg_after=round(load_after, 2))
    print_scale(args, stores, results, settings, load_before, load_after)
    return 0 if all(r["ok"] for r in results) else 1


def print_scale(args, stores, results, settings, load_before, load_after):
    small, large = stores[0], stores[-1]
    a, b = f"{small.size:,}", f"{large.size:,}"
    rows = [("scenario", "conns", f"req/s {a}", f"req/s {b}", "cost ratio", f"p50/p99 ms {a}",
             f"p50/p99 ms {b}", "peak RSS", f"<= {SCALE_TARGET:g}", "status")]
    for r in results:
        rows.append((r["scenario"], str(r["connections"]), fmt_rps(r["small"]["rps_median"]),
                     fmt_rps(r["large"]["rps_median"]), f"{r['cost_ratio']:.2f}",
                     fmt_ms(r["small"]), fmt_ms(r["large"]),
                     f"{r['small']['rss_peak_kb'] / 1024:.1f} / "
                     f"{r['large']['rss_peak_kb'] / 1024:.1f} MB",
                     "met" if r["meets_target"] else "NOT met", "ok" if r["ok"] else "FAIL"))
    print()
    print(f"Scale (SQLite): the same requests with {a} and with {b} events stored ({SCALE_USERS} "
          f"users x {small.per_user:,} and x {large.per_user:,}); {settings}; load average (1 "
          f"min) {load_before:.2f} before, {load_after:.2f} after")
    print(f"cost ratio = req/s at {a} / req/s at {b} (medians of {args.rounds} rounds): what a "
          f"request costs at {b} relative to {a}; issue 6, target 5: <= {SCALE_TARGET:g}")
    print("\n".join(format_table(rows, {1, 2, 3, 4})))
    for r in results:
        print(f"{r['scenario']}: {r['measures']}; expect {r['expect']}; cost ratio per round "
              f"{r['cost_ratios']}")
    for store in stores:
        print(f"seeding {store.size:,} events ({SCALE_USERS} users x {store.per_user:,}, batches "
              f"of {min(SEED_BATCH, store.per_user):,} interleaved across the users, "
              f"{SCALE_SEED_CLIENTS} connections): {store.seed_s:.1f} s "
              f"({store.size / store.seed_s:,.0f} events/s; {SCALE_USERS} registrations before "
              f"it: {store.register_s:.1f} s); {store.db_text()}; RSS "
              f"idle after start {store.idle_rss_kb / 1024:.1f} MB")
    for r in results:
        for side in ("small", "large"):
            summary = r[side]
            if summary["unexpected"] or summary["socket_errors"]:
                print(f"FAIL {r['scenario']} ({summary['events']:,} events): "
                      f"{summary['unexpected']} unexpected {summary['statuses']}, "
                      f"{summary['socket_errors']} socket errors")
    print()
    for r in results:
        print("BENCH " + json.dumps(r, sort_keys=True, separators=(",", ":")))
    sys.stdout.flush()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--connections", type=int, default=64,
                        help="wrk -c for scenarios that set none (64; login uses 8)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="reference/Almanac pairs per scenario (3)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk -t (1)")
    parser.add_argument("--scenarios", default="",
                        help="comma-separated subset of: " + ", ".join(s.name for s in SCENARIOS))
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "all"), default="all",
                        help="the storage engine(s) measured (all)")
    parser.add_argument("--topology", choices=("single", "nginx2", "all"), default="all",
                        help="one instance, or two on one PostgreSQL database behind nginx with "
                             "deploy/nginx.conf (PostgreSQL only); all: both (all)")
    parser.add_argument("--pg-reads", choices=("inline", "pool", "both"), default="pool",
                        help="PostgreSQL's reads on the reader connections' threads (pool, "
                             "Almanac's default) or on the I/O thread (inline: --database-reads "
                             "inline); both: each PostgreSQL configuration twice (pool)")
    parser.add_argument("--pg-rtt-ms", type=float, default=0.0,
                        help="round-trip time added between Almanac and PostgreSQL by a TCP "
                             "proxy (bench/latency_proxy.cpp; half of it each way); 0: direct "
                             "(0)")
    parser.add_argument("--binary", default=DEFAULT_BINARY,
                        help="the Almanac binary (build/release/almanac)")
    parser.add_argument("--scale", action="store_true",
                        help="run only the scale measurement (SQLite; no reference): get, list "
                             "page and conflict check with 1,000 and with 1,000,000 events "
                             "stored, side by side (--engine, --topology and --scenarios do not "
                             "apply)")
    parser.add_argument("--almanac-args", default="", metavar="FLAGS",
                        help="more flags for every Almanac started, after the runner's own (a "
                             "repeated flag: the last one counts), e.g. "
                             "--almanac-args='--hash-threads 1'; stated in the settings line")
    parser.add_argument("--scale-events", default=",".join(str(n) for n in SCALE_SIZES),
                        help="the two sizes of --scale, SMALL,LARGE, multiples of "
                             f"{SCALE_USERS} (the users) "
                             f"({','.join(str(n) for n in SCALE_SIZES)})")
    args = parser.parse_args(argv)
    try:
        args.almanac_args = tuple(shlex.split(args.almanac_args))
    except ValueError as error:
        parser.error(f"--almanac-args: {error}")
    try:
        args.scale_events = [int(n) for n in args.scale_events.split(",")]
    except ValueError:
        parser.error("--scale-events takes two numbers, SMALL,LARGE")
    if (len(args.scale_events) != 2 or args.scale_events[0] >= args.scale_events[1]
            or any(n < SCALE_USERS or n % SCALE_USERS for n in args.scale_events)):
        parser.error(f"--scale-events takes SMALL,LARGE: SMALL < LARGE, both multiples of "
                     f"{SCALE_USERS}")
    if not 1 <= args.duration <= 600:
        parser.error("--duration must be 1..600 seconds")
    if not 1 <= args.connections <= 1000:
        parser.error("--connections must be 1..1000")
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be 1..20")
    if not 1 <= args.wrk_threads <= args.connections:
        parser.error("--wrk-threads must be 1..connections")
    if not 0 <= args.pg_rtt_ms <= 1000:
        parser.error("--pg-rtt-ms must be 0..1000")
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    known = {s.name: s for s in SCENARIOS}
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; known: {', '.join(known)}")
    args.selected = [known[n] for n in names] if names else list(SCENARIOS)
    args.configurations = [(engine, topology, reads) for engine, topology, reads in CONFIGURATIONS
                           if args.engine in ("all", engine)
                           and args.topology in ("all", topology)
                           and (engine == "sqlite" or args.pg_reads in ("both", reads))]
    if not args.configurations:
        parser.error(f"--engine {args.engine} --topology {args.topology}: nothing to run (two "
                     "instances need the PostgreSQL engine)")
    return args


def almanac_args_text(args):
    """--almanac-args as the settings line states them ("" when none)."""
    return "".join(" " + shlex.quote(arg) for arg in args.almanac_args)


def raise_on_signal(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def start_configuration(args, workdir, key, cluster, ports, needs_normal):
    """Starts one configuration's processes; returns ({durability: Target}, [children])."""
    engine, topology, reads = key
    children = []
    servers = {}
    name = Target(engine, topology, reads, 0, []).label
    try:
        if engine == "sqlite":
            port = pick_free_port(taken=ports)
            ports.add(port)
            children.append(start_almanac(args.binary, workdir, port, "sqlite-full",
                                          extra_args=args.almanac_args))
            servers["full"] = Target(engine, topology, reads, port, [children[-1]])
            if needs_normal:
                normal_port = pick_free_port(taken=ports)
                ports.add(normal_port)
                children.append(start_almanac(args.binary, workdir, normal_port,
                                              "sqlite-normal", durability="normal",
                                              extra_args=args.almanac_args))
                servers["normal"] = Target(engine, topology, reads, normal_port, [children[-1]])
        elif topology == "single":
            url = cluster.create_database("almanac_bench_" + name.replace("-", "_"))
            port = pick_free_port(taken=ports)
            ports.add(port)
            children.append(start_almanac(args.binary, workdir, port, name, database=url,
                                          extra_args=("--database-reads", reads,
                                                      *args.almanac_args)))
            servers["full"] = Target(engine, topology, reads, port, [children[-1]])
        else:
            # Two instances sharing one database and one JWT secret, behind deploy/nginx.conf:
            # each believes nginx's X-Forwarded-For (as the file's comment asks).
            url = cluster.create_database("almanac_bench_" + name.replace("-", "_"))
            secret = secrets.token_hex(32)
            instances = []
            for instance in ("a", "b"):
                port = pick_free_port(taken=ports)
                ports.add(port)
                children.append(start_almanac(args.binary, workdir, port, f"{name}-{instance}",
                                              database=url, jwt_secret=secret,
                                              extra_args=("--trusted-proxies", "127.0.0.1",
                                                          "--database-reads", reads,
                                                          *args.almanac_args)))
                instances.append((port, children[-1]))
            front_port = pick_free_port(taken=ports)
            ports.add(front_port)
            front = start_front(workdir, f"{name}-nginx", front_port,
                                [p for p, _ in instances])
            children.append(front)
            servers["full"] = Target(engine, topology, reads, front_port,
                                     [c for _, c in instances], front=front)
        for target in servers.values():
            target.seed = Seed(target.port, engine)
    except BaseException:
        for child in reversed(children):
            child.stop()
        raise
    return servers, children


def main(argv):
    args = parse_args(argv)
    # Ctrl-C, SIGTERM and SIGHUP unwind through the finally blocks below (SIGINT is installed
    # explicitly: a shell starts background jobs with it ignored).
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, raise_on_signal)
    if not os.access(args.binary, os.X_OK):
        log(f"{args.binary} is not an executable: build it with `make build`")
        return 2
    children = []
    workdir = tempfile.mkdtemp(prefix="almanac-bench-")
    keep_workdir = False
    try:
        if args.scale:
            ensure_debian_packages(["wrk"])
            return run_scale(args, workdir, children)
        postgres = any(key[0] == "postgresql" for key in args.configurations)
        ensure_debian_packages(["nginx-light", "wrk"] + (["postgresql-15"] if postgres else []))
        nginx_port = pick_free_port()
        ports = {nginx_port}
        children.append(start_nginx(workdir, nginx_port))
        cluster = None
        if postgres:
            log("starting a PostgreSQL cluster (tools/pg-cluster.sh --durable)")
            cluster = PgCluster(workdir)
            children.append(cluster)  # stopped on every way out, whatever start got to
            cluster.start()
            if args.pg_rtt_ms > 0:
                children.append(start_latency_proxy(workdir, cluster, ports, args.pg_rtt_ms))
        needs_normal = any(s.durability == "normal" for s in args.selected)
        configurations = {}
        idle_rss = {}
        for key in args.configurations:
            servers, started = start_configuration(args, workdir, key, cluster, ports,
                                                   needs_normal)
            children.extend(started)
            configurations[key] = servers
        time.sleep(0.5)  # let start-up settle before reading the idle RSS
        for key, servers in configurations.items():
            idle_rss[key] = sum(proc_status_kb(child.pid, "VmRSS") or 0
                                for child in servers["full"].instances)
        cores = os.cpu_count()
        own = ", ".join(f"{s.name} -c{s.connections}" for s in args.selected if s.connections)
        settings = (f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s "
                    f"--timeout {WRK_TIMEOUT}{f' ({own})' if own else ''}, {args.rounds} rounds; "
                    f"Almanac --threads {ALMANAC_THREADS}{almanac_args_text(args)} (each "
                    f"instance), nginx "
                    f"worker_processes {NGINX_WORKERS}; wrk and all servers on this machine's "
                    f"{cores} cores")
        if BASELINE in configurations:
            settings += f"; SQLite --durability full on {filesystem_type(workdir)}"
        if cluster is not None:
            settings += (f"; PostgreSQL 15 on loopback TCP, {cluster.settings}, data on "
                         f"{filesystem_type(cluster.data_dir)}, --database-pool 8 (default)")
            if args.pg_rtt_ms > 0:
                settings += (f", reached through bench/latency_proxy adding {args.pg_rtt_ms:g} ms "
                             "to every round trip")
        if ("postgresql", "nginx2") in configurations:
            settings += ("; nginx2 = 2 instances on one database behind nginx with "
                         f"deploy/nginx.conf (worker_processes {NGINX_WORKERS}, access log on)")
        log(settings)
        load_before = os.getloadavg()[0]
        results = []
        for scenario in args.selected:
            results.extend(run_scenario(args, workdir, scenario, nginx_port, configurations))
        load_after = os.getloadavg()[0]
        # Other work on the box (a build, a test run) takes cores from whichever side runs: the
        # alternation spreads it over both, but the reader should know it was there.
        settings += (f"; load average (1 min) {load_before:.2f} before, {load_after:.2f} after "
                     f"(the load itself adds about {1 + args.wrk_threads + ALMANAC_THREADS})")
        for r in results:
            r.update(duration_s=args.duration, rounds=args.rounds, wrk_threads=args.wrk_threads,
                     rss_idle_kb=idle_rss[(r["engine"], r["topology"], r["reads"])],
                     loadavg_before=round(load_before, 2), loadavg_after=round(load_after, 2))
        print_report(args, args.configurations, results, idle_rss, settings)
        return 0 if all(r["ok"] for r in results) else 1
    except SetupError as error:
        log(f"setup failed: {error}")
        keep_workdir = True
        return 2
    except KeyboardInterrupt:
        log("interrupted; stopping what was started")
        return 130
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        for child in reversed(children):
            try:
                child.stop()
            except Exception as error:  # keep stopping the others
                log(f"stopping {child.name} (pid {child.pid}) failed: {error}")
        if keep_workdir:
            log(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
