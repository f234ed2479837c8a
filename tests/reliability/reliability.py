"""Shared by the reliability proofs (issue 7): the ledger of what the server acknowledged and the
checks that all of it is still there, byte for byte, after a crash or an I/O fault.

An acknowledged write (201 for a create, 200 for an update, 205 for a logout) must survive anything.
A write that was not acknowledged (the connection died under it, or it was answered 5xx) may or may
not have happened: the ledger keeps what it would have stored, and a check accepts either outcome,
then adopts what it found (from then on that is the state that must survive).

Python 3.11 standard library only; the server comes from tests/api/harness.py.
"""

import http.client
import os
import random
import sqlite3
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))

from harness import Server, unique_name  # noqa: E402  (re-exported for the tests)

__all__ = ["Server", "unique_name", "Ledger", "Writer", "integrity_check", "seeded_random"]

EVENTS = "/api/events/"
CREATE = EVENTS + "?allow_conflicts=true"  # the proofs are about durability, not overlaps
LOGIN = "/api/auth/login/"
LOGOUT = "/api/auth/logout/"
REFRESH = "/api/auth/refresh/"
PAGE_SIZE = 100  # the server's largest page
TOKEN_INVALID = {"detail": "Token is invalid or expired", "code": "token_not_valid"}

# What a client may see instead of an answer: the server died or closed the connection under it.
CONNECTION_ERRORS = (OSError, http.client.HTTPException)

_WORDS = ["standup", "review", "lunch", "café", "Zürich", "日本", "naïve", "O'Brien", "1:1",
          "'); DROP TABLE events;--", "tab\there", "emoji 🎉", "quote \"x\"", "back\\slash"]


def seeded_random():
    """A random.Random seeded from ALMANAC_TEST_SEED when set (to replay a run), else at random;
    the seed is printed so that a failure can be replayed."""
    seed = int(os.environ.get("ALMANAC_TEST_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\nseed: ALMANAC_TEST_SEED={seed}", file=sys.stderr)
    return random.Random(seed)


def event_body(rng, title):
    """A full event body already in the server's printed form (times `YYYY-MM-DD HH:MM:SS` in UTC,
    simple patterns in lower case), so what the server stores is this body plus id and owner_id."""
    month, day, hour, minute = rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 21), \
        rng.choice((0, 15, 30, 45))
    recurring = rng.random() < 0.3
    return {
        "title": title,
        "description": " ".join(rng.choice(_WORDS) for _ in range(rng.randint(0, 12))),
        "location": rng.choice(["", "room 1", "Zürich HB", "https://meet.example/abc"]),
        "start_time": f"2031-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:00",
        "end_time": f"2031-{month:02d}-{day:02d} {hour + rng.randint(1, 2):02d}:{minute:02d}:00",
        "is_recurring": recurring,
        "recurrence_pattern": rng.choice(["daily", "weekly", "monthly"]) if recurring else None,
    }


def integrity_check(database_path):
    """`PRAGMA integrity_check` on the database as a killed server left it. The connection is
    read-only: it neither checkpoints nor deletes the WAL, so the restart still recovers it."""
    connection = sqlite3.connect(f"file:{database_path}?mode=ro", uri=True, timeout=30)
    try:
        return [row[0] for row in connection.execute("PRAGMA integrity_check").fetchall()]
    finally:
        connection.close()


class User:
    """A registered user whose events one Writer creates and updates."""

    def __init__(self, server):
        tokens, user = server.register()
        self.id = user["id"]
        self.username = user["username"]
        self.password = user["password"]
        self.token = tokens["access"]
        self.refresh = tokens["refresh"]  # never logged out: refreshing with it must keep working
        self.events = {}  # id -> the content the server must return (GET, minus "role")
        self.maybe_updates = {}  # id -> [contents of updates that were not acknowledged]
        self.maybe_creates = {}  # title -> content without id of a create not acknowledged
        self.titles = set()  # every title this user's creates ever sent


