"""Events over real HTTP (issue 3): create, read, update, delete, the paginated and filtered list,
batch create, and conflict detection, each with its success, validation errors, 401 without a token
and 404 for another user's event.

Every test works as users of its own (registered in the test), so tests do not see each other's
events and may reuse the same times. Times are written `2030-01-DD HH:MM` (see `at()`).
"""

import threading
import unittest

from harness import ServerTestCase, unique_name

EVENTS = "/api/events/"
BATCH = "/api/events/batch/"

EVENT_KEYS = {"id", "title", "description", "start_time", "end_time", "location", "is_recurring",
              "recurrence_pattern", "owner_id"}
EVENT_WITH_ROLE_KEYS = EVENT_KEYS | {"role"}
SUMMARY_KEYS = {"id", "title", "start_time", "end_time"}
PAGE_KEYS = {"results", "count", "num_pages", "current_page"}
TIME_FORMAT = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"

NOT_FOUND = {"error": "Event not found", "code": "not_found"}
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided.",
                     "code": "not_authenticated"}
CONFLICT_MESSAGE = "Event overlaps existing event(s)"


def at(day, hour, minute=0):
    """A time as clients send it, `2030-01-DD HH:MM`; the server prints it with `:00` seconds."""
    return f"2030-01-{day:02d} {hour:02d}:{minute:02d}"


def printed(day, hour, minute=0):
    """What the server prints for at(day, hour, minute)."""
    return f"{at(day, hour, minute)}:00"


def event_body(title=None, start=None, end=None, **extra):
    """A valid create body: a unique title and 1 January 2030, 10:00 to 11:00, unless overridden."""
    body = {"title": title if title is not None else unique_name("event"),
            "start_time": start if start is not None else at(1, 10),
            "end_time": end if end is not None else at(1, 11)}
    body.update(extra)
    return body


def event_path(event_id):
    return f"{EVENTS}{event_id}/"


class EventsTestCase(ServerTestCase):
    """Helpers shared by the events suites."""

    # users

    def new_user(self):
        """Registers a user; returns (access_token, user_id)."""
        tokens, user = self.server.register()
        return tokens["access"], user["id"]

    # requests

    def create(self, token, body, query=""):
        return self.server.request("POST", EVENTS + query, body, token=token)

    def create_ok(self, token, query="", **fields):
        """Creates event_body(**fields) and returns the created event (asserting 201)."""
        response = self.create(token, event_body(**fields), query)
        body = self.assertJsonResponse(response, 201)
        self.assertEqual(body.get("message"), "Event created successfully", body)
        self.assertEvent(body["event"])
        return body["event"]

    def get(self, token, event_id):
        return self.server.request("GET", event_path(event_id), token=token)

    def update(self, token, event_id, body, method="PUT", query=""):
        return self.server.request(method, event_path(event_id) + query, body, token=token)

    def delete(self, token, event_id):
        return self.server.request("DELETE", event_path(event_id), token=token)

    def list(self, token, query=""):
        return self.server.request("GET", EVENTS + query, token=token)

    def list_ok(self, token, query=""):
        body = self.assertJsonResponse(self.list(token, query), 200)
        self.assertPage(body)
        return body

    def all_ids(self, token):
        """The ids of every event the user sees, by id (page_size 100, one page at a time)."""
        ids, page = [], 1
        while True:
            body = self.list_ok(token, f"?page={page}&page_size=100")
            ids += [item["id"] for item in body["results"]]
            if page >= body["num_pages"]:
                return ids
            page += 1

    def batch(self, token, items, query=""):
        return self.server.request("POST", BATCH + query, items, token=token)

    def batch_ok(self, token, items, query=""):
        body = self.assertJsonResponse(self.batch(token, items, query), 201)
        self.assertBatchResult(body)
        return body

    # assertions

    def assertEvent(self, event, expected=None, keys=EVENT_KEYS):
        """An event object: exactly `keys`, well-typed, times printed in the API's format, and
        equal to `expected` on the members it names."""
        self.assertIsInstance(event, dict, event)
        self.assertEqual(set(event), keys, event)
        self.assertIsInstance(event["id"], int, event)
        self.assertNotIsInstance(event["id"], bool, event)
        self.assertGreater(event["id"], 0, event)
        self.assertIsInstance(event["owner_id"], int, event)
        for member in ("title", "description", "location"):
            self.assertIsInstance(event[member], str, event)
        self.assertRegex(event["start_time"], TIME_FORMAT)
        self.assertRegex(event["end_time"], TIME_FORMAT)
        self.assertLess(event["start_time"], event["end_time"], event)
        self.assertIsInstance(event["is_recurring"], bool, event)
        if event["is_recurring"]:
            self.assertIsInstance(event["recurrence_pattern"], str, event)
        else:
            self.assertIsNone(event["recurrence_pattern"], event)
        if "role" in keys:
            self.assertIn(event["role"], ("OWNER", "EDITOR", "VIEWER"), event)
        for key, value in (expected or {}).items():
            self.assertEqual(event[key], value, f"{key} of {event}")
        return event

    def assertSummary(self, summary, expected=None):
        self.assertIsInstance(summary, dict, summary)
        self.assertEqual(set(summary), SUMMARY_KEYS, summary)
        self.assertIsInstance(summary["id"], int, summary)
        self.assertIsInstance(summary["title"], str, summary)
        self.assertRegex(summary["start_time"], TIME_FORMAT)
        self.assertRegex(summary["end_time"], TIME_FORMAT)
        for key, value in (expected or {}).items():
            self.assertEqual(summary[key], value, f"{key} of {summary}")

    def assertPage(self, body, count=None, num_pages=None, current_page=None, length=None):
        self.assertIsInstance(body, dict, body)
        self.assertEqual(set(body), PAGE_KEYS, body)
        self.assertIsInstance(body["results"], list, body)
        for name in ("count", "num_pages", "current_page"):
            self.assertIsInstance(body[name], int, body)
            self.assertNotIsInstance(body[name], bool, body)
        self.assertGreaterEqual(body["num_pages"], 1, body)
        for item in body["results"]:
            self.assertEvent(item, keys=EVENT_WITH_ROLE_KEYS)
        if count is not None:
            self.assertEqual(body["count"], count, body)
        if num_pages is not None:
            self.assertEqual(body["num_pages"], num_pages, body)
        if current_page is not None:
            self.assertEqual(body["current_page"], current_page, body)
        if length is not None:
            self.assertEqual(len(body["results"]), length, body)

    def assertBatchResult(self, body):
        self.assertIsInstance(body, dict, body)
        self.assertEqual(set(body), {"created_events", "errors"}, body)
        self.assertIsInstance(body["created_events"], list, body)
        self.assertIsInstance(body["errors"], list, body)
        for summary in body["created_events"]:
            self.assertSummary(summary)
        for error in body["errors"]:
            self.assertItemError(error)

    def assertItemError(self, error, index=None, field=None, conflict=False):
        """One item of a batch's `errors`: {"index", "error", "fields"?, "conflicts"?}."""
        self.assertIsInstance(error, dict, error)
        self.assertLessEqual(set(error), {"index", "error", "fields", "conflicts"}, error)
        self.assertIsInstance(error.get("index"), int, error)
        self.assertIsInstance(error.get("error"), str, error)
        self.assertTrue(error["error"], error)
        if "fields" in error:
            self.assertIsInstance(error["fields"], dict, error)
            for messages in error["fields"].values():
                self.assertIsInstance(messages, list, error)
                self.assertTrue(messages, error)
        if "conflicts" in error:
            self.assertIsInstance(error["conflicts"], list, error)
            for summary in error["conflicts"]:
                self.assertSummary(summary)
        if index is not None:
            self.assertEqual(error["index"], index, error)
        if field is not None:
            self.assertIn(field, error.get("fields", {}), error)
        if conflict:
            self.assertTrue(error.get("conflicts"), error)
        return error

    def assertInvalid(self, response, field):
        """400 {"error", "code": "invalid", "fields": {field: [str, ...]}}."""
        return self.assertErrorBody(response, 400, code="invalid", field=field)

    def assertNotFound(self, response):
        body = self.assertJsonResponse(response, 404)
        self.assertEqual(body, NOT_FOUND)

    def assertConflict(self, response, ids=None, count=None):
        """409 with the conflict body; `ids`: the set of ids `conflicts` must name."""
        body = self.assertJsonResponse(response, 409)
        self.assertEqual(set(body), {"error", "code", "conflicts", "conflict_count"}, body)
        self.assertEqual(body["error"], CONFLICT_MESSAGE, body)
        self.assertEqual(body["code"], "conflict", body)
        self.assertIsInstance(body["conflicts"], list, body)
        self.assertLessEqual(len(body["conflicts"]), 10, body)
        for summary in body["conflicts"]:
            self.assertSummary(summary)
        self.assertIsInstance(body["conflict_count"], int, body)
        self.assertGreaterEqual(body["conflict_count"], len(body["conflicts"]), body)
        if ids is not None:
            self.assertEqual({c["id"] for c in body["conflicts"]}, set(ids), body)
        if count is not None:
            self.assertEqual(body["conflict_count"], count, body)
        return body


