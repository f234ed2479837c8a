"""The role matrix of issues 4 and 5, driven by one data file (role_matrix.json): every event route
is sent as OWNER, EDITOR, VIEWER, a stranger and without a token, and must answer the status its row
names. Every refused write (401, 403, 404) is followed by proof that nothing changed: the event, its
participants and its version history read by the owner are byte-identical before and after. Every
accepted write on the event must change that snapshot, which shows that the request of each row
really is a write (a refusal of a no-op would prove nothing).

The coverage check compares the file with the operations of `GET /api/schema/`: an operation under
/api/events without a row, or a row without an operation, fails. (tests/unit/api/
route_matrix_test.cpp does the same against the routes the server really registers.)

Each (row, actor) pair gets a fresh event, so accepted writes never leak into the next pair. The
fresh event is created and then edited once: its first version differs from its current state, so a
rollback to it ("$version.first") really changes something.
"""

import datetime
import json
import os
import re
import unittest

from harness import ServerTestCase

MATRIX_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "role_matrix.json")
with open(MATRIX_PATH, encoding="utf-8") as _matrix_file:
    MATRIX = json.load(_matrix_file)
ROWS = MATRIX["routes"]

EVENT_ACTORS = ("owner", "editor", "viewer", "stranger", "no_token")
AUTHENTICATED_ACTORS = ("owner", "editor", "viewer", "stranger")
COLLECTION_ACTORS = ("any_user", "no_token")
# Users a row's params or body may name: the actors, plus `outsider`, who takes part in another
# event of the owner but not in the fixture event (secondary ids of another event).
USERS = ("owner", "editor", "viewer", "stranger", "outsider")
# Versions a row's params may name: the fixture event's first and current versions. A row's
# foreign_params may name the first version of another event (the outsider's event of owner).
VERSIONS = ("$version.first", "$version.last")
FOREIGN_VERSIONS = ("$foreign_version.first",)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
REFUSED = (401, 403, 404)

NOT_FOUND = {"error": "Event not found", "code": "not_found"}
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided.",
                     "code": "not_authenticated"}

# What "nothing changed" means for the event: these reads, as the owner, byte for byte.
EVENT_SNAPSHOT = (
    ("event", "/api/events/{id}/"),
    ("participants", "/api/events/{id}/permissions/"),
    ("history", "/api/events/{id}/history/"),
)


def is_event_route(row):
    return "{id}" in row["path"]


def path_params(path):
    return re.findall(r"\{([a-z_]+)\}", path)


def placeholders(value):
    """Every "$<name>.id" string anywhere in `value`."""
    if isinstance(value, str):
        match = re.fullmatch(r"\$([a-z_]+)\.id", value)
        return [match.group(1)] if match else []
    if isinstance(value, list):
        return [name for item in value for name in placeholders(item)]
    if isinstance(value, dict):
        return [name for item in value.values() for name in placeholders(item)]
    return []


def schema_operations(text):
    """The (METHOD, path) operations of an OpenAPI document in YAML, read line by line: the keys
    at indent 2 under the top-level `paths:` are paths, the HTTP verbs at indent 4 under them are
    operations. Enough for our own document (block style, two-space indents)."""
    operations = set()
    in_paths = False
    path = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            in_paths = stripped == "paths:"
            path = None
            continue
        if not in_paths:
            continue
        if indent == 2:
            match = re.fullmatch(r"""['"]?(/[^'"]*)['"]?:""", stripped)
            path = match.group(1) if match else None
        elif indent == 4 and path is not None:
            match = re.fullmatch(r"(get|put|post|patch|delete|head|options|trace):", stripped)
            if match:
                operations.add((match.group(1).upper(), path))
    return operations


def row_name(row):
    return f"{row['method']} {row['path']}"


# --- the file itself ----------------------------------------------------------------------------