class Ledger:
    """Every acknowledgement the server gave, and every write whose outcome is unknown."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = []
        self.revoked = []  # refresh tokens whose logout was answered 205
        self.recent_revoked = []  # those since the last check
        self.recent_ids = set()  # (user index, event id) acknowledged or changed since then
        self.counts = {"creates": 0, "updates": 0, "logouts": 0, "not_acknowledged": 0,
                       "answered_5xx": 0, "gets_checked": 0, "events_listed": 0, "adopted": 0}

    def count(self, name, n=1):
        with self.lock:
            self.counts[name] += n

    # --- checks ----------------------------------------------------------------------------------

    def check(self, test, server, get_all=False, rng=None, strict=False):
        """After a restart: asserts that everything acknowledged is there, identical, and adopts
        the outcome of every unacknowledged write. Lists every user's events, GETs each event
        acknowledged or changed since the last check (every event when `get_all`), and tries each
        user's live refresh token and every refresh token revoked since the last check (plus a
        sample of older ones; all when `get_all`).

        `strict`: the server has not restarted since writes were answered 5xx, so none of those
        may show at all (see _check_running)."""
        with server.client() as client:  # one keep-alive connection for the whole check
            if strict:
                self._check_running(test, client)
            else:
                self._check_restarted(test, client, get_all, rng)

    def _check_restarted(self, test, client, get_all, rng):
        for index, user in enumerate(self.users):
            listed = self._list_all(test, client, user)
            self.count("events_listed", len(listed))
            for event_id, item in listed.items():
                found = _without_role(item)
                if event_id in user.events:
                    self._resolve(test, user, event_id, found, strict=False)
                    continue
                # Not acknowledged: it must be a create that was sent and not acknowledged.
                sent = user.maybe_creates.get(found.get("title"))
                test.assertIsNotNone(sent, f"user {user.id}: event {found} was never acknowledged "
                                           "nor sent by this test")
                test.assertEqual(found, dict(sent, id=event_id, owner_id=user.id))
                user.events[event_id] = found
                self.count("adopted")
            missing = sorted(set(user.events) - set(listed))
            test.assertEqual(missing, [], f"user {user.id}: acknowledged events are missing: "
                                          f"{[user.events[i] for i in missing[:5]]}")
            # The restart recovered what it could: a write not there now never happened.
            user.maybe_creates.clear()
            user.maybe_updates.clear()
            for event_id in sorted(user.events if get_all else
                                   {i for u, i in self.recent_ids if u == index}):
                response = client.request("GET", f"{EVENTS}{event_id}/", token=user.token)
                test.assertEqual(response.status, 200, response)
                test.assertEqual(_without_role(response.json()), user.events[event_id])
                self.count("gets_checked")
            response = client.request("POST", REFRESH, {"refresh": user.refresh})
            test.assertEqual(response.status, 200, f"a live refresh token is refused: {response}")
        self.recent_ids.clear()
        older = self.revoked[:-len(self.recent_revoked)] if self.recent_revoked else self.revoked
        sample = older if get_all or rng is None else rng.sample(older, min(20, len(older)))
        for token in self.recent_revoked + sample:
            response = client.request("POST", REFRESH, {"refresh": token})
            test.assertEqual(response.status, 401, "a refresh token blacklisted by an "
                                                   f"acknowledged logout works: {response}")
            test.assertEqual(response.json(), TOKEN_INVALID)
        self.recent_revoked = []

    def _check_running(self, test, client):
        """The strict check, targeted: GET each event acknowledged or changed since the last check,
        each event an update to which was refused, and look each refused create up by title."""
        for index, user in enumerate(self.users):
            recent = {i for u, i in self.recent_ids if u == index}
            for event_id in sorted(recent | set(user.maybe_updates)):
                response = client.request("GET", f"{EVENTS}{event_id}/", token=user.token)
                test.assertEqual(response.status, 200, response)
                self._resolve(test, user, event_id, _without_role(response.json()), strict=True)
                self.count("gets_checked")
            for title in sorted(user.maybe_creates):
                response = client.request("GET", f"{EVENTS}?title={title}&page_size={PAGE_SIZE}",
                                          token=user.token)
                test.assertEqual(response.status, 200, response)
                found = [item for item in response.json()["results"] if item["title"] == title]
                test.assertEqual(found, [], f"user {user.id}: the create of {title!r} was refused, "
                                            "yet the event is there")
        self.recent_ids.clear()

    def _resolve(self, test, user, event_id, found, strict):
        maybe = user.maybe_updates.get(event_id, [])
        expected = user.events[event_id]
        if found != expected:
            test.assertFalse(strict, f"user {user.id}: event {event_id} is {found}, but the update "
                                     f"to it was refused; acknowledged: {expected}")
            test.assertIn(found, maybe, f"user {user.id}: event {event_id} differs from what was "
                                        f"acknowledged:\n found {found}\n acknowledged {expected}")
            user.events[event_id] = found
            self.count("adopted")

    @staticmethod
    def _list_all(test, client, user):
        listed, page = {}, 1
        while True:
            response = client.request("GET", f"{EVENTS}?page={page}&page_size={PAGE_SIZE}",
                                      token=user.token)
            test.assertEqual(response.status, 200, response)
            body = response.json()
            for item in body["results"]:
                test.assertNotIn(item["id"], listed, "an event listed twice")
                listed[item["id"]] = item
            if page >= body["num_pages"]:
                test.assertEqual(body["count"], len(listed), body)
                return listed
            page += 1


def _without_role(item):
    return {k: v for k, v in item.items() if k != "role"}


class Writer(threading.Thread):
    """Creates and updates one user's events on one keep-alive connection, back to back, until
    `stop` is set or the connection fails (the server was killed). Every answer goes to the ledger.

    `allowed`: the statuses a write may get besides its success (e.g. {500, 503} under I/O faults);
    anything else is recorded in `self.errors`. `acked` is set at the first acknowledgement.
    `logouts`: also log out refresh tokens from `refresh_tokens` (a list it pops from), if any."""

    def __init__(self, server, ledger, index, rng, stop, acked, allowed=(), max_requests=None,
                 update_share=0.3, refresh_tokens=None):
        super().__init__(daemon=True)
        self.server, self.ledger, self.index, self.rng = server, ledger, index, rng
        self.user = ledger.users[index]
        self.stop, self.acked, self.allowed = stop, acked, set(allowed)
        self.max_requests = max_requests
        self.update_share = update_share
        self.refresh_tokens = refresh_tokens
        self.errors = []
        self.requests = 0
        self.statuses = {}

    def run(self):
        client = self.server.client()
        try:
            while not self.stop.is_set():
                if self.max_requests is not None and self.requests >= self.max_requests:
                    return
                self.requests += 1
                if not self.step(client):
                    return
        except Exception as error:  # noqa: BLE001 - reported by the test
            self.errors.append(f"writer {self.index}: {error!r}")
        finally:
            client.close()

    def step(self, client):
        """One request; False when the connection failed."""
        user, rng = self.user, self.rng
        if self.refresh_tokens and rng.random() < 0.5:
            return self.logout(client)
        with self.ledger.lock:
            ids = sorted(user.events)
        if ids and rng.random() < self.update_share:
            return self.update(client, rng.choice(ids))
        return self.create(client)

    def create(self, client):
        user = self.user
        title = unique_name(f"ev{self.index}")
        body = event_body(self.rng, title)
        with self.ledger.lock:
            user.titles.add(title)
            user.maybe_creates[title] = body  # until acknowledged
        try:
            response = client.request("POST", CREATE, body, token=user.token)
        except CONNECTION_ERRORS:
            self.ledger.count("not_acknowledged")
            return False
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        if response.status == 201:
            event = response.json()["event"]
            with self.ledger.lock:
                del user.maybe_creates[title]
                user.events[event["id"]] = event
                self.ledger.recent_ids.add((self.index, event["id"]))
            if event != dict(body, id=event["id"], owner_id=user.id):
                self.errors.append(f"201 body {event} is not what was sent {body}")
            self.ledger.count("creates")
            self.acked.set()
        else:
            self.unexpected(response, "POST")
        return True

    def update(self, client, event_id):
        user = self.user
        body = event_body(self.rng, unique_name(f"up{self.index}"))
        with self.ledger.lock:
            user.maybe_updates.setdefault(event_id, []).append(dict(body, id=event_id,
                                                                    owner_id=user.id))
        try:
            response = client.request("PUT", f"{EVENTS}{event_id}/?allow_conflicts=true", body,
                                      token=user.token)
        except CONNECTION_ERRORS:
            self.ledger.count("not_acknowledged")
            return False
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        if response.status == 200:
            event = response.json()["event"]
            with self.ledger.lock:
                # Acknowledged: the earlier unacknowledged updates are overwritten by this one.
                user.maybe_updates.pop(event_id, None)
                user.events[event_id] = event
                self.ledger.recent_ids.add((self.index, event_id))
            if event != dict(body, id=event_id, owner_id=user.id):
                self.errors.append(f"200 body {event} is not what was sent {body}")
            self.ledger.count("updates")
            self.acked.set()
        else:
            self.unexpected(response, "PUT")
        return True

    def logout(self, client):
        token = self.refresh_tokens.pop()
        try:
            response = client.request("POST", LOGOUT, {"refresh": token})
        except CONNECTION_ERRORS:
            self.ledger.count("not_acknowledged")
            return False
        self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        if response.status == 205:
            with self.ledger.lock:
                self.ledger.revoked.append(token)
                self.ledger.recent_revoked.append(token)
            self.ledger.count("logouts")
        else:
            self.unexpected(response, "logout")
        return True

    def unexpected(self, response, what):
        if response.status in self.allowed:
            self.ledger.count("answered_5xx" if response.status >= 500 else "not_acknowledged")
        else:
            self.errors.append(f"{what}: unexpected {response!r}")


def login_tokens(server, user, n):
    """n fresh refresh tokens of `user` (one login each)."""
    tokens = []
    for _ in range(n):
        response = server.request("POST", LOGIN, {"username": user.username,
                                                  "password": user.password})
        if response.status != 200:
            raise AssertionError(f"login failed: {response!r}")
        tokens.append(response.json()["refresh"])
    return tokens
