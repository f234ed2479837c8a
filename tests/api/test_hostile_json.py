"""Hostile JSON on every endpoint that reads a JSON body (issue 7, proof 4).

A table of endpoints (each with a valid body that has one "slot" where a hostile value goes) times
a table of hostile inputs: invalid UTF-8, 100,000 nested '[', a 1 MB string, 1e309, duplicate
keys, \\u0000, numbers where strings belong and the reverse, unparseable dates, end before start.
Every one is refused with 400 (401 where the slot is a credential and the value is a well-formed
string that is simply not a valid credential), never 5xx, and changes nothing.

Duplicate keys: refused with 400 "invalid_json" (the parser would otherwise keep the last one
silently, so two layers reading the same body could disagree about it).
"""

import json
import unittest

from harness import ServerTestCase, unique_name

EVENT_TIMES = b'"start_time": "2033-01-01 10:00", "end_time": "2033-01-01 11:00"'
SLOT = b"%SLOT%"  # where the hostile value goes in a template
SQL_TITLE = "'); DROP TABLE events;--"


class Endpoint:
    """A JSON-accepting route: `method`, `path`, whether it needs the owner's token, and
    `body(slot)` → raw body bytes with the JSON text `slot` in the string member `key` (at SLOT in
    `template`).
    `credential`: the slot holds a credential (a well-formed but wrong string is then a 401)."""

    def __init__(self, name, method, path, template, key, token=True, credential=False,
                 events=False, numbers=()):
        self.name, self.method, self.path = name, method, path
        self.template, self.key = template, key
        self.token, self.credential, self.events = token, credential, events
        self.numbers = numbers  # templates with a slot where a JSON number belongs

    def body(self, slot):
        return self.template.replace(SLOT, slot)


class HostileJsonTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.make_fixture()
        except BaseException:
            cls.tearDownClass()  # unittest skips it when setUpClass fails: stop the server
            raise

    @classmethod
    def make_fixture(cls):
        cls.owner_tokens, cls.owner = cls.server.register()
        cls.viewer_tokens, cls.viewer = cls.server.register()
        access = cls.owner_tokens["access"]
        created = cls.server.request("POST", "/api/events/", {
            "title": "hostile target", "start_time": "2033-02-01 10:00",
            "end_time": "2033-02-01 11:00"}, token=access)
        assert created.status == 201, created
        cls.event_id = created.json()["event"]["id"]
        shared = cls.server.request("POST", f"/api/events/{cls.event_id}/share/",
                                    {"users": [{"user_id": cls.viewer["id"], "role": "VIEWER"}]},
                                    token=access)
        assert shared.status == 200, shared
        history = cls.server.request("GET", f"/api/events/{cls.event_id}/history/", token=access)
        assert history.status == 200, history
        versions = history.json()
        versions = versions["results"] if isinstance(versions, dict) else versions
        cls.version_id = versions[-1]["version_id"]
        cls.endpoints = cls.make_endpoints()

    @classmethod
    def make_endpoints(cls):
        event = f"/api/events/{cls.event_id}/"
        viewer = str(cls.viewer["id"]).encode()
        login_name = json.dumps(cls.owner["username"]).encode()
        password = json.dumps(cls.owner["password"]).encode()
        username = unique_name("hostile")
        account = (b', "email": "' + username.encode() + b'@example.com", '
                   b'"password": "long-enough-password"}')
        event_body = b'{"title": %SLOT%, ' + EVENT_TIMES + b"}"
        return [
            Endpoint("register", "POST", "/api/auth/register/", b'{"username": %SLOT%' + account,
                     "username", token=False),
            Endpoint("login", "POST", "/api/auth/login/",
                     b'{"username": %SLOT%, "password": ' + password + b"}", "username", token=False,
                     credential=True),
            Endpoint("refresh", "POST", "/api/auth/refresh/", b'{"refresh": %SLOT%}', "refresh",
                     token=False, credential=True),
            Endpoint("logout", "POST", "/api/auth/logout/", b'{"refresh": %SLOT%}', "refresh",
                     token=False, credential=True),
            Endpoint("create", "POST", "/api/events/", event_body, "title", events=True),
            Endpoint("batch", "POST", "/api/events/batch/", b"[" + event_body + b"]", "title",
                     events=True),
            Endpoint("put", "PUT", event, event_body, "title", events=True),
            Endpoint("patch", "PATCH", event, b'{"title": %SLOT%}', "title", events=True),
            Endpoint("share", "POST", event + "share/",
                     b'{"users": [{"user_id": ' + viewer + b', "role": %SLOT%}]}', "role",
                     numbers=(b'{"users": [{"user_id": %SLOT%, "role": "EDITOR"}]}',)),
            Endpoint("change role", "PUT", f"{event}permissions/{cls.viewer['id']}/",
                     b'{"role": %SLOT%}', "role"),
            Endpoint("rollback", "POST", f"{event}rollback/{cls.version_id}/",
                     b'{"change_reason": %SLOT%}', "change_reason"),
        ]

    def valid_slot(self, endpoint):
        """A value that makes `endpoint`'s body acceptable (for the duplicate-key cases)."""
        return {
            "username": json.dumps(self.owner["username"]) if endpoint.credential
            else json.dumps(unique_name("dup")),
            "refresh": json.dumps(self.owner_tokens["refresh"]),
            "title": '"duplicate"',
            "role": '"EDITOR"',
            "change_reason": '"duplicate"',
        }[endpoint.key].encode()

    # sending and checking

    def send(self, endpoint, body, content_type="application/json"):
        token = self.owner_tokens["access"] if endpoint.token else None
        return self.server.request(endpoint.method, endpoint.path, body,
                                   headers={"Content-Type": content_type}, token=token)

    def assertRefused(self, endpoint, body, allowed=(400,)):
        response = self.send(endpoint, body)
        self.assertLess(response.status, 500, response)
        self.assertIn(response.status, allowed, response)
        self.assertErrorBodyOrToken(response)
        return response

    def assertErrorBodyOrToken(self, response):
        body = self.assertJsonResponse(response, response.status)
        self.assertIsInstance(body, dict, response)
        self.assertIsInstance(body.get("code"), str, response)

    def run_table(self, cases, string_value=True, also=()):
        """cases: label -> slot bytes. string_value: the slot is a well-formed JSON string (so a
        credential slot may answer 401). also: other statuses allowed."""
        for endpoint in self.endpoints:
            allowed = (400, 401) if endpoint.credential and string_value else (400,)
            allowed += tuple(also)
            for label, slot in cases.items():
                with self.subTest(endpoint.name, case=label):
                    self.assertRefused(endpoint, endpoint.body(slot), allowed)

    # the table

    def test_invalid_utf8(self):
        self.run_table({
            "0xff 0xfe": b'"\xff\xfe"',
            "overlong slash": b'"\xc0\xaf"',
            "encoded surrogate": b'"\xed\xa0\x80"',
            "truncated sequence": b'"abc\xe2\x82"',
            "bare continuation byte": b'"abc\x80"',
            "beyond U+10FFFF": b'"\xf4\x90\x80\x80"',
        }, string_value=False)

    def test_invalid_utf8_outside_strings_and_in_keys(self):
        for endpoint in self.endpoints:
            for label, body in (("in a key", endpoint.body(b'"x", "\xff": 1')),
                                ("between tokens", endpoint.body(b'"x" \xff')),
                                ("byte order mark", b"\xef\xbb\xbf" + endpoint.body(b'"x"'))):
                with self.subTest(endpoint.name, case=label):
                    self.assertRefused(endpoint, body)

    def test_lone_surrogate_escapes(self):
        # Valid JSON syntax, but not text: a lone surrogate cannot be stored as UTF-8.
        self.run_table({"lone high": b'"\\ud800"', "lone low": b'"\\udc00"',
                        "reversed pair": b'"\\udc00\\ud800"'}, string_value=False)

    def test_100000_nested_brackets(self):
        self.run_table({"unclosed": b"[" * 100000,
                        "closed": b"[" * 100000 + b"]" * 100000,
                        "objects": b'{"a":' * 50000 + b"1" + b"}" * 50000}, string_value=False)
        for endpoint in self.endpoints:
            with self.subTest(endpoint.name, case="whole body"):
                self.assertRefused(endpoint, b"[" * 100000)

    def test_1_mb_string(self):
        self.run_table({"1 MB of x": b'"' + b"x" * 1_000_000 + b'"',
                        "1 MB of escapes": b'"' + b"\\u00e9" * 170_000 + b'"'})

    def test_huge_numbers(self):
        self.run_table({"1e309": b"1e309", "-1e309": b"-1e309", "1e-400": b"1e-400",
                        "2^64": b"18446744073709551616",
                        "400 digits": b"9" * 400}, string_value=False)

    def test_numbers_and_other_types_where_strings_belong(self):
        self.run_table({"integer": b"5", "negative": b"-1", "fraction": b"1.5", "true": b"true",
                        "array": b'["x"]', "object": b'{"x": "y"}'}, string_value=False)

    def test_strings_where_numbers_belong(self):
        cases = {"digits in a string": b'"@"', "word": b'"five"', "fraction": b"1.5",
                 "1e309": b"1e309", "zero": b"0", "negative": b"-3", "true": b"true"}
        tried = 0
        for endpoint in self.endpoints:
            for template in endpoint.numbers:
                for label, slot in cases.items():
                    slot = slot.replace(b"@", str(self.viewer["id"]).encode())
                    with self.subTest(endpoint.name, case=label):
                        self.assertRefused(endpoint, template.replace(SLOT, slot))
                        tried += 1
        for endpoint in self.events_endpoints():
            for label, value in (("string", b'"true"'), ("number", b"1")):
                with self.subTest(endpoint.name, case=f"is_recurring as a {label}"):
                    body = endpoint.body(b'"t", "is_recurring": ' + value
                                         + b', "recurrence_pattern": "daily"')
                    self.assertRefused(endpoint, body)
                    tried += 1
        self.assertGreater(tried, 0)

    def test_nul_in_a_string(self):
        self.run_table({"inside": b'"a\\u0000b"', "alone": b'"\\u0000"',
                        "at the end": b'"title\\u0000"'})

    def test_duplicate_keys_are_refused(self):
        for endpoint in self.endpoints:
            key = endpoint.key.encode()
            for label, slot in (("same value", self.valid_slot(endpoint) + b', "' + key + b'": '
                                 + self.valid_slot(endpoint)),
                                ("different values", self.valid_slot(endpoint) + b', "' + key
                                 + b'": "other"')):
                with self.subTest(endpoint.name, case=label):
                    response = self.assertRefused(endpoint, endpoint.body(slot))
                    self.assertEqual(response.json()["code"], "invalid_json", response)
        # The refresh token offered twice in one logout body was not revoked.
        response = self.server.request("POST", "/api/auth/refresh/",
                                       {"refresh": self.owner_tokens["refresh"]})
        self.assertEqual(response.status, 200, response)

    def test_duplicate_keys_in_nested_objects_and_batch_items(self):
        share = self.endpoint("share")
        body = (b'{"users": [{"user_id": ' + str(self.viewer["id"]).encode()
                + b', "user_id": ' + str(self.owner["id"]).encode() + b', "role": "EDITOR"}]}')
        self.assertRefused(share, body)
        batch = self.endpoint("batch")
        self.assertRefused(batch, b'[{"title": "a", ' + EVENT_TIMES + b'}, {"title": "b", '
                           + EVENT_TIMES + b', "end_time": "2033-01-01 12:00"}]')

    def events_endpoints(self):
        return [endpoint for endpoint in self.endpoints if endpoint.events]

    def endpoint(self, name):
        return next(endpoint for endpoint in self.endpoints if endpoint.name == name)

    def test_unparseable_dates(self):
        for endpoint in self.events_endpoints():
            for value in ("not a date", "", "2033-02-30 10:00", "2033-13-01 10:00",
                          "2033-01-01 24:01", "2033-01-01 10:60", "99999-01-01 10:00",
                          "2033-01-01T10:00:00+99:00", "2033-01-01 10:00 tomorrow",
                          "0000-00-00 00:00", "-2033-01-01 10:00", "2033-01-01\u00a010:00",
                          "1e309", "１９７０-01-01 10:00"):
                for member in ("start_time", "end_time"):
                    with self.subTest(endpoint.name, member=member, value=value):
                        item = {"title": "dates", "start_time": "2033-01-01 10:00",
                                "end_time": "2033-01-01 11:00", member: value}
                        body = [item] if endpoint.name == "batch" else item
                        self.assertRefused(endpoint, json.dumps(body).encode())
            for value in (1, 1.5, 1e300, True, ["2033-01-01 10:00"], {"date": "2033-01-01"}):
                with self.subTest(endpoint.name, value=value):
                    item = {"title": "dates", "start_time": value, "end_time": "2033-01-01 11:00"}
                    body = [item] if endpoint.name == "batch" else item
                    self.assertRefused(endpoint, json.dumps(body).encode())

    def test_end_before_or_at_start(self):
        for endpoint in self.events_endpoints():
            for start, end in (("2033-01-01 11:00", "2033-01-01 10:00"),
                               ("2033-01-01 10:00", "2033-01-01 10:00"),
                               ("2033-01-01T10:00:00+00:00", "2033-01-01T11:00:00+02:00")):
                with self.subTest(endpoint.name, start=start, end=end):
                    item = {"title": "order", "start_time": start, "end_time": end}
                    body = [item] if endpoint.name == "batch" else item
                    self.assertRefused(endpoint, json.dumps(body).encode())

    def test_nothing_changed(self):
        # Runs after the tables (alphabetical order is not relied on: it re-checks the fixture,
        # which every refused request above left alone, whenever it runs).
        access = self.owner_tokens["access"]
        event = self.server.request("GET", f"/api/events/{self.event_id}/", token=access).json()
        self.assertEqual(event["title"], "hostile target")
        participants = self.server.request("GET", f"/api/events/{self.event_id}/permissions/",
                                           token=access).json()["participants"]
        self.assertEqual({p["user_id"]: p["role"] for p in participants},
                         {self.owner["id"]: "OWNER", self.viewer["id"]: "VIEWER"})
        self.assertServing()