class RoleMatrixFileTest(unittest.TestCase):
    """The data file is well formed and states the rules of issue 4 (no server needed)."""

    def test_rows_are_unique_and_well_formed(self):
        seen = set()
        for row in ROWS:
            with self.subTest(row=row_name(row)):
                self.assertIn(row["method"], METHODS)
                self.assertTrue(row["path"].startswith("/api/events/"), row)
                self.assertTrue(row["path"].endswith("/"), row)
                self.assertNotIn((row["method"], row["path"]), seen, "duplicate row")
                seen.add((row["method"], row["path"]))
                self.assertIsInstance(row.get("action"), str, row)
                self.assertIsInstance(row.get("write"), bool, row)
                self.assertIn("body", row, row)
                if "query" in row:
                    self.assertTrue(row["query"].startswith("?"), row)
                for status in row["expect"].values():
                    self.assertIsInstance(status, int, row)
                    self.assertTrue(100 <= status <= 599, row)

    def test_every_row_names_every_actor(self):
        for row in ROWS:
            with self.subTest(row=row_name(row)):
                wanted = EVENT_ACTORS if is_event_route(row) else COLLECTION_ACTORS
                self.assertEqual(set(row["expect"]), set(wanted), row)

    def test_parameters_and_placeholders_name_known_users_or_versions(self):
        for row in ROWS:
            with self.subTest(row=row_name(row)):
                secondary = [p for p in path_params(row["path"]) if p != "id"]
                params = row.get("params", {})
                self.assertEqual(set(params), set(secondary), row)
                for value in params.values():
                    self.assertTrue(value in USERS or value in VERSIONS, row)
                if "foreign_params" in row:
                    foreign = row["foreign_params"]
                    self.assertEqual(set(foreign), set(secondary), row)
                    self.assertIsInstance(row.get("foreign_status"), int, row)
                    self.assertIsInstance(row.get("foreign_error", ""), str, row)
                    for name, value in foreign.items():
                        # a user parameter stays a user, a version parameter a version
                        if params[name] in USERS:
                            self.assertIn(value, USERS, row)
                        else:
                            self.assertTrue(value in VERSIONS or value in FOREIGN_VERSIONS, row)
                    self.assertTrue(any(value == "outsider" or value in FOREIGN_VERSIONS
                                        for value in foreign.values()),
                                    f"foreign_params name nothing of another event: {row}")
                for user in placeholders(row["body"]):
                    self.assertIn(user, USERS, row)

    def test_rows_follow_the_rules_of_issue_4(self):
        for row in ROWS:
            expect = row["expect"]
            with self.subTest(row=row_name(row)):
                self.assertEqual(expect["no_token"], 401, "no token is always 401")
                if not is_event_route(row):
                    self.assertLess(expect["any_user"], 300, row)
                    continue
                self.assertEqual(expect["stranger"], 404, "anyone else gets 404")
                self.assertLess(expect["owner"], 300, "the owner may do everything")
                if row["write"]:
                    self.assertEqual(expect["viewer"], 403, "a viewer writes nothing")
                else:
                    for actor in ("editor", "viewer"):
                        self.assertLess(expect[actor], 300, "every participant reads")
                for actor in ("editor", "viewer"):
                    self.assertIn(expect[actor], (200, 201, 403), row)

    def test_secondary_ids_are_checked_for_crossing_events(self):
        for row in ROWS:
            if [p for p in path_params(row["path"]) if p != "id"]:
                with self.subTest(row=row_name(row)):
                    self.assertIn("foreign_params", row,
                                  "a secondary id must be tried across events")
                    self.assertEqual(row["foreign_status"], 404, row)


class SchemaParserTest(unittest.TestCase):

    def test_reads_paths_and_verbs_only_under_paths(self):
        text = "\n".join([
            "openapi: 3.1.0",
            "info:",
            "  title: x",
            "paths:",
            "  /api/events/:",
            "    parameters:",
            "      - $ref: '#/components/parameters/RequestId'",
            "    get:",
            "      description: |",
            "        post:",
            "    post:",
            "  '/api/events/{id}/':",
            "    # a comment",
            "    delete:",
            "components:",
            "  /not/a/path:",
            "    get:",
        ])
        self.assertEqual(schema_operations(text), {("GET", "/api/events/"),
                                                   ("POST", "/api/events/"),
                                                   ("DELETE", "/api/events/{id}/")})


# --- against the server -------------------------------------------------------------------------


