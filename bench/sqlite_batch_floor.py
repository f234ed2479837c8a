#!/usr/bin/python3
"""Where SQLite's time goes in a 1,000-event batch, statement by statement (issue 6, target 4).

The rows of POST /api/events/batch/ (1,000 events of one user over three years, 30 min to 3 h
long, as bench/micro/batch_bench.cpp sends) written to a fresh database migrated with
migrations/sqlite/, by SQL alone, as batch_bench's BM_BatchSqliteFloor does: the events sit in a
temporary table and each batch is one transaction of INSERT ... SELECT statements (the events,
their OWNER participants with their boxes, the '+' versions). Prints the mean time of each
statement and of the commit per batch, and the WAL pages each batch wrote.

    /usr/bin/python3 bench/sqlite_batch_floor.py                       # synchronous FULL, 40 batches
    /usr/bin/python3 bench/sqlite_batch_floor.py --synchronous NORMAL --no-autocheckpoint

--no-autocheckpoint sets wal_autocheckpoint = 0: the WAL is never copied back into the database
file, which leaves the commit with only the WAL's own write (and fsync with FULL).
"""
import argparse
import glob
import os
import random
import sqlite3
import sys
import tempfile
import time

HOUR_US = 3600 * 10**6
FIRST_DAY = 1_704_067_200  # 2024-01-01 00:00:00 UTC
TITLES = ("Standup", "1:1 with manager", "Design review", "Sprint planning", "Customer call",
          "Lunch", "Interview", "Quarterly business review")
PAGE_SIZE = 4096
WAL_FRAME_HEADER = 24

STATEMENTS = {
    "events": "INSERT INTO events (owner_id, title, description, start_time, end_time, location, "
              "is_recurring, recurrence_pattern, version, created_at, updated_at) "
              "SELECT 1, title, '', start_time, end_time, location, 0, NULL, 1, :now, :now "
              "FROM batch ORDER BY i",
    "participants": "INSERT INTO event_participants (event_id, user_id, role, first_hour, "
                    "last_hour, span_class) SELECT :first + i, 1, 'OWNER', first_hour, last_hour, "
                    "span_class FROM batch ORDER BY i",
    "versions": "INSERT INTO event_versions (event_id, position, history_id, version, "
                "history_type, history_date, changed_by, change_reason, owner_id, title, "
                "description, start_time, end_time, location, is_recurring, recurrence_pattern) "
                "SELECT e.id, 1, :history + e.id - :first, 1, '+', :now, 1, NULL, e.owner_id, "
                "e.title, e.description, e.start_time, e.end_time, e.location, e.is_recurring, "
                "e.recurrence_pattern FROM events e WHERE e.id >= :first ORDER BY e.id",
}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--events", type=int, default=1000, help="events per batch")
    parser.add_argument("--synchronous", choices=("FULL", "NORMAL", "OFF"), default="FULL")
    parser.add_argument("--no-autocheckpoint", action="store_true")
    args = parser.parse_args(argv)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory(prefix="almanac-batch-floor-") as directory:
        path = os.path.join(directory, "floor.db")
        db = sqlite3.connect(path, isolation_level=None)
        # The store writer's pragmas (src/store/sqlite/sqlite_db.cpp, sqlite_store.cpp).
        for pragma in ("journal_mode = WAL", f"synchronous = {args.synchronous}",
                       "cache_size = -4096", "foreign_keys = ON", "temp_store = MEMORY",
                       f"journal_size_limit = {16 << 20}"):
            db.execute(f"PRAGMA {pragma}")
        if args.no_autocheckpoint:
            db.execute("PRAGMA wal_autocheckpoint = 0")
        for migration in sorted(glob.glob(os.path.join(root, "migrations", "sqlite", "*.sql"))):
            with open(migration) as f:
                db.executescript(f.read())
        db.execute("INSERT INTO users (id, username, username_key, email, email_key, "
                   "password_hash, created_at) VALUES (1, 'floor', 'floor', 'f@example.com', "
                   "'f@example.com', '-', 0)")
        db.execute("CREATE TEMP TABLE batch (i INTEGER PRIMARY KEY, title TEXT, start_time "
                   "INTEGER, end_time INTEGER, location TEXT, first_hour INTEGER, last_hour "
                   "INTEGER, span_class INTEGER)")
        rng = random.Random(20250427)
        for i in range(args.events):
            start = (FIRST_DAY + rng.randint(0, 1095) * 86400 + rng.randint(28, 79) * 900) * 10**6
            end = start + rng.randint(2, 12) * 900 * 10**6
            first_hour, last_hour = start // HOUR_US - 1, end // HOUR_US + 1  # the store's span_of
            db.execute("INSERT INTO batch VALUES (?, ?, ?, ?, 'Zoom', ?, ?, ?)",
                       (i, f"{rng.choice(TITLES)} {i}", start, end, first_hour, last_hour,
                        (last_hour - first_hour).bit_length()))
        spent = {name: 0.0 for name in [*STATEMENTS, "commit"]}
        wal_frames = 0
        for _ in range(args.batches):
            db.execute("BEGIN IMMEDIATE")
            values = {
                "now": time.time_ns() // 1000,
                "first": db.execute("SELECT coalesce(max(id), 0) + 1 FROM events").fetchone()[0],
                "history": db.execute("SELECT coalesce(max(history_id), 0) + 1 "
                                      "FROM event_versions").fetchone()[0],
            }
            for name, sql in STATEMENTS.items():
                started = time.perf_counter()
                db.execute(sql, values)
                spent[name] += time.perf_counter() - started
            before = os.path.getsize(path + "-wal")
            started = time.perf_counter()
            db.execute("COMMIT")
            spent["commit"] += time.perf_counter() - started
            if args.no_autocheckpoint:
                wal_frames += (os.path.getsize(path + "-wal") - before) // (
                    PAGE_SIZE + WAL_FRAME_HEADER)
        db.close()
    per_batch = {name: seconds * 1000 / args.batches for name, seconds in spent.items()}
    print(f"{args.batches} batches of {args.events:,} events, synchronous = {args.synchronous}, "
          f"automatic checkpoints {'off' if args.no_autocheckpoint else 'on (1,000 pages)'}; "
          f"SQLite {sqlite3.sqlite_version}; mean ms per batch:")
    print("  ".join(f"{name} {ms:.2f}" for name, ms in per_batch.items()) +
          f"  total {sum(per_batch.values()):.2f}")
    if args.no_autocheckpoint:
        print(f"WAL pages written per batch: {wal_frames / args.batches:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