# --- authentication ------------------------------------------------------------------------------


class EventsAuthenticationTest(EventsTestCase):

    ENDPOINTS = [("GET", EVENTS, None), ("POST", EVENTS, event_body()),
                 ("POST", BATCH, [event_body()]), ("GET", event_path(1), None),
                 ("PUT", event_path(1), event_body()), ("PATCH", event_path(1), {"title": "x"}),
                 ("DELETE", event_path(1), None)]

    def test_every_endpoint_without_a_token_is_401(self):
        for method, path, body in self.ENDPOINTS:
            with self.subTest(method=method, path=path):
                response = self.server.request(method, path, body)
                self.assertEqual(self.assertJsonResponse(response, 401), NOT_AUTHENTICATED)
                self.assertTrue(response.headers.get("WWW-Authenticate"), response)

    def test_every_endpoint_with_a_bad_token_is_401(self):
        for method, path, body in self.ENDPOINTS:
            with self.subTest(method=method, path=path):
                response = self.server.request(method, path, body, token="not.a.token")
                body = self.assertJsonResponse(response, 401)
                self.assertEqual(body.get("code"), "token_not_valid", body)

    def test_a_refresh_token_is_not_an_access_token(self):
        tokens, _ = self.server.register()
        response = self.list(tokens["refresh"])
        body = self.assertJsonResponse(response, 401)
        self.assertEqual(body.get("code"), "token_not_valid", body)

    def test_unauthenticated_requests_store_nothing(self):
        token, _ = self.new_user()
        self.assertEqual(self.server.request("POST", EVENTS, event_body()).status, 401)
        self.assertEqual(self.server.request("POST", BATCH, [event_body()]).status, 401)
        self.assertPage(self.list_ok(token), count=0)


# --- create --------------------------------------------------------------------------------------


class CreateEventTest(EventsTestCase):

    def test_seed_tour_lets_ssss_ds(self):
        token, user_id = self.new_user()
        response = self.create(token, {
            "title": "lets ssss ds",
            "description": "aas si event 1",
            "start_time": "2025-04-27 8:05",
            "end_time": "2025-04-27 8:09",
            "location": "Boarcdd Room",
            "is_recurring": False,
        })
        body = self.assertJsonResponse(response, 201)
        self.assertEqual(set(body), {"message", "event"}, body)
        self.assertEqual(body["message"], "Event created successfully")
        event = self.assertEvent(body["event"])
        self.assertEqual(event, {
            "id": event["id"],
            "title": "lets ssss ds",
            "description": "aas si event 1",
            "start_time": "2025-04-27 08:05:00",
            "end_time": "2025-04-27 08:09:00",
            "location": "Boarcdd Room",
            "is_recurring": False,
            "recurrence_pattern": None,
            "owner_id": user_id,
        })

    def test_created_event_reads_back_the_same(self):
        token, _ = self.new_user()
        event = self.create_ok(token, description="d", location="l")
        body = self.assertJsonResponse(self.get(token, event["id"]), 200)
        self.assertEqual(body, dict(event, role="OWNER"))

    def test_defaults(self):
        token, user_id = self.new_user()
        event = self.create_ok(token, title="only the required members")
        self.assertEvent(event, {"title": "only the required members", "description": "",
                                 "location": "", "is_recurring": False,
                                 "recurrence_pattern": None, "owner_id": user_id,
                                 "start_time": printed(1, 10), "end_time": printed(1, 11)})

    def test_ids_are_distinct(self):
        token, _ = self.new_user()
        first = self.create_ok(token, start=at(1, 8), end=at(1, 9))
        second = self.create_ok(token, start=at(1, 9), end=at(1, 10))
        self.assertNotEqual(first["id"], second["id"])

    def test_time_input_forms(self):
        token, _ = self.new_user()
        cases = [
            ("2025-04-27 8:05", "2025-04-27 08:05:00"),
            ("2025-04-27 08:05", "2025-04-27 08:05:00"),
            ("2025-04-27 08:05:00", "2025-04-27 08:05:00"),
            ("2025-04-27 08:05:00.5", "2025-04-27 08:05:00"),
            ("2025-04-27 08:05:59.999999", "2025-04-27 08:05:59"),
            ("2025-04-27T08:05:00", "2025-04-27 08:05:00"),
            ("2025-04-27T08:05:00Z", "2025-04-27 08:05:00"),
            ("2025-04-27T08:05:00.123Z", "2025-04-27 08:05:00"),
            ("2025-04-29T09:00:00+05:30", "2025-04-29 03:30:00"),
            ("2025-04-29T02:00:00+05:30", "2025-04-28 20:30:00"),
            ("2025-04-29T20:00:00-08:00", "2025-04-30 04:00:00"),
            ("2025-04-29T09:00:00+00:00", "2025-04-29 09:00:00"),
        ]
        for given, expected in cases:
            with self.subTest(start_time=given):
                # allow_conflicts: several cases share an instant
                event = self.create_ok(token, "?allow_conflicts=true", start=given,
                                       end="2031-01-01 00:00")
                self.assertEqual(event["start_time"], expected)
                read = self.assertJsonResponse(self.get(token, event["id"]), 200)
                self.assertEqual(read["start_time"], expected)

    def test_offset_times_are_compared_in_utc(self):
        # 10:00+05:30 is 04:30 UTC, before 05:00 UTC: a valid pair although 10:00 > 05:00.
        token, _ = self.new_user()
        event = self.create_ok(token, start="2025-04-29T10:00:00+05:30",
                               end="2025-04-29T05:00:00Z")
        self.assertEqual((event["start_time"], event["end_time"]),
                         ("2025-04-29 04:30:00", "2025-04-29 05:00:00"))

    def test_invalid_times(self):
        token, _ = self.new_user()
        for value in ("abc", "", "2025-04-27", "2025-02-30 10:00", "2025-04-27 24:00",
                      "2025-04-27 10:60", "27/04/2025 10:00", "2025-04-27 10:00 ",
                      "2025-04-27 10:00:00.1234567", "2025-04-27T10:00:00+25:00"):
            for field in ("start_time", "end_time"):
                with self.subTest(field=field, value=value):
                    body = event_body(start="2030-01-01 00:00", end="2030-12-31 00:00")
                    body[field] = value
                    self.assertInvalid(self.create(token, body), field)
        self.assertPage(self.list_ok(token), count=0)

    def test_end_must_be_after_start(self):
        token, _ = self.new_user()
        for start, end in ((at(1, 11), at(1, 10)), (at(1, 10), at(1, 10)),
                           ("2025-04-29T10:00:00+05:30", "2025-04-29T04:30:00Z")):
            with self.subTest(start=start, end=end):
                self.assertInvalid(self.create(token, event_body(start=start, end=end)),
                                   "end_time")

    def test_missing_required_members_are_all_reported(self):
        token, _ = self.new_user()
        body = self.assertInvalid(self.create(token, {}), "title")
        for field in ("start_time", "end_time"):
            self.assertIn(field, body["fields"], body)
        for field in ("title", "start_time", "end_time"):
            with self.subTest(missing=field):
                payload = event_body()
                del payload[field]
                self.assertInvalid(self.create(token, payload), field)

    def test_title_rules(self):
        token, _ = self.new_user()
        for title in ("", "   ", "\t\n", "x" * 201):
            with self.subTest(title=title[:10]):
                self.assertInvalid(self.create(token, event_body(title=title)), "title")
        event = self.create_ok(token, title="  padded title  ", start=at(2, 1), end=at(2, 2))
        self.assertEqual(event["title"], "padded title")
        event = self.create_ok(token, title="t" * 200, start=at(2, 2), end=at(2, 3))
        self.assertEqual(event["title"], "t" * 200)
        event = self.create_ok(token, title="é" * 200, start=at(2, 3), end=at(2, 4))
        self.assertEqual(event["title"], "é" * 200)

    def test_description_and_location_lengths(self):
        token, _ = self.new_user()
        event = self.create_ok(token, description="d" * 10000, location="l" * 500)
        self.assertEqual((len(event["description"]), len(event["location"])), (10000, 500))
        self.assertInvalid(self.create(token, event_body(description="d" * 10001,
                                                         start=at(2, 1), end=at(2, 2))),
                           "description")
        self.assertInvalid(self.create(token, event_body(location="l" * 501,
                                                         start=at(2, 1), end=at(2, 2))),
                           "location")

    def test_wrong_json_types_are_400_not_500(self):
        token, _ = self.new_user()
        cases = [("title", 5), ("title", ["a"]), ("title", {"a": 1}), ("title", True),
                 ("description", 5), ("location", {}), ("start_time", 1745741100),
                 ("end_time", ["2030-01-01 11:00"]), ("is_recurring", "yes"),
                 ("is_recurring", 1), ("is_recurring", "true"), ("recurrence_pattern", 5),
                 ("recurrence_pattern", ["weekly"])]
        for field, value in cases:
            with self.subTest(field=field, value=value):
                body = event_body(is_recurring=True, recurrence_pattern="weekly")
                body[field] = value
                self.assertInvalid(self.create(token, body), field)
        self.assertPage(self.list_ok(token), count=0)

    def test_null_members(self):
        token, _ = self.new_user()
        for field in ("title", "start_time", "end_time", "description", "location",
                      "is_recurring"):
            with self.subTest(field=field):
                body = event_body()
                body[field] = None
                self.assertInvalid(self.create(token, body), field)

    def test_id_and_owner_id_in_the_body_are_ignored(self):
        token, user_id = self.new_user()
        _, other_id = self.new_user()
        event = self.create_ok(token, id=987654321, owner_id=other_id)
        self.assertNotEqual(event["id"], 987654321)
        self.assertEqual(event["owner_id"], user_id)
        self.assertNotFound(self.get(token, 987654321))

    def test_unknown_members_are_ignored(self):
        token, _ = self.new_user()
        event = self.create_ok(token, color="red", role="VIEWER")
        self.assertNotIn("color", event)

    def test_recurring_without_pattern(self):
        token, _ = self.new_user()
        for pattern in ("absent", None, ""):
            with self.subTest(pattern=pattern):
                body = event_body(is_recurring=True)
                if pattern != "absent":
                    body["recurrence_pattern"] = pattern
                self.assertInvalid(self.create(token, body), "recurrence_pattern")

    def test_simple_patterns_are_echoed_in_lower_case(self):
        token, _ = self.new_user()
        for hour, (given, stored) in enumerate([("daily", "daily"), ("WEEKLY", "weekly"),
                                               ("Monthly", "monthly"), ("yEaRlY", "yearly")]):
            with self.subTest(pattern=given):
                event = self.create_ok(token, start=at(3, hour), end=at(3, hour, 30),
                                       is_recurring=True, recurrence_pattern=given)
                self.assertEqual((event["is_recurring"], event["recurrence_pattern"]),
                                 (True, stored))
                read = self.assertJsonResponse(self.get(token, event["id"]), 200)
                self.assertEqual(read["recurrence_pattern"], stored)

    def test_rrule_is_stored_as_given(self):
        token, _ = self.new_user()
        rule = "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"
        event = self.create_ok(token, is_recurring=True, recurrence_pattern=rule)
        self.assertEqual(event["recurrence_pattern"], rule)
        read = self.assertJsonResponse(self.get(token, event["id"]), 200)
        self.assertEqual(read["recurrence_pattern"], rule)

    def test_invalid_patterns(self):
        token, _ = self.new_user()
        for pattern in ("FREQ=SOMETIMES", "fortnightly", "BYDAY=MO", "FREQ=WEEKLY;BYDAY=XX",
                        "FREQ=DAILY;COUNT=3;UNTIL=20300101T000000Z", "x" * 501):
            with self.subTest(pattern=pattern[:40]):
                response = self.create(token, event_body(is_recurring=True,
                                                         recurrence_pattern=pattern))
                self.assertInvalid(response, "recurrence_pattern")
        self.assertPage(self.list_ok(token), count=0)

    def test_non_recurring_with_empty_or_null_pattern_stores_null(self):
        token, _ = self.new_user()
        for hour, pattern in enumerate(("", None)):
            with self.subTest(pattern=pattern):
                event = self.create_ok(token, start=at(4, hour), end=at(4, hour, 30),
                                       is_recurring=False, recurrence_pattern=pattern)
                self.assertIsNone(event["recurrence_pattern"])

    def test_non_recurring_with_a_pattern_is_refused(self):
        token, _ = self.new_user()
        response = self.create(token, event_body(is_recurring=False, recurrence_pattern="weekly"))
        self.assertInvalid(response, "recurrence_pattern")

    def test_body_not_json_or_not_an_object(self):
        token, _ = self.new_user()
        self.assertErrorBody(self.create(token, "{not json"), 400, code="invalid_json")
        for body in ([event_body()], "\"a string\"", "42", "null"):
            with self.subTest(body=body):
                self.assertErrorBody(self.create(token, body), 400)
        self.assertPage(self.list_ok(token), count=0)

    def test_every_problem_is_reported_at_once(self):
        token, _ = self.new_user()
        body = self.assertInvalid(self.create(token, {
            "title": "", "start_time": "never", "end_time": at(1, 11), "description": 5,
            "is_recurring": True, "recurrence_pattern": "FREQ=SOMETIMES"}), "title")
        for field in ("start_time", "description", "recurrence_pattern"):
            self.assertIn(field, body["fields"], body)

    def test_path_without_trailing_slash(self):
        token, _ = self.new_user()
        response = self.server.request("POST", "/api/events", event_body(), token=token)
        self.assertJsonResponse(response, 201)