class MatrixTestCase(ServerTestCase):
    """Five users registered once for the class; a fresh event for every (row, actor) pair."""

    users = None  # name -> {"token", "id"}
    other_event = None  # an event of owner's in which outsider takes part (and nobody else)
    _slot = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.users = {}
        for name in USERS:
            tokens, user = cls.server.register()
            cls.users[name] = {"token": tokens["access"], "id": user["id"]}

    # requests

    def token_of(self, actor):
        return None if actor == "no_token" else self.users[actor]["token"]

    def next_slot(self):
        """A fresh hour in 2030 for a new fixture event: fixtures never overlap one another."""
        cls = type(self)
        cls._slot += 1
        start = datetime.datetime(2030, 3, 1) + datetime.timedelta(hours=2 * cls._slot)
        end = start + datetime.timedelta(hours=1)
        return start.strftime("%Y-%m-%d %H:%M"), end.strftime("%Y-%m-%d %H:%M")

    def create_event(self, title):
        start, end = self.next_slot()
        response = self.server.request("POST", "/api/events/",
                                       {"title": title, "start_time": start, "end_time": end},
                                       token=self.token_of("owner"))
        self.assertEqual(response.status, 201, f"fixture: create failed: {response!r}")
        return response.json()["event"]["id"]

    def share(self, event_id, entries):
        response = self.server.request(
            "POST", f"/api/events/{event_id}/share/",
            {"users": [{"user_id": self.users[name]["id"], "role": role}
                       for name, role in entries]},
            token=self.token_of("owner"))
        self.assertEqual(response.status, 200, f"fixture: share failed: {response!r}")

    def edit(self, event_id, body):
        response = self.server.request("PATCH", f"/api/events/{event_id}/", body,
                                       token=self.token_of("owner"))
        self.assertEqual(response.status, 200, f"fixture: edit failed: {response!r}")

    def fixture(self):
        """A new event owned by owner, shared with editor (EDITOR) and viewer (VIEWER), created
        and then edited once: two versions, the first different from the current state."""
        event_id = self.create_event("matrix fixture")
        self.share(event_id, [("editor", "EDITOR"), ("viewer", "VIEWER")])
        self.edit(event_id, {"description": "matrix fixture, edited once"})
        return event_id

    def outsiders_event(self):
        """An event of owner's in which outsider takes part: outsider's id is a secondary id that
        belongs to another event than the fixture."""
        cls = type(self)
        if cls.other_event is None:
            event_id = self.create_event("outsider's event")
            self.share(event_id, [("outsider", "VIEWER")])
            self.edit(event_id, {"description": "outsider's event, edited once"})
            cls.other_event = event_id
        return cls.other_event

    def fill(self, value):
        """`value` with every "$<user>.id" replaced by that user's id."""
        if isinstance(value, str):
            match = re.fullmatch(r"\$([a-z_]+)\.id", value)
            return self.users[match.group(1)]["id"] if match else value
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        return value

    def version_ids(self, event_id):
        """The event's history ids as the owner reads them, oldest first."""
        response = self.server.request("GET", f"/api/events/{event_id}/history/",
                                       token=self.token_of("owner"))
        self.assertEqual(response.status, 200, f"fixture: history failed: {response!r}")
        ids = [item["version_id"] for item in reversed(response.json())]
        self.assertGreaterEqual(len(ids), 2, f"fixture: fewer than two versions: {response!r}")
        return ids

    def resolve(self, value, event_id):
        """A params value as a path segment: a user's id, or a version's history_id."""
        if value in USERS:
            return self.users[value]["id"]
        if value in FOREIGN_VERSIONS:
            return self.version_ids(self.outsiders_event())[0]
        ids = self.version_ids(event_id)
        return {"$version.first": ids[0], "$version.last": ids[-1]}[value]

    def target(self, row, event_id, params):
        path = row["path"]
        if event_id is not None:
            path = path.replace("{id}", str(event_id))
        for name, value in params.items():
            path = path.replace("{" + name + "}", str(self.resolve(value, event_id)))
        return path + row.get("query", "")

    def send(self, row, actor, event_id, params=None):
        path = self.target(row, event_id, row.get("params", {}) if params is None else params)
        return self.server.request(row["method"], path, self.fill(row["body"]),
                                   token=self.token_of(actor))

    # snapshots

    def event_snapshot(self, event_id):
        """The event's reads (EVENT_SNAPSHOT) as the owner: [(name, status, body bytes)]."""
        snapshot = []
        for name, template in EVENT_SNAPSHOT:
            response = self.server.request("GET", template.replace("{id}", str(event_id)),
                                           token=self.token_of("owner"))
            snapshot.append((name, response.status, response.body))
        return snapshot

    def lists_snapshot(self):
        """Every user's first page of events, with its count: a refused create adds nothing."""
        snapshot = []
        for name in USERS:
            response = self.server.request("GET", "/api/events/?page_size=100",
                                           token=self.token_of(name))
            snapshot.append((f"list of {name}", response.status, response.body))
        return snapshot

    # assertions

    def assertRefusalBody(self, response, status):
        if status == 401:
            self.assertEqual(self.assertJsonResponse(response, 401), NOT_AUTHENTICATED)
            self.assertTrue(response.headers.get("WWW-Authenticate"), response)
        elif status == 403:
            body = self.assertErrorBody(response, 403, code="permission_denied")
            self.assertEqual(set(body), {"error", "code"}, body)
        elif status == 404:
            self.assertEqual(self.assertJsonResponse(response, 404), NOT_FOUND)

    def check(self, row, actor, expected):
        """Sends `row` as `actor` on a fresh event and asserts the status, the refusal body, and
        for a write that a refusal changed nothing and an acceptance changed the event."""
        event_id = self.fixture()
        before = self.event_snapshot(event_id)
        self.assertTrue(all(status == 200 for _, status, _ in before), before)
        lists_before = self.lists_snapshot() if row["write"] else None
        response = self.send(row, actor, event_id if is_event_route(row) else None)
        self.assertEqual(response.status, expected,
                         f"{row_name(row)} as {actor}: expected {expected}, got {response!r}")
        if expected in REFUSED:
            self.assertRefusalBody(response, expected)
        else:
            self.assertEqual(response.media_type(), "application/json", response)
        if not row["write"]:
            return
        after = self.event_snapshot(event_id)
        if expected in REFUSED:
            self.assertEqual(after, before, f"refused {row_name(row)} as {actor} changed the event")
            self.assertEqual(self.lists_snapshot(), lists_before,
                             f"refused {row_name(row)} as {actor} changed a list of events")
        elif is_event_route(row):
            self.assertNotEqual(after, before,
                                f"accepted {row_name(row)} as {actor} changed nothing: the row's "
                                "request proves nothing when refused")


