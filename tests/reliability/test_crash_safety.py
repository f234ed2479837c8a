"""Proof 1 of issue 7, crash safety: nothing acknowledged is lost when the server is killed.

Each cycle, a few client threads create and update events (and log out refresh tokens) back to back
on one server; at a random moment after the first acknowledgement of the cycle the server gets
SIGKILL. Then:
- `PRAGMA integrity_check` on the database file as the kill left it is `ok`;
- the server restarts on the same data directory;
- every event whose 201 was received is there with identical content (GET of each event
  acknowledged in the cycle, and the full list of every user's events every cycle), every
  acknowledged update (200) too; a write in flight at the kill is either there, exactly as sent,
  or not at all, and nothing else is;
- every refresh token whose logout was answered 205 is refused (401), a live one still works.

The server runs with its default durability (`full`). A process kill loses no page cache, so this
proves the ordering (no answer before the commit holding the change) and the recovery, not the
fsync; tests/reliability/test_io_faults.py covers failing fsyncs and writes.

ALMANAC_CRASH_CYCLES sets the number of cycles (default 20; `make crash-soak` runs 200).
ALMANAC_TEST_SEED replays a run (the seed is printed).
"""

import os
import random
import sys
import threading
import time
import unittest

from reliability import Ledger, Server, User, Writer, integrity_check, login_tokens, seeded_random

CYCLES = int(os.environ.get("ALMANAC_CRASH_CYCLES", "20"))
WRITERS = 3
LOGOUTS_PER_CYCLE = 1  # refresh tokens logged out per cycle (each costs a login)
MAX_KILL_DELAY_S = 0.5  # the kill comes at a random moment in [0, this) after the first ack
ACK_DEADLINE_S = 60.0  # a deadline, not a wait: the first acknowledgement of a cycle
JOIN_DEADLINE_S = 60.0


class CrashSafetyTest(unittest.TestCase):

    def test_sigkill_loses_nothing_acknowledged(self):
        rng = seeded_random()
        server = Server()
        server.start()
        started = time.monotonic()
        try:
            self.run_cycles(server, rng)
        except BaseException:
            print(server.log_tail(), file=sys.stderr)
            raise
        finally:
            server.kill9()
            server.cleanup()
        elapsed = time.monotonic() - started
        print(f"crash safety: {CYCLES} SIGKILL cycles in {elapsed:.1f} s", file=sys.stderr)

    def run_cycles(self, server, rng):
        ledger = Ledger()
        ledger.users = [User(server) for _ in range(WRITERS)]
        database = os.path.join(server.datadir, "almanac.db")
        for cycle in range(CYCLES):
            refresh_tokens = login_tokens(server, ledger.users[0], LOGOUTS_PER_CYCLE)
            stop, acked = threading.Event(), threading.Event()
            writers = [Writer(server, ledger, i, rng=_fork(rng), stop=stop, acked=acked,
                              refresh_tokens=refresh_tokens if i == 0 else None)
                       for i in range(WRITERS)]
            for writer in writers:
                writer.start()
            try:
                self.assertTrue(acked.wait(ACK_DEADLINE_S),
                                f"cycle {cycle}: no write acknowledged within {ACK_DEADLINE_S} s")
                # The random moment of the kill: not a wait for any state, every outcome is checked.
                stop.wait(rng.uniform(0, MAX_KILL_DELAY_S))
                port = server.port
                server.kill9()
            finally:
                stop.set()
                for writer in writers:
                    writer.join(JOIN_DEADLINE_S)
            for writer in writers:
                self.assertFalse(writer.is_alive(), "a writer thread did not finish")
                self.assertEqual(writer.errors, [], f"cycle {cycle}")
            self.assertEqual(integrity_check(database), ["ok"], f"cycle {cycle}")
            server.start(preferred_port=port)
            ledger.check(self, server, get_all=(cycle == CYCLES - 1), rng=rng)
        counts = ledger.counts
        print(f"\ncrash safety: {CYCLES} cycles; acknowledged {counts['creates']} creates, "
              f"{counts['updates']} updates, {counts['logouts']} logouts; "
              f"{counts['not_acknowledged']} writes in flight at a kill "
              f"({counts['adopted']} of them found done); "
              f"{counts['gets_checked']} GETs and {counts['events_listed']} listed events checked",
              file=sys.stderr)
        server.stop()  # a clean stop after all those crashes: exit code 0


def _fork(rng):
    return random.Random(rng.getrandbits(64))


if __name__ == "__main__":
    unittest.main()