# --- read ----------------------------------------------------------------------------------------


class GetEventTest(EventsTestCase):

    def test_get_own_event(self):
        token, user_id = self.new_user()
        event = self.create_ok(token, title="testing history", description="history description",
                               start="2025-06-01 11:23", end="2025-06-01 18:32",
                               location="srinagar", is_recurring=True,
                               recurrence_pattern="weekly")
        body = self.assertJsonResponse(self.get(token, event["id"]), 200)
        self.assertEvent(body, keys=EVENT_WITH_ROLE_KEYS)
        self.assertEqual(body, {
            "id": event["id"], "title": "testing history", "description": "history description",
            "start_time": "2025-06-01 11:23:00", "end_time": "2025-06-01 18:32:00",
            "location": "srinagar", "is_recurring": True, "recurrence_pattern": "weekly",
            "owner_id": user_id, "role": "OWNER"})

    def test_without_trailing_slash(self):
        token, _ = self.new_user()
        event = self.create_ok(token)
        response = self.server.request("GET", f"{EVENTS}{event['id']}", token=token)
        self.assertEqual(self.assertJsonResponse(response, 200)["id"], event["id"])

    def test_unknown_id(self):
        token, _ = self.new_user()
        for event_id in (999999999, 999999999999999999):
            with self.subTest(id=event_id):
                self.assertNotFound(self.get(token, event_id))

    def test_id_that_is_not_a_valid_id(self):
        # not a positive integer of at most 18 digits: no event has it (the router's 404)
        token, _ = self.new_user()
        for event_id in ("abc", "0", "-1", "1.5", "01", "9223372036854775807",
                         "99999999999999999999999"):
            with self.subTest(id=event_id):
                response = self.get(token, event_id)
                body = self.assertJsonResponse(response, 404)
                self.assertEqual(body.get("code"), "not_found", body)

    def test_another_users_event_is_404_like_an_unknown_one(self):
        owner, _ = self.new_user()
        stranger, _ = self.new_user()
        event = self.create_ok(owner)
        self.assertNotFound(self.get(stranger, event["id"]))

    def test_deleted_event_is_404(self):
        token, _ = self.new_user()
        event = self.create_ok(token)
        self.assertEqual(self.delete(token, event["id"]).status, 200)
        self.assertNotFound(self.get(token, event["id"]))


# --- update --------------------------------------------------------------------------------------