class RoleMatrixTest(MatrixTestCase):
    """One test per row of role_matrix.json (added below), one subTest per actor."""

    def check_row(self, row):
        if is_event_route(row):
            cases = [(actor, row["expect"][actor]) for actor in EVENT_ACTORS]
        else:
            cases = [(actor, row["expect"]["any_user"]) for actor in AUTHENTICATED_ACTORS]
            cases.append(("no_token", row["expect"]["no_token"]))
        for actor, expected in cases:
            with self.subTest(actor=actor, expected=expected):
                self.check(row, actor, expected)

    def test_unknown_event_is_the_strangers_404(self):
        # The stranger's 404 must not tell an existing event from one that does not exist.
        for row in ROWS:
            if not is_event_route(row):
                continue
            with self.subTest(row=row_name(row)):
                # user parameters: a real user; version parameters: a real version (of another
                # event), so that only the event id is unknown
                params = {name: "stranger" if value in USERS else FOREIGN_VERSIONS[0]
                          for name, value in row.get("params", {}).items()}
                path = self.target(row, 999999999, params)
                response = self.server.request(row["method"], path, self.fill(row["body"]),
                                               token=self.token_of("owner"))
                self.assertEqual(self.assertJsonResponse(response, 404), NOT_FOUND)

    def test_secondary_ids_of_another_event_are_404_and_change_nothing(self):
        other = self.outsiders_event()
        for row in ROWS:
            if "foreign_params" not in row:
                continue
            with self.subTest(row=row_name(row)):
                event_id = self.fixture()
                before = (self.event_snapshot(event_id), self.event_snapshot(other))
                response = self.send(row, "owner", event_id, row["foreign_params"])
                body = self.assertErrorBody(response, row["foreign_status"], code="not_found")
                self.assertEqual(set(body), {"error", "code"}, body)
                if "foreign_error" in row:
                    self.assertEqual(body["error"], row["foreign_error"], body)
                after = (self.event_snapshot(event_id), self.event_snapshot(other))
                self.assertEqual(after, before)


def _row_test(row):
    def test(self):
        self.check_row(row)
    test.__doc__ = f"{row_name(row)} ({row['action']}) as every actor."
    return test


for _row in ROWS:
    _slug = re.sub(r"[^a-z0-9]+", "_", _row["path"].lower()).strip("_")
    setattr(RoleMatrixTest, f"test_{_row['method']}_{_slug}", _row_test(_row))


class RouteCoverageTest(ServerTestCase):
    """Every operation under /api/events in the served schema has a row, and every row an
    operation: a new route without a row fails here."""

    def test_schema_operations_and_matrix_rows_match(self):
        response = self.server.request("GET", "/api/schema/")
        self.assertEqual(response.status, 200, response)
        operations = schema_operations(response.body.decode("utf-8"))
        self.assertIn(("GET", "/healthz"), operations, "the schema parser found nothing")
        documented = {op for op in operations if op[1].startswith("/api/events")}
        rows = {(row["method"], row["path"]) for row in ROWS}
        self.assertEqual(sorted(documented - rows), [],
                         "operations under /api/events without a row in role_matrix.json")
        self.assertEqual(sorted(rows - documented), [],
                         "rows in role_matrix.json without an operation in the schema")


if __name__ == "__main__":
    unittest.main()