class SqlTitleTest(ServerTestCase):
    """A title of `'); DROP TABLE events;--` is data: it round-trips verbatim everywhere."""

    def test_title_round_trips_verbatim(self):
        tokens, _ = self.server.register()
        access = tokens["access"]
        for title in (SQL_TITLE, "Robert'); DROP TABLE users;--", "\" OR 1=1 --", "%_\\"):
            with self.subTest(title=title):
                created = self.server.request("POST", "/api/events/?allow_conflicts=true", {
                    "title": title, "description": title, "location": title,
                    "start_time": "2033-03-01 10:00", "end_time": "2033-03-01 11:00"},
                    token=access)
                event = self.assertJsonResponse(created, 201)["event"]
                for member in ("title", "description", "location"):
                    self.assertEqual(event[member], title)
                path = f"/api/events/{event['id']}/"
                read = self.assertJsonResponse(
                    self.server.request("GET", path, token=access), 200)
                self.assertEqual(read["title"], title)
                found = self.assertJsonResponse(self.server.request(
                    "GET", "/api/events/?page_size=100&title=" + _quote(title), token=access), 200)
                self.assertIn(event["id"], [item["id"] for item in found["results"]])
                for item in found["results"]:
                    self.assertIn(title, item["title"])
                patched = self.server.request("PATCH", path, {"title": title + " again"},
                                              token=access)
                self.assertEqual(self.assertJsonResponse(patched, 200)["event"]["title"],
                                 title + " again")
        batch = self.server.request("POST", "/api/events/batch/",
                                    [{"title": SQL_TITLE, "start_time": "2033-04-01 10:00",
                                      "end_time": "2033-04-01 11:00"}], token=access)
        body = self.assertJsonResponse(batch, 201)
        self.assertEqual(body["created_events"][0]["title"], SQL_TITLE)
        listing = self.assertJsonResponse(
            self.server.request("GET", "/api/events/?page_size=100", token=access), 200)
        self.assertEqual(listing["count"], 5)  # four titles and the batch: the table is intact


def _quote(text):
    from urllib.parse import quote
    return quote(text, safe="")


if __name__ == "__main__":
    unittest.main()