class UpdateEventTest(EventsTestCase):

    def test_seed_put_of_event_5(self):
        token, user_id = self.new_user()
        event = self.create_ok(token, title="testing history", start="2025-06-01 11:23",
                               end="2025-06-01 18:32", location="srinagar", is_recurring=True,
                               recurrence_pattern="weekly")
        response = self.update(token, event["id"], {
            "title": "fodibbo didi ",
            "description": "lwts dajajjaj",
            "start_time": "2025-06-01 20:23",
            "end_time": "2025-06-01 21:32",
            "location": "srinagar",
            "is_recurring": False,
            "recurrence_pattern": "",
        })
        body = self.assertJsonResponse(response, 200)
        self.assertEqual(set(body), {"message", "event"}, body)
        self.assertEqual(body["message"], "Event updated successfully")
        self.assertEvent(body["event"])
        expected = {"id": event["id"], "title": "fodibbo didi", "description": "lwts dajajjaj",
                    "start_time": "2025-06-01 20:23:00", "end_time": "2025-06-01 21:32:00",
                    "location": "srinagar", "is_recurring": False, "recurrence_pattern": None,
                    "owner_id": user_id}
        self.assertEqual(body["event"], expected)
        read = self.assertJsonResponse(self.get(token, event["id"]), 200)
        self.assertEqual(read, dict(expected, role="OWNER"))

    def test_absent_members_keep_their_values(self):
        for method in ("PUT", "PATCH"):
            with self.subTest(method=method):
                token, _ = self.new_user()
                event = self.create_ok(token, description="keep me", location="here",
                                       is_recurring=True, recurrence_pattern="daily")
                body = self.assertJsonResponse(
                    self.update(token, event["id"], {"title": "renamed"}, method), 200)
                self.assertEqual(body["event"], dict(event, title="renamed"))
                read = self.assertJsonResponse(self.get(token, event["id"]), 200)
                self.assertEqual(read, dict(event, title="renamed", role="OWNER"))

    def test_empty_body_changes_nothing(self):
        token, _ = self.new_user()
        event = self.create_ok(token)
        for method in ("PUT", "PATCH"):
            with self.subTest(method=method):
                body = self.assertJsonResponse(self.update(token, event["id"], {}, method), 200)
                self.assertEqual(body["event"], event)

    def test_times_with_offsets(self):
        token, _ = self.new_user()
        event = self.create_ok(token)
        body = self.assertJsonResponse(self.update(token, event["id"], {
            "start_time": "2025-04-29T09:00:00+05:30", "end_time": "2025-04-29T10:00:00+05:30"},
            "PATCH"), 200)
        self.assertEqual((body["event"]["start_time"], body["event"]["end_time"]),
                         ("2025-04-29 03:30:00", "2025-04-29 04:30:00"))

    def test_required_members_sent_as_null(self):
        token, _ = self.new_user()
        event = self.create_ok(token)
        for method in ("PUT", "PATCH"):
            for field in ("title", "start_time", "end_time"):
                with self.subTest(method=method, field=field):
                    self.assertInvalid(self.update(token, event["id"], {field: None}, method),
                                       field)
        read = self.assertJsonResponse(self.get(token, event["id"]), 200)
        self.assertEqual(read, dict(event, role="OWNER"))

    def test_invalid_values(self):
        token, _ = self.new_user()
        event = self.create_ok(token)
        cases = [({"title": ""}, "title"), ({"title": "  "}, "title"),
                 ({"title": "x" * 201}, "title"), ({"start_time": "abc"}, "start_time"),
                 ({"end_time": "2030-02-30 10:00"}, "end_time"),
                 ({"description": "d" * 10001}, "description"),
                 ({"location": "l" * 501}, "location"),
                 ({"start_time": at(1, 12), "end_time": at(1, 11)}, "end_time"),
                 ({"is_recurring": True, "recurrence_pattern": "FREQ=SOMETIMES"},
                  "recurrence_pattern"),
                 ({"title": 5}, "title"), ({"is_recurring": "yes"}, "is_recurring"),
                 ({"start_time": 12}, "start_time"), ({"description": None}, "description")]
        for method in ("PUT", "PATCH"):
            for payload, field in cases:
                with self.subTest(method=method, payload=str(payload)[:60]):
                    self.assertInvalid(self.update(token, event["id"], payload, method), field)
        read = self.assertJsonResponse(self.get(token, event["id"]), 200)
        self.assertEqual(read, dict(event, role="OWNER"))

    def test_moving_only_one_time_past_the_other(self):
        token, _ = self.new_user()
        event = self.create_ok(token, start=at(1, 10), end=at(1, 11))
        for payload in ({"start_time": at(1, 12)}, {"end_time": at(1, 9)},
                        {"start_time": at(1, 11)}):
            with self.subTest(payload=payload):
                body = self.assertErrorBody(self.update(token, event["id"], payload, "PATCH"),
                                            400, code="invalid")
                self.assertTrue({"start_time", "end_time"} & set(body.get("fields", {})), body)
        body = self.assertJsonResponse(
            self.update(token, event["id"], {"end_time": at(1, 12)}, "PATCH"), 200)
        self.assertEqual((body["event"]["start_time"], body["event"]["end_time"]),
                         (printed(1, 10), printed(1, 12)))

    def test_turning_recurrence_on_needs_a_pattern(self):
        token, _ = self.new_user()
        event = self.create_ok(token)
        self.assertInvalid(self.update(token, event["id"], {"is_recurring": True}, "PATCH"),
                           "recurrence_pattern")
        body = self.assertJsonResponse(self.update(token, event["id"], {
            "is_recurring": True, "recurrence_pattern": "MONTHLY"}, "PATCH"), 200)
        self.assertEqual((body["event"]["is_recurring"], body["event"]["recurrence_pattern"]),
                         (True, "monthly"))

    def test_turning_recurrence_off_drops_the_pattern(self):
        token, _ = self.new_user()
        event = self.create_ok(token, is_recurring=True, recurrence_pattern="weekly")
        body = self.assertJsonResponse(
            self.update(token, event["id"], {"is_recurring": False}, "PATCH"), 200)
        self.assertEqual((body["event"]["is_recurring"], body["event"]["recurrence_pattern"]),
                         (False, None))

    def test_changing_the_pattern(self):
        token, _ = self.new_user()
        event = self.create_ok(token, is_recurring=True, recurrence_pattern="weekly")
        rule = "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"
        body = self.assertJsonResponse(
            self.update(token, event["id"], {"recurrence_pattern": rule}, "PATCH"), 200)
        self.assertEqual(body["event"]["recurrence_pattern"], rule)

    def test_id_and_owner_id_in_the_body_are_ignored(self):
        token, user_id = self.new_user()
        _, other_id = self.new_user()
        event = self.create_ok(token)
        body = self.assertJsonResponse(self.update(token, event["id"], {
            "id": event["id"] + 1000, "owner_id": other_id, "title": "same id"}), 200)
        self.assertEqual((body["event"]["id"], body["event"]["owner_id"]),
                         (event["id"], user_id))
        self.assertEqual(self.assertJsonResponse(self.get(token, event["id"]), 200)["title"],
                         "same id")

    def test_body_not_json_or_not_an_object(self):
        token, _ = self.new_user()
        event = self.create_ok(token)
        for method in ("PUT", "PATCH"):
            with self.subTest(method=method):
                self.assertErrorBody(self.update(token, event["id"], "{oops", method), 400,
                                     code="invalid_json")
                self.assertErrorBody(self.update(token, event["id"], [{"title": "x"}], method),
                                     400)

    def test_unknown_id(self):
        token, _ = self.new_user()
        for method in ("PUT", "PATCH"):
            with self.subTest(method=method):
                self.assertNotFound(self.update(token, 999999999, {"title": "x"}, method))

    def test_another_users_event_is_404_and_unchanged(self):
        owner, _ = self.new_user()
        stranger, _ = self.new_user()
        event = self.create_ok(owner)
        for method in ("PUT", "PATCH"):
            with self.subTest(method=method):
                self.assertNotFound(self.update(stranger, event["id"], {"title": "hijacked"},
                                                method))
        read = self.assertJsonResponse(self.get(owner, event["id"]), 200)
        self.assertEqual(read, dict(event, role="OWNER"))


# --- delete --------------------------------------------------------------------------------------


class DeleteEventTest(EventsTestCase):

    def test_delete(self):
        token, _ = self.new_user()
        event = self.create_ok(token)
        keep = self.create_ok(token, start=at(2, 10), end=at(2, 11))
        response = self.delete(token, event["id"])
        self.assertEqual(self.assertJsonResponse(response, 200),
                         {"message": "Event deleted successfully"})
        self.assertNotFound(self.get(token, event["id"]))
        self.assertEqual(self.all_ids(token), [keep["id"]])

    def test_delete_twice(self):
        token, _ = self.new_user()
        event = self.create_ok(token)
        self.assertEqual(self.delete(token, event["id"]).status, 200)
        self.assertNotFound(self.delete(token, event["id"]))

    def test_unknown_id(self):
        token, _ = self.new_user()
        self.assertNotFound(self.delete(token, 999999999))

    def test_another_users_event_is_404_and_kept(self):
        owner, _ = self.new_user()
        stranger, _ = self.new_user()
        event = self.create_ok(owner)
        self.assertNotFound(self.delete(stranger, event["id"]))
        read = self.assertJsonResponse(self.get(owner, event["id"]), 200)
        self.assertEqual(read, dict(event, role="OWNER"))

    def test_update_after_delete_is_404(self):
        token, _ = self.new_user()
        event = self.create_ok(token)
        self.assertEqual(self.delete(token, event["id"]).status, 200)
        for method in ("PUT", "PATCH"):
            self.assertNotFound(self.update(token, event["id"], {"title": "x"}, method))


# --- list ----------------------------------------------------------------------------------------


class ListEventsTest(EventsTestCase):

    def make_events(self, token, count, **extra):
        """Creates `count` events through the batch endpoint (no conflict check by default);
        returns their ids in order."""
        items = [event_body(title=f"bulk {i:04d}", start=at(1 + i // 20, i % 20),
                            end=at(1 + i // 20, i % 20, 30), **extra) for i in range(count)]
        body = self.batch_ok(token, items)
        self.assertEqual(body["errors"], [], body)
        return [summary["id"] for summary in body["created_events"]]

    def test_empty_list(self):
        token, _ = self.new_user()
        body = self.list_ok(token)
        self.assertEqual(body, {"results": [], "count": 0, "num_pages": 1, "current_page": 1})

    def test_items_carry_role_owner_id_and_the_real_end_time(self):
        token, user_id = self.new_user()
        event = self.create_ok(token, title="testing history", start="2025-06-01 11:23",
                               end="2025-06-01 18:32", location="srinagar", is_recurring=True,
                               recurrence_pattern="weekly")
        body = self.list_ok(token, "?page=1&page_size=10")
        self.assertPage(body, count=1, num_pages=1, current_page=1, length=1)
        item = body["results"][0]
        self.assertEqual(item, dict(event, role="OWNER"))
        self.assertEqual(item["end_time"], "2025-06-01 18:32:00")  # the original printed start
        self.assertEqual(item["owner_id"], user_id)

    def test_default_page_size_and_pages(self):
        token, _ = self.new_user()
        ids = self.make_events(token, 12)
        first = self.list_ok(token)
        self.assertPage(first, count=12, num_pages=2, current_page=1, length=10)
        self.assertEqual([e["id"] for e in first["results"]], ids[:10])
        second = self.list_ok(token, "?page=2")
        self.assertPage(second, count=12, num_pages=2, current_page=2, length=2)
        self.assertEqual([e["id"] for e in second["results"]], ids[10:])

    def test_page_past_the_end_is_empty(self):
        token, _ = self.new_user()
        self.make_events(token, 3)
        for page in (2, 3, 1000000):
            with self.subTest(page=page):
                body = self.list_ok(token, f"?page={page}")
                self.assertPage(body, count=3, num_pages=1, length=0)
                self.assertEqual(body["current_page"], page, body)

    def test_page_1000000_of_an_empty_list(self):
        token, _ = self.new_user()
        self.assertPage(self.list_ok(token, "?page=1000000"), count=0, num_pages=1, length=0)

    def test_invalid_page(self):
        token, _ = self.new_user()
        for value in ("0", "-1", "abc", "1.5", "1e3", "%201"):
            with self.subTest(page=value):
                self.assertInvalid(self.list(token, f"?page={value}"), "page")

    def test_invalid_page_size(self):
        token, _ = self.new_user()
        for value in ("0", "-1", "abc", "1.5"):
            with self.subTest(page_size=value):
                self.assertInvalid(self.list(token, f"?page_size={value}"), "page_size")

    def test_page_size_is_clamped_to_100(self):
        token, _ = self.new_user()
        ids = self.make_events(token, 105)
        for size in (101, 1000, 1000000000):
            with self.subTest(page_size=size):
                body = self.list_ok(token, f"?page_size={size}")
                self.assertPage(body, count=105, num_pages=2, current_page=1, length=100)
                self.assertEqual([e["id"] for e in body["results"]], ids[:100])
        body = self.list_ok(token, "?page=2&page_size=101")
        self.assertPage(body, count=105, num_pages=2, current_page=2, length=5)
        self.assertEqual([e["id"] for e in body["results"]], ids[100:])
        self.assertPage(self.list_ok(token, "?page_size=100"), num_pages=2, length=100)

    def test_small_page_sizes(self):
        token, _ = self.new_user()
        ids = self.make_events(token, 5)
        body = self.list_ok(token, "?page_size=1&page=3")
        self.assertPage(body, count=5, num_pages=5, current_page=3, length=1)
        self.assertEqual(body["results"][0]["id"], ids[2])
        body = self.list_ok(token, "?page_size=2&page=3")
        self.assertPage(body, count=5, num_pages=3, current_page=3, length=1)
        self.assertEqual(body["results"][0]["id"], ids[4])

    def test_only_the_callers_events(self):
        token, _ = self.new_user()
        other, _ = self.new_user()
        mine = self.make_events(token, 2)
        self.make_events(other, 3)
        body = self.list_ok(token)
        self.assertPage(body, count=2, length=2)
        self.assertEqual([e["id"] for e in body["results"]], mine)

    def test_ordered_by_id_by_default(self):
        token, _ = self.new_user()
        ids = [self.create_ok(token, title=t, start=s, end=e)["id"] for t, s, e in (
            ("c", at(5, 10), at(5, 11)), ("a", at(3, 10), at(3, 11)), ("b", at(4, 10), at(4, 11)))]
        body = self.list_ok(token)
        self.assertEqual([e["id"] for e in body["results"]], sorted(ids))

    def test_each_ordering(self):
        token, _ = self.new_user()
        # four events whose orders by id, start_time, end_time and title all differ
        specs = [("charlie", at(2, 10), at(9, 10)),
                 ("alpha", at(4, 10), at(5, 10)),
                 ("delta", at(1, 10), at(6, 10)),
                 ("bravo", at(3, 10), at(4, 11))]
        events = [self.create_ok(token, "?allow_conflicts=true", title=t, start=s, end=e)
                  for t, s, e in specs]
        ids = [e["id"] for e in events]

        def order(key):
            return [e["id"] for e in sorted(events, key=lambda e: e[key])]

        expected = {"id": ids, "start_time": order("start_time"),
                    "end_time": order("end_time"), "title": order("title")}
        for key, ascending in expected.items():
            for ordering, wanted in ((key, ascending), (f"-{key}", ascending[::-1])):
                with self.subTest(ordering=ordering):
                    body = self.list_ok(token, f"?ordering={ordering}")
                    self.assertEqual([e["id"] for e in body["results"]], wanted, body)

    def test_ordering_across_pages(self):
        token, _ = self.new_user()
        ids = self.make_events(token, 15)
        first = self.list_ok(token, "?ordering=-id&page_size=10")
        second = self.list_ok(token, "?ordering=-id&page_size=10&page=2")
        self.assertEqual([e["id"] for e in first["results"] + second["results"]], ids[::-1])

    def test_invalid_ordering(self):
        token, _ = self.new_user()
        for value in ("foo", "--id", "owner_id", "description", "id,title"):
            with self.subTest(ordering=value):
                self.assertInvalid(self.list(token, f"?ordering={value}"), "ordering")

    def test_start_and_end_filter_overlapping_events(self):
        token, _ = self.new_user()
        a = self.create_ok(token, title="a", start=at(1, 10), end=at(1, 11))["id"]
        b = self.create_ok(token, title="b", start=at(1, 11), end=at(1, 12))["id"]
        c = self.create_ok(token, title="c", start=at(1, 12), end=at(1, 13))["id"]
        cases = [
            (f"?start={at(1, 11)}&end={at(1, 12)}", [b]),          # touching ends excluded
            (f"?start={at(1, 10, 30)}&end={at(1, 11, 30)}", [a, b]),
            (f"?start={at(1, 9)}&end={at(1, 14)}", [a, b, c]),
            (f"?start={at(1, 12)}", [c]),
            (f"?end={at(1, 11)}", [a]),
            (f"?start={at(1, 13)}", []),
            (f"?end={at(1, 10)}", []),
            (f"?start={at(1, 11, 15)}&end={at(1, 11, 45)}", [b]),     # inside b
            ("?start=2030-01-01T15:00:00%2B05:00&end=2030-01-01T16:30:00%2B05:00", [a, b]),
            ("?start=2030-01-01T11:00:00Z", [b, c]),
        ]
        for query, wanted in cases:
            with self.subTest(query=query):
                body = self.list_ok(token, query.replace(" ", "%20"))
                self.assertEqual([e["id"] for e in body["results"]], wanted, body)
                self.assertEqual(body["count"], len(wanted), body)

    def test_end_must_be_after_start(self):
        token, _ = self.new_user()
        for start, end in ((at(1, 12), at(1, 11)), (at(1, 12), at(1, 12))):
            with self.subTest(start=start, end=end):
                query = f"?start={start}&end={end}".replace(" ", "%20")
                self.assertInvalid(self.list(token, query), "end")

    def test_invalid_start_and_end(self):
        token, _ = self.new_user()
        for name in ("start", "end"):
            for value in ("abc", "2030-02-30%2010:00", "2030-01-01", "tomorrow"):
                with self.subTest(name=name, value=value):
                    self.assertInvalid(self.list(token, f"?{name}={value}"), name)

    def test_q_searches_title_description_and_location_ignoring_case(self):
        token, _ = self.new_user()
        in_title = self.create_ok(token, title="Budget REVIEW", start=at(1, 1), end=at(1, 2))
        in_description = self.create_ok(token, title="x", description="a review of things",
                                        start=at(1, 2), end=at(1, 3))
        in_location = self.create_ok(token, title="y", location="Review Room",
                                     start=at(1, 3), end=at(1, 4))
        self.create_ok(token, title="unrelated", description="nothing", location="nowhere",
                       start=at(1, 4), end=at(1, 5))
        body = self.list_ok(token, "?q=rEvIeW")
        self.assertEqual([e["id"] for e in body["results"]],
                         [in_title["id"], in_description["id"], in_location["id"]])
        self.assertEqual(body["count"], 3)
        self.assertPage(self.list_ok(token, "?q=zzz-no-match"), count=0, length=0)

    def test_q_is_a_literal_substring(self):
        token, _ = self.new_user()
        percent = self.create_ok(token, title="100% done", start=at(1, 1), end=at(1, 2))
        underscore = self.create_ok(token, title="snake_case", start=at(1, 2), end=at(1, 3))
        self.create_ok(token, title="plain words", start=at(1, 3), end=at(1, 4))
        for query, wanted in (("?q=%25", [percent["id"]]), ("?q=_", [underscore["id"]]),
                              ("?q=0%25%20d", [percent["id"]]), ("?q=%5C", [])):
            with self.subTest(query=query):
                body = self.list_ok(token, query)
                self.assertEqual([e["id"] for e in body["results"]], wanted, body)

    def test_q_with_non_ascii_text(self):
        token, _ = self.new_user()
        event = self.create_ok(token, title="Réunion à Zürich")
        body = self.list_ok(token, "?q=z%C3%BCrich")
        self.assertEqual([e["id"] for e in body["results"]], [event["id"]])

    def test_title_filter(self):
        token, _ = self.new_user()
        match = self.create_ok(token, title="Weekly SYNC", start=at(1, 1), end=at(1, 2))
        self.create_ok(token, title="other", description="sync in the description",
                       location="sync room", start=at(1, 2), end=at(1, 3))
        body = self.list_ok(token, "?title=sync")
        self.assertEqual([e["id"] for e in body["results"]], [match["id"]])
        self.assertEqual(body["count"], 1)

    def test_is_recurring_filter(self):
        token, _ = self.new_user()
        recurring = self.create_ok(token, start=at(1, 1), end=at(1, 2), is_recurring=True,
                                   recurrence_pattern="daily")
        single = self.create_ok(token, start=at(1, 2), end=at(1, 3))
        self.assertEqual([e["id"] for e in self.list_ok(token, "?is_recurring=true")["results"]],
                         [recurring["id"]])
        self.assertEqual([e["id"] for e in self.list_ok(token, "?is_recurring=false")["results"]],
                         [single["id"]])
        for value in ("TRUE", "1"):
            with self.subTest(is_recurring=value):
                body = self.list_ok(token, f"?is_recurring={value}")
                self.assertEqual([e["id"] for e in body["results"]], [recurring["id"]])
        for value in ("yes", "2", "maybe"):
            with self.subTest(is_recurring=value):
                self.assertInvalid(self.list(token, f"?is_recurring={value}"), "is_recurring")

    def test_role_filter(self):
        token, _ = self.new_user()
        ids = self.make_events(token, 2)
        for value in ("owner", "OWNER", "Owner"):
            with self.subTest(role=value):
                body = self.list_ok(token, f"?role={value}")
                self.assertEqual([e["id"] for e in body["results"]], ids)
                self.assertTrue(all(e["role"] == "OWNER" for e in body["results"]), body)
        for value in ("editor", "VIEWER", "Viewer"):
            with self.subTest(role=value):
                self.assertPage(self.list_ok(token, f"?role={value}"), count=0, length=0)
        for value in ("admin", "owners", "participant"):
            with self.subTest(role=value):
                self.assertInvalid(self.list(token, f"?role={value}"), "role")

    def test_filters_combine_and_count_follows_them(self):
        token, _ = self.new_user()
        items = []
        for i in range(14):
            items.append(event_body(title=f"{'team' if i % 2 else 'solo'} {i}",
                                    start=at(1 + i, 10), end=at(1 + i, 11),
                                    is_recurring=i % 3 == 0,
                                    **({"recurrence_pattern": "weekly"} if i % 3 == 0 else {})))
        created = self.batch_ok(token, items)["created_events"]
        ids = [e["id"] for e in created]
        # team: odd i; recurring: i % 3 == 0 → odd multiples of 3: 3, 9
        body = self.list_ok(token, "?q=team&is_recurring=true&ordering=-start_time")
        self.assertEqual([e["id"] for e in body["results"]], [ids[9], ids[3]])
        self.assertEqual(body["count"], 2)
        # team events overlapping days 4-9 (i = 3..8): 3, 5, 7 with page_size 2
        query = f"?title=TEAM&start={at(4, 0)}&end={at(10, 0)}&page_size=2".replace(" ", "%20")
        body = self.list_ok(token, query)
        self.assertPage(body, count=3, num_pages=2, length=2)
        self.assertEqual([e["id"] for e in body["results"]], [ids[3], ids[5]])
        body = self.list_ok(token, query + "&page=2")
        self.assertEqual([e["id"] for e in body["results"]], [ids[7]])


# --- batch ---------------------------------------------------------------------------------------


class BatchCreateTest(EventsTestCase):

    SEED_BATCH = [
        {"title": "sss is jj", "description": "dd product design meeting",
         "start_time": "2025-04-29T09:00:00Z", "end_time": "2025-04-29T10:00:00Z",
         "location": "Zoom", "is_recurring": False},
        {"title": "last saas", "description": "Monthly marketing planning session",
         "start_time": "2025-04-01T11:00:00Z", "end_time": "2025-04-01T12:00:00Z",
         "location": "Conference Room A", "is_recurring": True, "recurrence_pattern": "monthly"},
    ]

    def test_seed_batch_of_two(self):
        token, user_id = self.new_user()
        body = self.batch_ok(token, self.SEED_BATCH)
        self.assertEqual(body["errors"], [])
        created = body["created_events"]
        self.assertEqual(len(created), 2, body)
        self.assertLess(created[0]["id"], created[1]["id"])
        self.assertEqual(created, [
            {"id": created[0]["id"], "title": "sss is jj", "start_time": "2025-04-29 09:00:00",
             "end_time": "2025-04-29 10:00:00"},
            {"id": created[1]["id"], "title": "last saas", "start_time": "2025-04-01 11:00:00",
             "end_time": "2025-04-01 12:00:00"}])
        second = self.assertJsonResponse(self.get(token, created[1]["id"]), 200)
        self.assertEqual(second, {
            "id": created[1]["id"], "title": "last saas",
            "description": "Monthly marketing planning session",
            "start_time": "2025-04-01 11:00:00", "end_time": "2025-04-01 12:00:00",
            "location": "Conference Room A", "is_recurring": True,
            "recurrence_pattern": "monthly", "owner_id": user_id, "role": "OWNER"})
        self.assertEqual(self.all_ids(token), [c["id"] for c in created])

    def test_mixed_valid_and_invalid_items(self):
        token, _ = self.new_user()
        items = [event_body(title="first", start=at(1, 1), end=at(1, 2)),
                 {"start_time": at(1, 2), "end_time": at(1, 3)},            # no title
                 "not an object",
                 event_body(title="fourth", start=at(1, 4), end=at(1, 5)),
                 5,
                 None,
                 [event_body()],
                 event_body(start=at(1, 7), end=at(1, 6)),                  # end before start
                 event_body(is_recurring=True),                             # no pattern
                 event_body(title=7)]                                       # wrong type
        body = self.batch_ok(token, items)
        self.assertEqual([c["title"] for c in body["created_events"]], ["first", "fourth"])
        errors = body["errors"]
        self.assertEqual([e["index"] for e in errors], [1, 2, 4, 5, 6, 7, 8, 9], body)
        self.assertItemError(errors[0], 1, field="title")
        for error in errors[1:5]:
            self.assertItemError(error)
            self.assertNotIn("conflicts", error)
        self.assertItemError(errors[5], 7, field="end_time")
        self.assertItemError(errors[6], 8, field="recurrence_pattern")
        self.assertItemError(errors[7], 9, field="title")
        self.assertEqual(self.all_ids(token), [c["id"] for c in body["created_events"]])

    def test_created_events_are_complete_and_owned(self):
        token, user_id = self.new_user()
        _, other_id = self.new_user()
        body = self.batch_ok(token, [event_body(title="  trimmed  ", id=99999999,
                                                owner_id=other_id, description="desc",
                                                is_recurring=True,
                                                recurrence_pattern="FREQ=DAILY;COUNT=3")])
        summary = body["created_events"][0]
        self.assertNotEqual(summary["id"], 99999999)
        self.assertEqual(summary["title"], "trimmed")
        read = self.assertJsonResponse(self.get(token, summary["id"]), 200)
        self.assertEvent(read, {"title": "trimmed", "description": "desc", "owner_id": user_id,
                                "role": "OWNER", "recurrence_pattern": "FREQ=DAILY;COUNT=3"},
                         keys=EVENT_WITH_ROLE_KEYS)

    def test_body_not_an_array(self):
        token, _ = self.new_user()
        for body in (event_body(), {}, "\"text\"", "42", "null"):
            with self.subTest(body=str(body)[:40]):
                self.assertErrorBody(self.batch(token, body), 400)
        self.assertErrorBody(self.batch(token, "[{"), 400, code="invalid_json")
        self.assertPage(self.list_ok(token), count=0)

    def test_empty_array(self):
        token, _ = self.new_user()
        self.assertErrorBody(self.batch(token, []), 400, code="invalid")

    def test_invalid_query_parameters(self):
        token, _ = self.new_user()
        for query, name in (("?conflicts=sometimes", "conflicts"), ("?atomic=perhaps", "atomic")):
            with self.subTest(query=query):
                self.assertInvalid(self.batch(token, [event_body()], query), name)
        self.assertPage(self.list_ok(token), count=0)

    def test_no_valid_item_is_400_with_every_error(self):
        token, _ = self.new_user()
        response = self.batch(token, [{"title": ""}, "x", event_body(start="never")])
        body = self.assertErrorBody(response, 400, code="invalid")
        self.assertIsInstance(body.get("errors"), list, body)
        self.assertEqual([e["index"] for e in body["errors"]], [0, 1, 2], body)
        for error in body["errors"]:
            self.assertItemError(error)
        self.assertItemError(body["errors"][0], 0, field="title")
        self.assertItemError(body["errors"][2], 2, field="start_time")
        self.assertPage(self.list_ok(token), count=0)

    def test_1000_items_are_accepted(self):
        token, _ = self.new_user()
        # identical times: the default does no conflict detection, as in the original
        items = [event_body(title=f"item {i}") for i in range(1000)]
        body = self.batch_ok(token, items)
        self.assertEqual(len(body["created_events"]), 1000)
        self.assertEqual(body["errors"], [])
        self.assertEqual([c["title"] for c in body["created_events"]],
                         [f"item {i}" for i in range(1000)])
        self.assertPage(self.list_ok(token), count=1000, num_pages=100)

    def test_1001_items_are_413_and_nothing_is_stored(self):
        token, _ = self.new_user()
        items = [{"title": f"i{i}", "start_time": at(1, 10), "end_time": at(1, 11)}
                 for i in range(1001)]
        response = self.batch(token, items)
        self.assertErrorBody(response, 413, code="payload_too_large")
        self.assertPage(self.list_ok(token), count=0)
        self.assertServing()

    def test_default_does_no_conflict_detection(self):
        token, _ = self.new_user()
        existing = self.create_ok(token, start=at(1, 10), end=at(1, 11))
        body = self.batch_ok(token, [event_body(start=at(1, 10), end=at(1, 11)),
                                     event_body(start=at(1, 10, 30), end=at(1, 12))])
        self.assertEqual(len(body["created_events"]), 2)
        self.assertEqual(body["errors"], [])
        self.assertEqual(len(self.all_ids(token)), 3)
        self.assertIn(existing["id"], self.all_ids(token))

    def test_conflicts_reject_against_stored_events_and_earlier_items(self):
        token, _ = self.new_user()
        other, _ = self.new_user()
        stored = self.create_ok(token, title="stored", start=at(1, 10), end=at(1, 11))
        self.create_ok(other, title="someone else's", start=at(1, 14), end=at(1, 15))
        items = [
            event_body(title="overlaps stored", start=at(1, 10, 30), end=at(1, 11, 30)),  # 0
            event_body(title="free", start=at(1, 12), end=at(1, 13)),                      # 1
            event_body(title="overlaps item 1", start=at(1, 12, 30), end=at(1, 13, 30)),   # 2
            event_body(title="touches item 1", start=at(1, 13), end=at(1, 14)),           # 3
            event_body(title="over someone else's", start=at(1, 14), end=at(1, 15)),       # 4
            {"title": ""},                                                                 # 5
            event_body(title="touches stored", start=at(1, 9), end=at(1, 10)),             # 6
        ]
        body = self.batch_ok(token, items, "?conflicts=reject")
        self.assertEqual([c["title"] for c in body["created_events"]],
                         ["free", "touches item 1", "over someone else's", "touches stored"],
                         body)
        errors = body["errors"]
        self.assertEqual([e["index"] for e in errors], [0, 2, 5], body)
        first = self.assertItemError(errors[0], 0, conflict=True)
        self.assertEqual(first["conflicts"], [{"id": stored["id"], "title": "stored",
                                               "start_time": printed(1, 10),
                                               "end_time": printed(1, 11)}], body)
        in_batch = self.assertItemError(errors[1], 2, conflict=True)
        self.assertEqual([(c["title"], c["start_time"], c["end_time"])
                          for c in in_batch["conflicts"]],
                         [("free", printed(1, 12), printed(1, 13))], body)
        self.assertItemError(errors[2], 5, field="title")
        stored_ids = self.all_ids(token)
        self.assertEqual(stored_ids, [stored["id"]] + [c["id"] for c in body["created_events"]])

    def test_conflicts_reject_identical_items(self):
        token, _ = self.new_user()
        items = [event_body(title=f"same {i}") for i in range(5)]
        body = self.batch_ok(token, items, "?conflicts=reject")
        self.assertEqual([c["title"] for c in body["created_events"]], ["same 0"])
        self.assertEqual([e["index"] for e in body["errors"]], [1, 2, 3, 4])
        for error in body["errors"]:
            self.assertItemError(error, conflict=True)
        self.assertEqual(len(self.all_ids(token)), 1)

    def test_conflicts_reject_with_every_item_conflicting(self):
        token, _ = self.new_user()
        self.create_ok(token, start=at(1, 10), end=at(1, 12))
        response = self.batch(token, [event_body(start=at(1, 11), end=at(1, 13)),
                                      event_body(start=at(1, 9), end=at(1, 11))],
                              "?conflicts=reject")
        self.assertIn(response.status, (400, 409), response)
        body = self.assertErrorBody(response, response.status)
        self.assertEqual([e["index"] for e in body.get("errors", [])], [0, 1], body)
        self.assertEqual(len(self.all_ids(token)), 1)

    def test_atomic_with_an_invalid_item_stores_nothing(self):
        token, _ = self.new_user()
        items = [event_body(start=at(1, 1), end=at(1, 2)), {"title": "no times"},
                 event_body(start=at(1, 3), end=at(1, 4)), "x"]
        body = self.assertErrorBody(self.batch(token, items, "?atomic=true"), 400,
                                    code="invalid")
        self.assertIsInstance(body.get("errors"), list, body)
        self.assertEqual([e["index"] for e in body["errors"]], [1, 3], body)
        self.assertItemError(body["errors"][0], 1, field="start_time")
        self.assertPage(self.list_ok(token), count=0)

    def test_atomic_with_every_item_valid(self):
        token, _ = self.new_user()
        items = [event_body(title=f"a{i}", start=at(1, i), end=at(1, i, 30)) for i in range(4)]
        body = self.batch_ok(token, items, "?atomic=true")
        self.assertEqual([c["title"] for c in body["created_events"]], ["a0", "a1", "a2", "a3"])
        self.assertEqual(body["errors"], [])
        self.assertEqual(len(self.all_ids(token)), 4)

    def test_atomic_with_only_conflicts_is_409(self):
        token, _ = self.new_user()
        stored = self.create_ok(token, start=at(1, 10), end=at(1, 11))
        items = [event_body(title="ok", start=at(1, 12), end=at(1, 13)),
                 event_body(title="clash", start=at(1, 10), end=at(1, 11)),
                 event_body(title="clash in batch", start=at(1, 12, 15), end=at(1, 12, 45))]
        body = self.assertErrorBody(self.batch(token, items, "?atomic=true&conflicts=reject"),
                                    409, code="conflict")
        self.assertIsInstance(body.get("errors"), list, body)
        self.assertEqual([e["index"] for e in body["errors"]], [1, 2], body)
        first = self.assertItemError(body["errors"][0], 1, conflict=True)
        self.assertEqual([c["id"] for c in first["conflicts"]], [stored["id"]])
        self.assertItemError(body["errors"][1], 2, conflict=True)
        self.assertEqual(self.all_ids(token), [stored["id"]])

    def test_atomic_with_conflicts_and_invalid_items_is_400(self):
        token, _ = self.new_user()
        stored = self.create_ok(token, start=at(1, 10), end=at(1, 11))
        items = [event_body(title="clash", start=at(1, 10), end=at(1, 11)), {"title": ""}]
        body = self.assertErrorBody(self.batch(token, items, "?atomic=true&conflicts=reject"),
                                    400, code="invalid")
        self.assertEqual([e["index"] for e in body.get("errors", [])], [0, 1], body)
        self.assertItemError(body["errors"][0], 0, conflict=True)
        self.assertItemError(body["errors"][1], 1, field="title")
        self.assertEqual(self.all_ids(token), [stored["id"]])

    def test_batch_events_then_conflict_with_single_creates(self):
        token, _ = self.new_user()
        created = self.batch_ok(token, [event_body(title="from batch", start=at(1, 10),
                                                   end=at(1, 11))])["created_events"]
        self.assertConflict(self.create(token, event_body(start=at(1, 10, 30),
                                                          end=at(1, 11, 30))),
                            ids=[created[0]["id"]], count=1)

    def test_path_without_trailing_slash(self):
        token, _ = self.new_user()
        response = self.server.request("POST", "/api/events/batch", [event_body()], token=token)
        self.assertEqual(len(self.assertJsonResponse(response, 201)["created_events"]), 1)


# --- conflicts -----------------------------------------------------------------------------------


class ConflictTest(EventsTestCase):

    def setUp(self):
        super().setUp()
        self.token, self.user_id = self.new_user()
        # 10:00 to 12:00 on 1 January 2030
        self.existing = self.create_ok(self.token, title="existing", start=at(1, 10),
                                       end=at(1, 12))

    def assertRefused(self, start, end):
        response = self.create(self.token, event_body(start=start, end=end))
        body = self.assertConflict(response, ids=[self.existing["id"]], count=1)
        self.assertEqual(body["conflicts"][0], {
            "id": self.existing["id"], "title": "existing", "start_time": printed(1, 10),
            "end_time": printed(1, 12)})
        self.assertEqual(self.all_ids(self.token), [self.existing["id"]])

    def test_partial_overlap(self):
        for start, end in ((at(1, 11), at(1, 13)), (at(1, 9), at(1, 11))):
            with self.subTest(start=start, end=end):
                self.assertRefused(start, end)

    def test_containment(self):
        for start, end in ((at(1, 10, 30), at(1, 11, 30)), (at(1, 9), at(1, 13))):
            with self.subTest(start=start, end=end):
                self.assertRefused(start, end)

    def test_identical(self):
        self.assertRefused(at(1, 10), at(1, 12))

    def test_same_start_or_same_end(self):
        for start, end in ((at(1, 10), at(1, 10, 1)), (at(1, 11, 59), at(1, 12))):
            with self.subTest(start=start, end=end):
                self.assertRefused(start, end)

    def test_overlap_expressed_with_an_offset(self):
        # 15:00+05:00 is 10:00 UTC
        self.assertRefused("2030-01-01T15:00:00+05:00", "2030-01-01T15:30:00+05:00")

    def test_overlap_by_one_second(self):
        self.assertRefused("2030-01-01 11:59:59", at(1, 13))

    def test_touching_ends_do_not_conflict(self):
        before = self.create_ok(self.token, start=at(1, 9), end=at(1, 10))
        after = self.create_ok(self.token, start=at(1, 12), end=at(1, 13))
        self.assertEqual(self.all_ids(self.token),
                         [self.existing["id"], before["id"], after["id"]])

    def test_another_users_event_never_conflicts(self):
        other, _ = self.new_user()
        event = self.create_ok(other, start=at(1, 10), end=at(1, 12))
        self.assertNotEqual(event["id"], self.existing["id"])
        # and the other user's conflict check does not see ours either
        self.assertConflict(self.create(other, event_body(start=at(1, 11), end=at(1, 13))),
                            ids=[event["id"]], count=1)

    def test_several_conflicts_are_all_named(self):
        second = self.create_ok(self.token, title="second", start=at(1, 12), end=at(1, 14))
        third = self.create_ok(self.token, title="third", start=at(1, 14), end=at(1, 16))
        body = self.assertConflict(self.create(self.token, event_body(start=at(1, 11),
                                                                      end=at(1, 15))),
                                   ids=[self.existing["id"], second["id"], third["id"]],
                                   count=3)
        self.assertEqual(len(body["conflicts"]), 3)

    def test_at_most_10_conflicts_are_described(self):
        items = [event_body(title=f"slot {i}", start=at(2, i), end=at(2, i, 30))
                 for i in range(12)]
        ids = [c["id"] for c in self.batch_ok(self.token, items)["created_events"]]
        body = self.assertConflict(self.create(self.token, event_body(start=at(2, 0),
                                                                      end=at(2, 23))),
                                   count=12)
        self.assertEqual(len(body["conflicts"]), 10, body)
        self.assertLessEqual({c["id"] for c in body["conflicts"]}, set(ids), body)

    def test_allow_conflicts_stores_anyway(self):
        response = self.create(self.token, event_body(start=at(1, 11), end=at(1, 13)),
                               "?allow_conflicts=true")
        event = self.assertJsonResponse(response, 201)["event"]
        self.assertEqual(self.all_ids(self.token), [self.existing["id"], event["id"]])

    def test_invalid_allow_conflicts(self):
        response = self.create(self.token, event_body(start=at(1, 11), end=at(1, 13)),
                               "?allow_conflicts=maybe")
        self.assertInvalid(response, "allow_conflicts")
        self.assertEqual(self.all_ids(self.token), [self.existing["id"]])

    def test_allow_conflicts_false_still_checks(self):
        response = self.create(self.token, event_body(start=at(1, 11), end=at(1, 13)),
                               "?allow_conflicts=false")
        self.assertConflict(response, ids=[self.existing["id"]], count=1)

    def test_deleted_event_no_longer_conflicts(self):
        self.assertEqual(self.delete(self.token, self.existing["id"]).status, 200)
        self.create_ok(self.token, start=at(1, 10), end=at(1, 12))

    def test_update_within_its_own_slot(self):
        for method, start, end in (("PATCH", at(1, 10, 30), at(1, 11, 30)),
                                   ("PUT", at(1, 10), at(1, 12)),
                                   ("PATCH", at(1, 9), at(1, 13))):
            with self.subTest(method=method, start=start, end=end):
                response = self.update(self.token, self.existing["id"],
                                       {"start_time": start, "end_time": end}, method)
                body = self.assertJsonResponse(response, 200)
                self.assertEqual((body["event"]["start_time"], body["event"]["end_time"]),
                                 (f"{start}:00", f"{end}:00"))

    def test_update_title_only_of_a_lone_event(self):
        body = self.assertJsonResponse(self.update(self.token, self.existing["id"],
                                                   {"title": "renamed"}, "PATCH"), 200)
        self.assertEqual(body["event"]["title"], "renamed")

    def test_update_into_another_events_slot(self):
        other = self.create_ok(self.token, title="later", start=at(1, 14), end=at(1, 15))
        for method in ("PUT", "PATCH"):
            with self.subTest(method=method):
                response = self.update(self.token, other["id"],
                                       {"start_time": at(1, 11), "end_time": at(1, 12)}, method)
                self.assertConflict(response, ids=[self.existing["id"]], count=1)
        read = self.assertJsonResponse(self.get(self.token, other["id"]), 200)
        self.assertEqual(read, dict(other, role="OWNER"))

    def test_update_moving_one_end_into_another_event(self):
        other = self.create_ok(self.token, title="later", start=at(1, 14), end=at(1, 15))
        response = self.update(self.token, other["id"], {"start_time": at(1, 11, 59)}, "PATCH")
        self.assertConflict(response, ids=[self.existing["id"]], count=1)
        response = self.update(self.token, other["id"], {"start_time": at(1, 12)}, "PATCH")
        self.assertEqual(self.assertJsonResponse(response, 200)["event"]["start_time"],
                         printed(1, 12))

    def test_update_with_allow_conflicts(self):
        other = self.create_ok(self.token, title="later", start=at(1, 14), end=at(1, 15))
        response = self.update(self.token, other["id"],
                               {"start_time": at(1, 11), "end_time": at(1, 12)}, "PATCH",
                               "?allow_conflicts=true")
        body = self.assertJsonResponse(response, 200)
        self.assertEqual(body["event"]["start_time"], printed(1, 11))

    def test_update_does_not_conflict_with_another_users_event(self):
        other, _ = self.new_user()
        self.create_ok(other, start=at(1, 14), end=at(1, 15))
        response = self.update(self.token, self.existing["id"],
                               {"start_time": at(1, 14), "end_time": at(1, 15)}, "PATCH")
        self.assertJsonResponse(response, 200)


class ConcurrentCreateTest(EventsTestCase):
    """Many overlapping creates at once, each from its own thread on its own connection: the
    check and the insert are one serialised transaction, so exactly one may succeed."""

    CONCURRENCY = 20

    def fire(self, token, bodies):
        barrier = threading.Barrier(len(bodies))
        responses = [None] * len(bodies)
        failures = []

        def worker(i):
            try:
                client = self.server.client()
                try:
                    barrier.wait(timeout=30)
                    responses[i] = client.request("POST", EVENTS, bodies[i], token=token)
                finally:
                    client.close()
            except Exception as error:  # reported below, not swallowed
                failures.append(f"worker {i}: {error!r}")

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(bodies))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(failures, [])
        self.assertTrue(all(r is not None for r in responses), responses)
        return responses

    def test_overlapping_creates_at_once_exactly_one_succeeds(self):
        token, _ = self.new_user()
        # every pair overlaps: start 10:00 + i minutes, end 11:00 + i minutes, i < 20
        bodies = [event_body(title=f"race {i}", start=at(1, 10, i), end=at(1, 11, i))
                  for i in range(self.CONCURRENCY)]
        responses = self.fire(token, bodies)
        statuses = sorted(r.status for r in responses)
        self.assertEqual(statuses.count(201), 1, statuses)
        self.assertEqual(statuses.count(409), self.CONCURRENCY - 1, statuses)
        winner = next(r for r in responses if r.status == 201).json()["event"]
        for response in responses:
            if response.status == 409:
                self.assertConflict(response, ids=[winner["id"]], count=1)
        body = self.list_ok(token)
        self.assertPage(body, count=1, length=1)
        self.assertEqual(body["results"][0], dict(winner, role="OWNER"))

    def test_identical_creates_at_once_exactly_one_succeeds(self):
        token, _ = self.new_user()
        bodies = [event_body(title=f"same {i}") for i in range(self.CONCURRENCY)]
        statuses = sorted(r.status for r in self.fire(token, bodies))
        self.assertEqual(statuses, [201] + [409] * (self.CONCURRENCY - 1))
        self.assertEqual(len(self.all_ids(token)), 1)

    def test_non_overlapping_creates_at_once_all_succeed(self):
        token, _ = self.new_user()
        bodies = [event_body(title=f"slot {i}", start=at(1, i), end=at(1, i, 30))
                  for i in range(self.CONCURRENCY)]
        statuses = [r.status for r in self.fire(token, bodies)]
        self.assertEqual(statuses, [201] * self.CONCURRENCY)
        self.assertEqual(len(self.all_ids(token)), self.CONCURRENCY)

    def test_different_users_at_once_all_succeed(self):
        users = [self.new_user()[0] for _ in range(4)]
        barrier = threading.Barrier(len(users))
        results = [None] * len(users)

        def worker(i):
            with self.server.client() as client:
                barrier.wait(timeout=30)
                results[i] = client.request("POST", EVENTS, event_body(), token=users[i])

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(users))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual([r.status if r else None for r in results], [201] * len(users))


if __name__ == "__main__":
    unittest.main()
