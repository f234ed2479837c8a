"""Version history over real HTTP (issue 5): the history list, one version, the changelog with its
attribution, the diff of two versions and rollback, each with its success and every error; what
each write records (create, update, no-op update, rollback, batch, delete) and who and why
(`changed_by`, `change_reason`); pagination of the history and the changelog; ETag, If-None-Match
(304) and If-Match (412); and many editors writing one event at once with If-Match.

Who may call what is the role matrix's business (test_role_matrix.py); here each endpoint's own
behaviour is tested. Every test works as users of its own, so history ids are compared with each
other, never with fixed numbers: they are whatever the server assigns.
"""

import datetime
import threading
import unittest

from harness import unique_name
from test_events import (EVENT_KEYS, NOT_AUTHENTICATED, TIME_FORMAT, at, event_body, event_path,
                         printed)
from test_sharing import SharingTestCase, User

FIELDS = ("title", "description", "start_time", "end_time", "location", "is_recurring",
          "recurrence_pattern")
HISTORY_ITEM_KEYS = {"version_id", "event_id", "history_type", "history_date", "changed_by"}
VERSION_KEYS = {"id", *FIELDS, "history_date", "history_type", "history_id", "changed_by",
                "change_reason"}
CHANGELOG_KEYS = {"history_id", "history_date", "history_type", "changed_by", "change_reason",
                  "changed_fields"}
PAGE_KEYS = {"results", "count", "num_pages", "current_page"}
ISO_MICROSECONDS = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"
STRONG_ETAG = r'^"\d+"$'

VERSION_NOT_FOUND = {"error": "Version not found", "code": "not_found"}
VERSIONS_NOT_FOUND = {"error": "One or both versions not found", "code": "not_found"}
EDIT_DENIED = {"error": "You do not have permission to edit this event.",
               "code": "permission_denied"}
ROLLED_BACK = "Event rolled back successfully"
PRECONDITION_FAILED = "The event was changed by someone else"
INVALID_QUERY = "Invalid query parameters."
NO_SUCH_VERSION = 999999999
NO_SUCH_EVENT = 999999999
STALE_TAG = '"999999999"'  # a strong tag no event of these tests reaches

# The seed's sequence: create, edit title and description, edit the times and the location.
SEED_CREATE = {"title": "testing history", "description": "history description",
               "start_time": "2025-06-01 11:23", "end_time": "2025-06-01 18:32",
               "location": "srinagar", "is_recurring": True, "recurrence_pattern": "weekly"}
SEED_V1 = {"title": "testing history", "description": "history description",
           "start_time": "2025-06-01 11:23:00", "end_time": "2025-06-01 18:32:00",
           "location": "srinagar", "is_recurring": True, "recurrence_pattern": "weekly"}
SEED_V2 = dict(SEED_V1, title="for case 4 history", description="lwts description")
SEED_V3 = dict(SEED_V2, start_time="2025-06-02 09:00:00", end_time="2025-06-02 17:30:00",
               location="gulmarg")


def history_path(event_id):
    return f"/api/events/{event_id}/history/"


def version_path(event_id, history_id):
    return f"/api/events/{event_id}/history/{history_id}/"


def changelog_path(event_id):
    return f"/api/events/{event_id}/changelog/"


def diff_path(event_id, old_id, new_id):
    return f"/api/events/{event_id}/diff/{old_id}/{new_id}/"


def rollback_path(event_id, history_id):
    return f"/api/events/{event_id}/rollback/{history_id}/"


def fields_of(record):
    """The seven versioned fields of an event or a version."""
    return {name: record[name] for name in FIELDS}


def author(user):
    """`changed_by` as the API prints it for `user`."""
    return {"id": user.id, "username": user.name}


def field_diff(old, new, keys=("from", "to")):
    """{field: {keys[0]: old value, keys[1]: new value}} for the fields that differ, in FIELDS
    order."""
    return {name: {keys[0]: old[name], keys[1]: new[name]}
            for name in FIELDS if old[name] != new[name]}


class HistoryTestCase(SharingTestCase):
    """Helpers shared by the history suites."""

    # requests

    def call(self, actor, method, path, body=None, headers=None):
        token = actor.token if isinstance(actor, User) else actor
        return self.server.request(method, path, body, headers=headers, token=token)

    def history(self, actor, event_id, query=""):
        return self.call(actor, "GET", history_path(event_id) + query)

    def history_ok(self, actor, event_id):
        """The unpaged history (asserting 200 and its shape), newest first."""
        body = self.assertJsonResponse(self.history(actor, event_id), 200)
        self.assertHistoryList(body, event_id)
        return body

    def version_ids(self, actor, event_id):
        """The event's history ids, OLDEST first."""
        return [item["version_id"] for item in reversed(self.history_ok(actor, event_id))]

    def version(self, actor, event_id, history_id):
        return self.call(actor, "GET", version_path(event_id, history_id))

    def version_ok(self, actor, event_id, history_id):
        body = self.assertJsonResponse(self.version(actor, event_id, history_id), 200)
        self.assertVersion(body, event_id, history_id)
        return body

    def changelog(self, actor, event_id, query=""):
        return self.call(actor, "GET", changelog_path(event_id) + query)

    def changelog_ok(self, actor, event_id):
        """The unpaged changelog (asserting 200 and its shape), oldest first."""
        body = self.assertJsonResponse(self.changelog(actor, event_id), 200)
        self.assertChangelogList(body)
        if body:
            self.assertEqual(body[0]["changed_fields"], {}, body[0])
        return body

    def diff(self, actor, event_id, old_id, new_id):
        return self.call(actor, "GET", diff_path(event_id, old_id, new_id))

    def diff_ok(self, actor, event_id, old_id, new_id):
        body = self.assertJsonResponse(self.diff(actor, event_id, old_id, new_id), 200)
        self.assertIsInstance(body, dict, body)
        for name, change in body.items():
            self.assertIn(name, FIELDS, body)
            self.assertEqual(set(change), {"version_1", "version_2"}, body)
            self.assertNotEqual(change["version_1"], change["version_2"], body)
        return body

    def rollback(self, actor, event_id, history_id, body=None, headers=None, query=""):
        return self.call(actor, "POST", rollback_path(event_id, history_id) + query, body,
                         headers)

    def rollback_ok(self, actor, event_id, history_id, body=None, headers=None, query=""):
        """Rolls back (asserting 200); returns (event, etag)."""
        response = self.rollback(actor, event_id, history_id, body, headers, query)
        answer = self.assertJsonResponse(response, 200)
        self.assertEqual(set(answer), {"message", "event"}, answer)
        self.assertEqual(answer["message"], ROLLED_BACK, answer)
        self.assertEvent(answer["event"])
        return answer["event"], self.etag(response)

    def read(self, actor, event_id, headers=None):
        """GET the event (asserting 200); returns (event with role, etag)."""
        response = self.call(actor, "GET", event_path(event_id), headers=headers)
        body = self.assertJsonResponse(response, 200)
        return body, self.etag(response)

    def write(self, actor, method, event_id, body=None, headers=None, query=""):
        return self.call(actor, method, event_path(event_id) + query, body, headers)

    def write_ok(self, actor, method, event_id, body, headers=None, query=""):
        """PUT or PATCH (asserting 200); returns (event, etag)."""
        response = self.write(actor, method, event_id, body, headers, query)
        answer = self.assertJsonResponse(response, 200)
        self.assertEqual(answer.get("message"), "Event updated successfully", answer)
        self.assertEvent(answer["event"])
        return answer["event"], self.etag(response)

    def seed_event(self, owner):
        """The seed's sequence as `owner`: returns (event id, [v1, v2, v3])."""
        response = self.create(owner.token, SEED_CREATE, "?allow_conflicts=true")
        event_id = self.assertJsonResponse(response, 201)["event"]["id"]
        full_v2 = dict(SEED_CREATE, title=SEED_V2["title"], description=SEED_V2["description"])
        self.write_ok(owner, "PUT", event_id, full_v2)
        self.write_ok(owner, "PUT", event_id, {"start_time": "2025-06-02 09:00",
                                               "end_time": "2025-06-02 17:30",
                                               "location": "gulmarg"})
        ids = self.version_ids(owner, event_id)
        self.assertEqual(len(ids), 3, ids)
        return event_id, ids

    def snapshot(self, owner, event_id):
        """What "nothing changed" means: the event, its history and its changelog as the owner
        reads them, byte for byte (the ETag included)."""
        reads = []
        for path in (event_path(event_id), history_path(event_id), changelog_path(event_id)):
            response = self.call(owner, "GET", path)
            reads.append((path, response.status, response.headers.get("ETag"), response.body))
        return reads

    # assertions

    def etag(self, response):
        """The response's ETag: a strong, quoted integer."""
        tag = response.headers.get("ETag")
        self.assertIsNotNone(tag, response)
        self.assertRegex(tag, STRONG_ETAG, response)
        return tag

    def assertChangedBy(self, value, user=None):
        self.assertIsInstance(value, dict, value)
        self.assertEqual(set(value), {"id", "username"}, value)
        self.assertIsInstance(value["id"], int, value)
        self.assertIsInstance(value["username"], str, value)
        if user is not None:
            self.assertEqual(value, author(user))

    def assertHistoryItem(self, item, event_id):
        self.assertIsInstance(item, dict, item)
        self.assertEqual(set(item), HISTORY_ITEM_KEYS, item)
        self.assertIsInstance(item["version_id"], int, item)
        self.assertNotIsInstance(item["version_id"], bool, item)
        self.assertGreater(item["version_id"], 0, item)
        self.assertEqual(item["event_id"], event_id, item)
        # a "-" version exists, but the event then answers 404: never listed
        self.assertIn(item["history_type"], ("+", "~"), item)
        self.assertRegex(item["history_date"], TIME_FORMAT)
        self.assertChangedBy(item["changed_by"])

    def assertHistoryList(self, items, event_id):
        """Newest first: history ids strictly decreasing (so none twice), the oldest a "+"."""
        self.assertIsInstance(items, list, items)
        for item in items:
            self.assertHistoryItem(item, event_id)
        ids = [item["version_id"] for item in items]
        self.assertEqual(ids, sorted(set(ids), reverse=True), items)

    def assertVersion(self, version, event_id, history_id):
        self.assertIsInstance(version, dict, version)
        self.assertEqual(set(version), VERSION_KEYS, version)
        self.assertEqual(version["id"], event_id, version)
        self.assertEqual(version["history_id"], history_id, version)
        self.assertIn(version["history_type"], ("+", "~"), version)
        self.assertRegex(version["history_date"], ISO_MICROSECONDS)
        self.assertChangedBy(version["changed_by"])
        self.assertIsInstance(version["change_reason"], (str, type(None)), version)
        self.assertRegex(version["start_time"], TIME_FORMAT)
        self.assertRegex(version["end_time"], TIME_FORMAT)
        self.assertIsInstance(version["is_recurring"], bool, version)

    def assertChangelogEntry(self, entry):
        self.assertIsInstance(entry, dict, entry)
        self.assertEqual(set(entry), CHANGELOG_KEYS, entry)
        self.assertIsInstance(entry["history_id"], int, entry)
        self.assertIn(entry["history_type"], ("+", "~"), entry)
        self.assertRegex(entry["history_date"], TIME_FORMAT)
        self.assertChangedBy(entry["changed_by"])
        self.assertIsInstance(entry["change_reason"], (str, type(None)), entry)
        self.assertIsInstance(entry["changed_fields"], dict, entry)
        names = list(entry["changed_fields"])
        self.assertEqual(names, [name for name in FIELDS if name in names],
                         f"changed_fields not in field order: {entry}")
        for change in entry["changed_fields"].values():
            self.assertEqual(set(change), {"from", "to"}, entry)
            self.assertNotEqual(change["from"], change["to"], entry)

    def assertChangelogList(self, entries):
        """Oldest first: history ids strictly increasing."""
        self.assertIsInstance(entries, list, entries)
        for entry in entries:
            self.assertChangelogEntry(entry)
        ids = [entry["history_id"] for entry in entries]
        self.assertEqual(ids, sorted(set(ids)), entries)

    def assertEnvelope(self, body, count=None, num_pages=None, current_page=None, length=None):
        self.assertIsInstance(body, dict, body)
        self.assertEqual(set(body), PAGE_KEYS, body)
        self.assertIsInstance(body["results"], list, body)
        for name in ("count", "num_pages", "current_page"):
            self.assertIsInstance(body[name], int, body)
        self.assertGreaterEqual(body["num_pages"], 1, body)
        for name, value in (("count", count), ("num_pages", num_pages),
                            ("current_page", current_page)):
            if value is not None:
                self.assertEqual(body[name], value, body)
        if length is not None:
            self.assertEqual(len(body["results"]), length, body)

    def assertVersionNotFound(self, response):
        self.assertEqual(self.assertJsonResponse(response, 404), VERSION_NOT_FOUND)

    def assertVersionsNotFound(self, response):
        self.assertEqual(self.assertJsonResponse(response, 404), VERSIONS_NOT_FOUND)

    def assertChangeReasonInvalid(self, response):
        body = self.assertErrorBody(response, 400, code="invalid", field="change_reason")
        self.assertTrue(body["error"].startswith("Invalid"), body)
        return body

    def assertPreconditionFailed(self, response, owner, event_id):
        """412 with the event as it is now in `current` and its ETag."""
        body = self.assertJsonResponse(response, 412)
        current, tag = self.read(owner, event_id)
        del current["role"]
        self.assertEqual(body, {"error": PRECONDITION_FAILED, "code": "precondition_failed",
                                "current": current})
        self.assertEqual(set(body["current"]), EVENT_KEYS, body)
        self.assertEqual(self.etag(response), tag)
        return body


# --- the seed's sequence -------------------------------------------------------------------------


class SeedSequenceTest(HistoryTestCase):
    """The seed's event 3: created, its title and description edited, then its times and
    location, then rolled back to the second version."""

    def test_history(self):
        owner = self.user()
        event_id, (v1, v2, v3) = self.seed_event(owner)
        history = self.history_ok(owner, event_id)
        self.assertEqual([(h["version_id"], h["history_type"]) for h in history],
                         [(v3, "~"), (v2, "~"), (v1, "+")])
        for item in history:
            self.assertEqual(item["event_id"], event_id)
            self.assertEqual(item["changed_by"], author(owner))
        # history_date is the UTC time of the change ("YYYY-MM-DD HH:MM:SS")
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        for item in history:
            recorded = datetime.datetime.strptime(item["history_date"], "%Y-%m-%d %H:%M:%S")
            self.assertLess(abs(recorded - now), datetime.timedelta(minutes=10), item)
        self.assertEqual([h["history_date"] for h in history],
                         sorted((h["history_date"] for h in history), reverse=True))

    def test_version(self):
        owner = self.user()
        event_id, (v1, v2, v3) = self.seed_event(owner)
        dates = {h["version_id"]: h["history_date"] for h in self.history_ok(owner, event_id)}
        for history_id, fields, kind in ((v1, SEED_V1, "+"), (v2, SEED_V2, "~"),
                                         (v3, SEED_V3, "~")):
            with self.subTest(version=kind + str(history_id)):
                version = self.version_ok(owner, event_id, history_id)
                self.assertEqual(version, dict(
                    {"id": event_id}, **fields, history_date=version["history_date"],
                    history_type=kind, history_id=history_id, changed_by=author(owner),
                    change_reason=None))
                # the same instant as the history list prints it, with microseconds and Z
                self.assertEqual(version["history_date"][:19].replace("T", " "),
                                 dates[history_id])

    def test_changelog(self):
        owner = self.user()
        event_id, (v1, v2, v3) = self.seed_event(owner)
        dates = {h["version_id"]: h["history_date"] for h in self.history_ok(owner, event_id)}
        changelog = self.changelog_ok(owner, event_id)

        def entry(history_id, kind, changed_fields):
            return {"history_id": history_id, "history_date": dates[history_id],
                    "history_type": kind, "changed_by": author(owner), "change_reason": None,
                    "changed_fields": changed_fields}

        self.assertEqual(changelog, [
            entry(v1, "+", {}),
            entry(v2, "~", {"title": {"from": "testing history", "to": "for case 4 history"},
                            "description": {"from": "history description",
                                            "to": "lwts description"}}),
            entry(v3, "~", {"start_time": {"from": "2025-06-01 11:23:00",
                                           "to": "2025-06-02 09:00:00"},
                            "end_time": {"from": "2025-06-01 18:32:00",
                                         "to": "2025-06-02 17:30:00"},
                            "location": {"from": "srinagar", "to": "gulmarg"}}),
        ])
        self.assertEqual([list(e["changed_fields"]) for e in changelog],
                         [[], ["title", "description"], ["start_time", "end_time", "location"]])

    def test_diff(self):
        owner = self.user()
        event_id, (v1, v2, v3) = self.seed_event(owner)
        # the seed's GET /api/events/3/diff/3/4/
        self.assertEqual(self.diff_ok(owner, event_id, v1, v2), {
            "title": {"version_1": "testing history", "version_2": "for case 4 history"},
            "description": {"version_1": "history description",
                            "version_2": "lwts description"}})
        self.assertEqual(self.diff_ok(owner, event_id, v2, v3), {
            "start_time": {"version_1": "2025-06-01 11:23:00",
                           "version_2": "2025-06-02 09:00:00"},
            "end_time": {"version_1": "2025-06-01 18:32:00", "version_2": "2025-06-02 17:30:00"},
            "location": {"version_1": "srinagar", "version_2": "gulmarg"}})
        keys = ("version_1", "version_2")
        self.assertEqual(self.diff_ok(owner, event_id, v1, v3), field_diff(SEED_V1, SEED_V3, keys))
        # version_1 is the first id of the path, whichever is older
        self.assertEqual(self.diff_ok(owner, event_id, v3, v1), field_diff(SEED_V3, SEED_V1, keys))

    def test_diff_of_a_version_with_itself_is_empty(self):
        owner = self.user()
        event_id, ids = self.seed_event(owner)
        for history_id in ids:
            with self.subTest(version=history_id):
                self.assertEqual(self.diff_ok(owner, event_id, history_id, history_id), {})

    def test_rollback(self):
        owner = self.user()
        event_id, (v1, v2, v3) = self.seed_event(owner)
        _, tag_before = self.read(owner, event_id)
        # the seed's POST /api/events/3/rollback/4/
        response = self.rollback(owner, event_id, v2)
        self.assertEqual(self.assertJsonResponse(response, 200), {
            "message": "Event rolled back successfully",
            "event": dict({"id": event_id}, **SEED_V2, owner_id=owner.id)})
        tag = self.etag(response)
        self.assertNotEqual(tag, tag_before)
        read, read_tag = self.read(owner, event_id)
        self.assertEqual(read, dict({"id": event_id}, **SEED_V2, owner_id=owner.id, role="OWNER"))
        self.assertEqual(read_tag, tag)
        # a NEW "~" version: the history only grows
        history = self.history_ok(owner, event_id)
        self.assertEqual([h["version_id"] for h in history[1:]], [v3, v2, v1])
        v4 = history[0]["version_id"]
        self.assertGreater(v4, v3)
        self.assertEqual((history[0]["history_type"], history[0]["changed_by"]),
                         ("~", author(owner)))
        version = self.version_ok(owner, event_id, v4)
        self.assertEqual(fields_of(version), SEED_V2)
        self.assertEqual(version["change_reason"], f"Rollback to version {v2}")
        changelog = self.changelog_ok(owner, event_id)
        self.assertEqual(len(changelog), 4)
        self.assertEqual(changelog[-1]["history_id"], v4)
        self.assertEqual(changelog[-1]["change_reason"], f"Rollback to version {v2}")
        self.assertEqual(changelog[-1]["changed_fields"], field_diff(SEED_V3, SEED_V2))
        self.assertEqual(self.diff_ok(owner, event_id, v2, v4), {})
        # the versions rolled over stay as they were
        self.assertEqual(fields_of(self.version_ok(owner, event_id, v3)), SEED_V3)


# --- rollback ------------------------------------------------------------------------------------


class RollbackTest(HistoryTestCase):

    def test_every_field_is_restored(self):
        owner = self.user()
        created = self.event_of(owner, title="first", description="first description",
                                location="first place", start=at(1, 10), end=at(1, 11),
                                is_recurring=True, recurrence_pattern="FREQ=WEEKLY;BYDAY=MO")
        self.write_ok(owner, "PUT", created["id"], {
            "title": "second", "description": "", "location": "elsewhere",
            "start_time": at(2, 14), "end_time": at(2, 16), "is_recurring": False,
            "recurrence_pattern": None})
        v1, v2 = self.version_ids(owner, created["id"])
        changed = self.changelog_ok(owner, created["id"])[1]["changed_fields"]
        self.assertEqual(list(changed), list(FIELDS))
        self.assertEqual(changed["is_recurring"], {"from": True, "to": False})
        self.assertEqual(changed["recurrence_pattern"], {"from": "FREQ=WEEKLY;BYDAY=MO",
                                                         "to": None})
        event, _ = self.rollback_ok(owner, created["id"], v1)
        self.assertEqual(event, created)
        read, _ = self.read(owner, created["id"])
        self.assertEqual(read, dict(created, role="OWNER"))
        v3 = self.version_ids(owner, created["id"])[-1]
        self.assertGreater(v3, v2)
        self.assertEqual(self.diff_ok(owner, created["id"], v1, v3), {})
        self.assertEqual(self.changelog_ok(owner, created["id"])[-1]["changed_fields"],
                         field_diff(fields_of(self.version_ok(owner, created["id"], v2)),
                                    fields_of(created)))

    def test_rollback_to_the_current_state_records_nothing(self):
        owner = self.user()
        event = self.event_of(owner, title="one")
        self.write_ok(owner, "PATCH", event["id"], {"title": "two"})
        v1, v2 = self.version_ids(owner, event["id"])
        before = self.snapshot(owner, event["id"])
        _, tag = self.read(owner, event["id"])
        # v2 is the current state
        rolled, rolled_tag = self.rollback_ok(owner, event["id"], v2)
        self.assertEqual(rolled, dict(event, title="two"))
        self.assertEqual(rolled_tag, tag)
        self.assertEqual(self.snapshot(owner, event["id"]), before)
        # back to v1, then to v1 again: the second records nothing
        self.rollback_ok(owner, event["id"], v1)
        after_first = self.snapshot(owner, event["id"])
        self.assertEqual(len(self.version_ids(owner, event["id"])), 3)
        _, tag = self.read(owner, event["id"])
        _, again_tag = self.rollback_ok(owner, event["id"], v1, {"change_reason": "again"})
        self.assertEqual(again_tag, tag)
        self.assertEqual(self.snapshot(owner, event["id"]), after_first)

    def test_rollback_to_the_created_version_of_an_untouched_event_records_nothing(self):
        owner = self.user()
        event = self.event_of(owner)
        (v1,) = self.version_ids(owner, event["id"])
        before = self.snapshot(owner, event["id"])
        rolled, _ = self.rollback_ok(owner, event["id"], v1)
        self.assertEqual(rolled, event)
        self.assertEqual(self.snapshot(owner, event["id"]), before)

    def test_a_rollback_can_itself_be_rolled_back(self):
        owner = self.user()
        event = self.event_of(owner, title="a")
        self.write_ok(owner, "PATCH", event["id"], {"title": "b"})
        v1, v2 = self.version_ids(owner, event["id"])
        self.rollback_ok(owner, event["id"], v1)
        v3 = self.version_ids(owner, event["id"])[-1]
        rolled, _ = self.rollback_ok(owner, event["id"], v2)
        self.assertEqual(rolled["title"], "b")
        ids = self.version_ids(owner, event["id"])
        self.assertEqual(ids[:3], [v1, v2, v3])
        self.assertEqual(len(ids), 4)
        self.assertEqual([e["changed_fields"] for e in self.changelog_ok(owner, event["id"])], [
            {}, {"title": {"from": "a", "to": "b"}}, {"title": {"from": "b", "to": "a"}},
            {"title": {"from": "a", "to": "b"}}])

    def test_body_is_optional(self):
        owner = self.user()
        event = self.event_of(owner, title="a")
        for body in (None, {}, {"change_reason": "with a reason"}):
            with self.subTest(body=body):
                self.write_ok(owner, "PATCH", event["id"], {"title": unique_name("t")})
                first = self.version_ids(owner, event["id"])[0]
                rolled, _ = self.rollback_ok(owner, event["id"], first, body)
                self.assertEqual(rolled["title"], "a")

    def test_an_editor_may_roll_back_and_is_recorded(self):
        owner, event, (editor, viewer) = self.shared_event(title="before")
        self.write_ok(owner, "PATCH", event["id"], {"title": "after"})
        v1, _ = self.version_ids(owner, event["id"])
        rolled, _ = self.rollback_ok(editor, event["id"], v1)
        self.assertEqual(rolled, event)
        newest = self.history_ok(viewer, event["id"])[0]
        self.assertEqual(newest["changed_by"], author(editor))
        self.assertEqual(self.changelog_ok(owner, event["id"])[-1]["changed_by"], author(editor))

    def test_a_viewer_may_not_and_nothing_changes(self):
        owner, event, (editor, viewer) = self.shared_event(title="before")
        self.write_ok(owner, "PATCH", event["id"], {"title": "after"})
        v1, _ = self.version_ids(owner, event["id"])
        before = self.snapshot(owner, event["id"])
        _, tag = self.read(viewer, event["id"])
        for headers in (None, {"If-Match": tag}, {"If-Match": STALE_TAG}):
            with self.subTest(headers=headers):
                response = self.rollback(viewer, event["id"], v1, headers=headers)
                self.assertEqual(self.assertJsonResponse(response, 403), EDIT_DENIED)
        self.assertEqual(self.snapshot(owner, event["id"]), before)

    def test_a_stranger_gets_the_event_404_and_nothing_changes(self):
        owner = self.user()
        stranger = self.user()
        event = self.event_of(owner, title="before")
        self.write_ok(owner, "PATCH", event["id"], {"title": "after"})
        v1, _ = self.version_ids(owner, event["id"])
        before = self.snapshot(owner, event["id"])
        for headers in (None, {"If-Match": STALE_TAG}, {"If-Match": "*"}):
            with self.subTest(headers=headers):
                self.assertNotFound(self.rollback(stranger, event["id"], v1, headers=headers))
        self.assertEqual(self.snapshot(owner, event["id"]), before)

    def test_unknown_version_is_404_and_nothing_changes(self):
        owner = self.user()
        event = self.event_of(owner, title="before")
        self.write_ok(owner, "PATCH", event["id"], {"title": "after"})
        before = self.snapshot(owner, event["id"])
        self.assertVersionNotFound(self.rollback(owner, event["id"], NO_SUCH_VERSION))
        self.assertEqual(self.snapshot(owner, event["id"]), before)

    def test_unknown_event(self):
        owner = self.user()
        event = self.event_of(owner)
        (v1,) = self.version_ids(owner, event["id"])
        self.assertNotFound(self.rollback(owner, NO_SUCH_EVENT, v1))

    def test_restored_times_that_overlap_are_409_unless_allowed(self):
        owner = self.user()
        moved = self.create_ok(owner.token, title="moved", start=at(1, 10), end=at(1, 11))
        self.write_ok(owner, "PATCH", moved["id"], {"start_time": at(1, 14),
                                                    "end_time": at(1, 15)})
        v1, _ = self.version_ids(owner, moved["id"])
        squatter = self.create_ok(owner.token, title="squatter", start=at(1, 10, 30),
                                  end=at(1, 11, 30))
        before = self.snapshot(owner, moved["id"])
        self.assertConflict(self.rollback(owner, moved["id"], v1), ids=[squatter["id"]],
                            count=1)
        self.assertEqual(self.snapshot(owner, moved["id"]), before)
        rolled, _ = self.rollback_ok(owner, moved["id"], v1, query="?allow_conflicts=true")
        self.assertEqual((rolled["start_time"], rolled["end_time"]),
                         (printed(1, 10), printed(1, 11)))

    def test_overlap_with_an_event_of_another_participant_is_409(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",), start=at(1, 10), end=at(1, 11))
        self.write_ok(owner, "PATCH", event["id"], {"start_time": at(1, 14),
                                                    "end_time": at(1, 15)})
        v1, _ = self.version_ids(owner, event["id"])
        editors_own = self.create_ok(editor.token, start=at(1, 10), end=at(1, 11))
        before = self.snapshot(owner, event["id"])
        body = self.assertConflict(self.rollback(owner, event["id"], v1))
        self.assertGreaterEqual(body["conflict_count"], 1, body)
        self.assertEqual(self.snapshot(owner, event["id"]), before)
        self.assertEqual(self.read(editor, editors_own["id"])[0]["start_time"], printed(1, 10))


# --- versions of another event, unknown versions, deleted events ---------------------------------


class OtherEventsVersionsTest(HistoryTestCase):

    def test_a_version_of_another_event_is_404_everywhere(self):
        owner = self.user()
        mine = self.event_of(owner, title="mine")
        self.write_ok(owner, "PATCH", mine["id"], {"title": "mine, edited"})
        other = self.event_of(owner, title="other")
        self.write_ok(owner, "PATCH", other["id"], {"title": "other, edited"})
        m1, m2 = self.version_ids(owner, mine["id"])
        o1, o2 = self.version_ids(owner, other["id"])
        before = (self.snapshot(owner, mine["id"]), self.snapshot(owner, other["id"]))
        for foreign in (o1, o2, NO_SUCH_VERSION):
            with self.subTest(version=foreign):
                self.assertVersionNotFound(self.version(owner, mine["id"], foreign))
                self.assertVersionsNotFound(self.diff(owner, mine["id"], m1, foreign))
                self.assertVersionsNotFound(self.diff(owner, mine["id"], foreign, m2))
                self.assertVersionsNotFound(self.diff(owner, mine["id"], foreign, foreign))
                self.assertVersionNotFound(self.rollback(owner, mine["id"], foreign))
        self.assertVersionsNotFound(self.diff(owner, mine["id"], o1, o2))
        self.assertEqual((self.snapshot(owner, mine["id"]), self.snapshot(owner, other["id"])),
                         before)

    def test_another_users_version_is_404_too(self):
        owner = self.user()
        someone = self.user()
        mine = self.event_of(owner)
        theirs = self.event_of(someone)
        (m1,) = self.version_ids(owner, mine["id"])
        (t1,) = self.version_ids(someone, theirs["id"])
        self.assertVersionNotFound(self.version(owner, mine["id"], t1))
        self.assertVersionsNotFound(self.diff(owner, mine["id"], m1, t1))
        self.assertVersionNotFound(self.rollback(owner, mine["id"], t1))
        # and through the other event's own path, the owner of `mine` is a stranger
        self.assertNotFound(self.version(owner, theirs["id"], t1))

    def test_unknown_event_is_404_on_every_route(self):
        owner = self.user()
        event = self.event_of(owner)
        (v1,) = self.version_ids(owner, event["id"])
        for response in (self.history(owner, NO_SUCH_EVENT),
                         self.version(owner, NO_SUCH_EVENT, v1),
                         self.changelog(owner, NO_SUCH_EVENT),
                         self.diff(owner, NO_SUCH_EVENT, v1, v1),
                         self.rollback(owner, NO_SUCH_EVENT, v1)):
            self.assertNotFound(response)

    def test_deleted_event_is_404_on_every_route(self):
        owner, event, (editor, viewer) = self.shared_event(title="doomed")
        self.write_ok(owner, "PATCH", event["id"], {"title": "doomed, edited"})
        v1, v2 = self.version_ids(owner, event["id"])
        self.assertEqual(self.delete(owner.token, event["id"]).status, 200)
        for actor in (owner, editor, viewer):
            with self.subTest(actor=actor):
                self.assertNotFound(self.history(actor, event["id"]))
                self.assertNotFound(self.history(actor, event["id"], "?page=1"))
                self.assertNotFound(self.version(actor, event["id"], v1))
                self.assertNotFound(self.version(actor, event["id"], v2))
                self.assertNotFound(self.changelog(actor, event["id"]))
                self.assertNotFound(self.diff(actor, event["id"], v1, v2))
                self.assertNotFound(self.rollback(actor, event["id"], v1))
        self.assertNotFound(self.get(owner.token, event["id"]))

    def test_stranger_gets_404_on_every_route(self):
        owner = self.user()
        stranger = self.user()
        event = self.event_of(owner)
        (v1,) = self.version_ids(owner, event["id"])
        for response in (self.history(stranger, event["id"]),
                         self.history(stranger, event["id"], "?page=1"),
                         self.version(stranger, event["id"], v1),
                         self.changelog(stranger, event["id"]),
                         self.changelog(stranger, event["id"], "?page=1"),
                         self.diff(stranger, event["id"], v1, v1),
                         self.rollback(stranger, event["id"], v1)):
            self.assertNotFound(response)

    def test_every_participant_reads_the_same_history(self):
        owner, event, (editor, viewer) = self.shared_event(title="read me")
        self.write_ok(editor, "PATCH", event["id"], {"title": "read me again"})
        v1, v2 = self.version_ids(owner, event["id"])
        paths = (history_path(event["id"]), version_path(event["id"], v2),
                 changelog_path(event["id"]), diff_path(event["id"], v1, v2))
        for path in paths:
            with self.subTest(path=path):
                bodies = [self.assertJsonResponse(self.call(actor, "GET", path), 200)
                          for actor in (owner, editor, viewer)]
                self.assertEqual(bodies[1], bodies[0])
                self.assertEqual(bodies[2], bodies[0])


# --- what is recorded, by whom and why -----------------------------------------------------------


class RecordingTest(HistoryTestCase):

    def test_create_records_a_created_version(self):
        owner = self.user()
        event = self.event_of(owner, description="d", location="l", is_recurring=True,
                              recurrence_pattern="daily")
        history = self.history_ok(owner, event["id"])
        self.assertEqual(len(history), 1, history)
        self.assertEqual((history[0]["history_type"], history[0]["changed_by"]),
                         ("+", author(owner)))
        version = self.version_ok(owner, event["id"], history[0]["version_id"])
        self.assertEqual(fields_of(version), fields_of(event))
        self.assertEqual(version["history_type"], "+")
        self.assertIsNone(version["change_reason"])

    def test_each_update_records_one_version(self):
        owner = self.user()
        event = self.event_of(owner, title="t0")
        for i, method in enumerate(("PUT", "PATCH", "PUT"), start=1):
            self.write_ok(owner, method, event["id"], {"title": f"t{i}"})
        history = self.history_ok(owner, event["id"])
        self.assertEqual([h["history_type"] for h in history], ["~", "~", "~", "+"])
        titles = [self.version_ok(owner, event["id"], h["version_id"])["title"]
                  for h in history]
        self.assertEqual(titles, ["t3", "t2", "t1", "t0"])

    def test_an_update_that_changes_nothing_records_nothing(self):
        owner = self.user()
        event = self.event_of(owner, title="same", description="same", start=at(1, 10),
                              end=at(1, 11), is_recurring=True, recurrence_pattern="weekly")
        _, tag = self.read(owner, event["id"])
        before = self.snapshot(owner, event["id"])
        same_in_other_words = {"title": "  same  ", "start_time": "2030-01-01T10:00:00Z",
                               "end_time": "2030-01-01 11:00:00", "recurrence_pattern": "WEEKLY"}
        cases = [("PATCH", {"title": "same"}, None), ("PUT", {}, None), ("PATCH", {}, None),
                 ("PUT", fields_of(event), None), ("PATCH", same_in_other_words, None),
                 ("PATCH", {"change_reason": "nothing really"}, None),
                 ("PUT", {"title": "same"}, {"X-Change-Reason": "nothing either"})]
        for method, body, headers in cases:
            with self.subTest(method=method, body=body, headers=headers):
                updated, updated_tag = self.write_ok(owner, method, event["id"], body, headers)
                self.assertEqual(updated, event)
                self.assertEqual(updated_tag, tag)
                self.assertEqual(self.snapshot(owner, event["id"]), before)

    def test_refused_updates_record_nothing(self):
        owner, event, (viewer,) = self.shared_event(("VIEWER",), start=at(1, 10), end=at(1, 11))
        self.create_ok(owner.token, start=at(1, 12), end=at(1, 13))
        before = self.snapshot(owner, event["id"])
        self.assertInvalid(self.write(owner, "PATCH", event["id"], {"title": ""}), "title")
        self.assertConflict(self.write(owner, "PATCH", event["id"],
                                       {"start_time": at(1, 12), "end_time": at(1, 13)}))
        self.assertPermissionDenied(self.write(viewer, "PATCH", event["id"], {"title": "x"}))
        self.assertEqual(self.snapshot(owner, event["id"]), before)

    def test_changes_are_attributed_to_whoever_made_them(self):
        owner, event, (editor, viewer) = self.shared_event(title="by owner")
        self.write_ok(editor, "PATCH", event["id"], {"title": "by editor"})
        self.write_ok(owner, "PUT", event["id"], {"description": "by owner again"})
        history = self.history_ok(viewer, event["id"])
        self.assertEqual([h["changed_by"] for h in history],
                         [author(owner), author(editor), author(owner)])
        v1, v2, v3 = (h["version_id"] for h in reversed(history))
        self.assertEqual(self.version_ok(viewer, event["id"], v2)["changed_by"], author(editor))
        changelog = self.changelog_ok(viewer, event["id"])
        self.assertEqual([e["changed_by"] for e in changelog],
                         [author(owner), author(editor), author(owner)])
        self.assertEqual(changelog[1]["changed_fields"],
                         {"title": {"from": "by owner", "to": "by editor"}})
        self.assertEqual(changelog[2]["changed_fields"],
                         {"description": {"from": "", "to": "by owner again"}})

    def test_batch_records_a_created_version_per_event(self):
        owner = self.user()
        items = [event_body(title="batch one", start=at(1, 1), end=at(1, 2), location="a"),
                 event_body(title="batch two", start=at(1, 3), end=at(1, 4),
                            is_recurring=True, recurrence_pattern="monthly")]
        created = self.batch_ok(owner.token, items)["created_events"]
        self.assertEqual(len(created), 2, created)
        seen = set()
        for summary in created:
            with self.subTest(event=summary["id"]):
                history = self.history_ok(owner, summary["id"])
                self.assertEqual(len(history), 1, history)
                self.assertEqual((history[0]["history_type"], history[0]["changed_by"]),
                                 ("+", author(owner)))
                version = self.version_ok(owner, summary["id"], history[0]["version_id"])
                event, _ = self.read(owner, summary["id"])
                self.assertEqual(fields_of(version), fields_of(event))
                self.assertIsNone(version["change_reason"])
                seen.add(history[0]["version_id"])
        self.assertEqual(len(seen), 2)

    def test_batch_items_that_fail_record_nothing(self):
        owner = self.user()
        body = self.batch_ok(owner.token, [event_body(title="kept"), {"title": ""}])
        (summary,) = body["created_events"]
        self.assertEqual(len(self.history_ok(owner, summary["id"])), 1)

    def test_history_ids_are_one_increasing_sequence_across_events(self):
        owner = self.user()
        a = self.event_of(owner, title="a")
        b = self.event_of(owner, title="b")
        self.write_ok(owner, "PATCH", a["id"], {"title": "a2"})
        self.write_ok(owner, "PATCH", b["id"], {"title": "b2"})
        a1, a2 = self.version_ids(owner, a["id"])
        b1, b2 = self.version_ids(owner, b["id"])
        self.assertLess(a1, b1)
        self.assertLess(b1, a2)
        self.assertLess(a2, b2)

    def test_a_delete_takes_a_history_id_of_its_own(self):
        # The "-" version of a deleted event is not visible, but it takes the next id of the one
        # sequence: an event created afterwards starts at least two ids further on.
        owner = self.user()
        doomed = self.event_of(owner)
        (last,) = self.version_ids(owner, doomed["id"])
        self.assertEqual(self.delete(owner.token, doomed["id"]).status, 200)
        later = self.event_of(owner)
        (first,) = self.version_ids(owner, later["id"])
        self.assertGreaterEqual(first, last + 2)


class ChangeReasonTest(HistoryTestCase):

    def newest_reason(self, actor, event_id):
        newest = self.version_ids(actor, event_id)[-1]
        return self.version_ok(actor, event_id, newest)["change_reason"]

    def test_on_create_from_the_body_or_the_header(self):
        owner = self.user()
        cases = [({"change_reason": "imported"}, None, "imported"),
                 ({}, {"X-Change-Reason": "from a header"}, "from a header"),
                 ({"change_reason": "body"}, {"X-Change-Reason": "header"}, "body"),
                 ({"change_reason": ""}, None, None), ({"change_reason": None}, None, None),
                 ({}, {"X-Change-Reason": ""}, None)]
        for hour, (extra, headers, expected) in enumerate(cases):
            with self.subTest(body=extra, headers=headers):
                body = event_body(start=at(1, hour), end=at(1, hour, 30), **extra)
                response = self.call(owner, "POST", "/api/events/", body, headers)
                event = self.assertJsonResponse(response, 201)["event"]
                self.assertEqual(set(event), EVENT_KEYS)
                self.assertEqual(self.newest_reason(owner, event["id"]), expected)
                self.assertEqual(self.changelog_ok(owner, event["id"])[0]["change_reason"],
                                 expected)

    def test_on_update_from_the_body_or_the_header(self):
        owner = self.user()
        event = self.event_of(owner)
        cases = [("PATCH", {"change_reason": "typo"}, None, "typo"),
                 ("PUT", {"change_reason": "moved"}, None, "moved"),
                 ("PATCH", {}, {"X-Change-Reason": "header only"}, "header only"),
                 ("PUT", {}, {"X-Change-Reason": "put header"}, "put header"),
                 ("PATCH", {"change_reason": "body wins"}, {"X-Change-Reason": "header loses"},
                  "body wins"),
                 ("PATCH", {"change_reason": ""}, None, None),
                 ("PATCH", {"change_reason": None}, None, None),
                 ("PATCH", {}, None, None)]
        for method, extra, headers, expected in cases:
            with self.subTest(method=method, body=extra, headers=headers):
                body = dict(extra, title=unique_name("title"))
                self.write_ok(owner, method, event["id"], body, headers)
                self.assertEqual(self.newest_reason(owner, event["id"]), expected)
                self.assertEqual(self.changelog_ok(owner, event["id"])[-1]["change_reason"],
                                 expected)

    def test_500_characters_are_accepted(self):
        owner = self.user()
        event = self.event_of(owner)
        for reason in ("r" * 500, "é" * 500):
            with self.subTest(reason=reason[:3]):
                self.write_ok(owner, "PATCH", event["id"],
                              {"title": unique_name("t"), "change_reason": reason})
                self.assertEqual(self.newest_reason(owner, event["id"]), reason)
        self.write_ok(owner, "PATCH", event["id"], {"title": unique_name("t")},
                      {"X-Change-Reason": "h" * 500})
        self.assertEqual(self.newest_reason(owner, event["id"]), "h" * 500)

    def test_too_long_or_not_a_string_is_400_and_changes_nothing(self):
        owner = self.user()
        event = self.event_of(owner, title="untouched")
        before = self.snapshot(owner, event["id"])
        cases = [({"change_reason": "r" * 501}, None), ({"change_reason": "é" * 501}, None),
                 ({}, {"X-Change-Reason": "h" * 501}),
                 ({"change_reason": 5}, None), ({"change_reason": True}, None),
                 ({"change_reason": ["a"]}, None), ({"change_reason": {"a": "b"}}, None)]
        for method in ("PUT", "PATCH"):
            for extra, headers in cases:
                with self.subTest(method=method, body=str(extra)[:40], headers=headers is not None):
                    body = dict(extra, title="changed")
                    self.assertChangeReasonInvalid(self.write(owner, method, event["id"], body,
                                                              headers))
        self.assertEqual(self.snapshot(owner, event["id"]), before)

    def test_create_with_a_bad_reason_creates_nothing(self):
        owner = self.user()
        for extra, headers in (({"change_reason": "r" * 501}, None), ({"change_reason": 7}, None),
                               ({}, {"X-Change-Reason": "h" * 501})):
            with self.subTest(body=str(extra)[:40], headers=headers is not None):
                response = self.call(owner, "POST", "/api/events/?allow_conflicts=true",
                                     event_body(**extra), headers)
                self.assertChangeReasonInvalid(response)
        self.assertPage(self.list_ok(owner.token), count=0)

    def test_batch_takes_the_header_for_every_item(self):
        owner = self.user()
        items = [event_body(start=at(1, 1), end=at(1, 2)), event_body(start=at(1, 3),
                                                                       end=at(1, 4))]
        response = self.call(owner, "POST", "/api/events/batch/", items,
                             {"X-Change-Reason": "imported from ics"})
        created = self.assertJsonResponse(response, 201)["created_events"]
        self.assertEqual(len(created), 2)
        for summary in created:
            self.assertEqual(self.newest_reason(owner, summary["id"]), "imported from ics")

    def test_batch_with_a_too_long_header_creates_nothing(self):
        owner = self.user()
        response = self.call(owner, "POST", "/api/events/batch/", [event_body()],
                             {"X-Change-Reason": "h" * 501})
        self.assertChangeReasonInvalid(response)
        self.assertPage(self.list_ok(owner.token), count=0)

    def test_delete_with_a_too_long_header_keeps_the_event(self):
        owner = self.user()
        event = self.event_of(owner)
        before = self.snapshot(owner, event["id"])
        response = self.call(owner, "DELETE", event_path(event["id"]),
                             headers={"X-Change-Reason": "h" * 501})
        self.assertChangeReasonInvalid(response)
        self.assertEqual(self.snapshot(owner, event["id"]), before)
        response = self.call(owner, "DELETE", event_path(event["id"]),
                             headers={"X-Change-Reason": "cancelled"})
        self.assertEqual(self.assertJsonResponse(response, 200),
                         {"message": "Event deleted successfully"})

    def test_rollback_reasons(self):
        owner = self.user()
        event = self.event_of(owner, title="original")
        (v1,) = self.version_ids(owner, event["id"])
        cases = [(None, None, f"Rollback to version {v1}"),
                 ({}, None, f"Rollback to version {v1}"),
                 ({"change_reason": "undo"}, None, "undo"),
                 (None, {"X-Change-Reason": "undo by header"}, "undo by header"),
                 ({"change_reason": "body wins"}, {"X-Change-Reason": "header loses"},
                  "body wins"),
                 ({"change_reason": ""}, None, f"Rollback to version {v1}")]
        for body, headers, expected in cases:
            with self.subTest(body=body, headers=headers):
                self.write_ok(owner, "PATCH", event["id"], {"title": unique_name("t")})
                self.rollback_ok(owner, event["id"], v1, body, headers)
                self.assertEqual(self.newest_reason(owner, event["id"]), expected)

    def test_rollback_with_a_bad_reason_is_400_and_changes_nothing(self):
        owner = self.user()
        event = self.event_of(owner, title="original")
        self.write_ok(owner, "PATCH", event["id"], {"title": "edited"})
        v1, _ = self.version_ids(owner, event["id"])
        before = self.snapshot(owner, event["id"])
        for body, headers in (({"change_reason": "r" * 501}, None),
                              ({"change_reason": 12}, None),
                              ({"change_reason": ["undo"]}, None),
                              (None, {"X-Change-Reason": "h" * 501})):
            with self.subTest(body=str(body)[:40], headers=headers is not None):
                self.assertChangeReasonInvalid(self.rollback(owner, event["id"], v1, body,
                                                             headers))
        self.assertEqual(self.snapshot(owner, event["id"]), before)


# --- pagination ----------------------------------------------------------------------------------


class PaginationTest(HistoryTestCase):

    VERSIONS = 12

    def event_with_versions(self, owner, count):
        """An event with `count` versions (a create and count-1 title changes, on one
        connection). Returns its id."""
        event = self.event_of(owner, title="v1")
        with self.server.client() as client:
            for i in range(2, count + 1):
                response = client.request("PATCH", event_path(event["id"]), {"title": f"v{i}"},
                                          token=owner.token)
                self.assertEqual(response.status, 200, response)
        return event["id"]

    def test_history_pages(self):
        owner = self.user()
        event_id = self.event_with_versions(owner, self.VERSIONS)
        unpaged = self.history_ok(owner, event_id)
        self.assertEqual(len(unpaged), self.VERSIONS)
        pages = []
        for page, length in ((1, 5), (2, 5), (3, 2)):
            with self.subTest(page=page):
                body = self.assertJsonResponse(
                    self.history(owner, event_id, f"?page={page}&page_size=5"), 200)
                self.assertEnvelope(body, count=self.VERSIONS, num_pages=3, current_page=page,
                                    length=length)
                self.assertHistoryList(body["results"], event_id)
                pages += body["results"]
        self.assertEqual(pages, unpaged)
        # page alone: page_size 10; page_size alone: page 1
        body = self.assertJsonResponse(self.history(owner, event_id, "?page=1"), 200)
        self.assertEnvelope(body, count=self.VERSIONS, num_pages=2, current_page=1, length=10)
        self.assertEqual(body["results"], unpaged[:10])
        body = self.assertJsonResponse(self.history(owner, event_id, "?page=2"), 200)
        self.assertEqual(body["results"], unpaged[10:])
        body = self.assertJsonResponse(self.history(owner, event_id, "?page_size=4"), 200)
        self.assertEnvelope(body, count=self.VERSIONS, num_pages=3, current_page=1, length=4)
        self.assertEqual(body["results"], unpaged[:4])
        body = self.assertJsonResponse(self.history(owner, event_id, "?page_size=100"), 200)
        self.assertEnvelope(body, count=self.VERSIONS, num_pages=1, current_page=1)
        self.assertEqual(body["results"], unpaged)

    def test_changelog_pages(self):
        owner = self.user()
        event_id = self.event_with_versions(owner, self.VERSIONS)
        unpaged = self.changelog_ok(owner, event_id)
        self.assertEqual(len(unpaged), self.VERSIONS)
        pages = []
        for page, length in ((1, 5), (2, 5), (3, 2)):
            with self.subTest(page=page):
                body = self.assertJsonResponse(
                    self.changelog(owner, event_id, f"?page={page}&page_size=5"), 200)
                self.assertEnvelope(body, count=self.VERSIONS, num_pages=3, current_page=page,
                                    length=length)
                self.assertChangelogList(body["results"])
                pages += body["results"]
        self.assertEqual(pages, unpaged)
        # the first entry of page 2 still compares with the last of page 1
        self.assertEqual(pages[5]["changed_fields"], {"title": {"from": "v5", "to": "v6"}})
        self.assertEqual(pages[0]["changed_fields"], {})
        body = self.assertJsonResponse(self.changelog(owner, event_id, "?page=2"), 200)
        self.assertEnvelope(body, count=self.VERSIONS, num_pages=2, current_page=2, length=2)
        self.assertEqual(body["results"], unpaged[10:])
        self.assertEqual(body["results"][0]["changed_fields"],
                         {"title": {"from": "v10", "to": "v11"}})

    def test_page_past_the_end_is_empty(self):
        owner = self.user()
        event_id = self.event_with_versions(owner, 3)
        for request in (self.history, self.changelog):
            for page in (2, 3, 1000000):
                with self.subTest(route=request.__name__, page=page):
                    body = self.assertJsonResponse(request(owner, event_id, f"?page={page}"),
                                                   200)
                    self.assertEqual(body, {"results": [], "count": 3, "num_pages": 1,
                                            "current_page": page})

    def test_invalid_page_or_page_size(self):
        owner = self.user()
        event_id = self.event_with_versions(owner, 2)
        for request in (self.history, self.changelog):
            for name in ("page", "page_size"):
                for value in ("0", "-1", "abc", "1.5", "1e3"):
                    with self.subTest(route=request.__name__, name=name, value=value):
                        body = self.assertInvalid(request(owner, event_id, f"?{name}={value}"),
                                                  name)
                        self.assertEqual(body["error"], INVALID_QUERY, body)

    def test_unpaged_lists_stop_at_1000_and_pages_reach_every_version(self):
        owner = self.user()
        total = 1001
        event_id = self.event_with_versions(owner, total)
        everything = []  # newest first
        for page in range(1, 12):
            body = self.assertJsonResponse(
                self.history(owner, event_id, f"?page={page}&page_size=100"), 200)
            self.assertEnvelope(body, count=total, num_pages=11, current_page=page)
            everything += body["results"]
        self.assertEqual(len(everything), total)
        self.assertHistoryList(everything, event_id)
        self.assertEqual(everything[-1]["history_type"], "+")
        # page_size above 100 is taken as 100
        body = self.assertJsonResponse(self.history(owner, event_id, "?page_size=1000"), 200)
        self.assertEnvelope(body, count=total, num_pages=11, current_page=1, length=100)
        self.assertEqual(body["results"], everything[:100])
        # unpaged: the newest 1,000 versions, and the oldest 1,000 changes
        history = self.history_ok(owner, event_id)
        self.assertEqual(history, everything[:1000])
        changelog = self.changelog_ok(owner, event_id)
        self.assertEqual([e["history_id"] for e in changelog],
                         [h["version_id"] for h in reversed(everything[1:])])
        self.assertEqual(changelog[-1]["changed_fields"],
                         {"title": {"from": "v999", "to": "v1000"}})
        body = self.assertJsonResponse(self.changelog(owner, event_id,
                                                      "?page=11&page_size=100"), 200)
        self.assertEnvelope(body, count=total, num_pages=11, current_page=11, length=1)
        self.assertEqual(body["results"][0]["changed_fields"],
                         {"title": {"from": "v1000", "to": "v1001"}})


# --- ETag, If-None-Match, If-Match ---------------------------------------------------------------


class ETagTest(HistoryTestCase):

    def test_every_recorded_change_gets_a_new_tag(self):
        owner = self.user()
        response = self.create(owner.token, event_body(title="tagged"), "?allow_conflicts=true")
        event = self.assertJsonResponse(response, 201)["event"]
        created_tag = self.etag(response)
        self.assertEqual(self.read(owner, event["id"])[1], created_tag)
        _, patched_tag = self.write_ok(owner, "PATCH", event["id"], {"title": "patched"})
        self.assertEqual(self.read(owner, event["id"])[1], patched_tag)
        _, put_tag = self.write_ok(owner, "PUT", event["id"], {"title": "put"})
        self.assertEqual(self.read(owner, event["id"])[1], put_tag)
        # a no-op update keeps the tag
        _, same_tag = self.write_ok(owner, "PATCH", event["id"], {"title": "put"})
        self.assertEqual(same_tag, put_tag)
        v1 = self.version_ids(owner, event["id"])[0]
        _, rolled_tag = self.rollback_ok(owner, event["id"], v1)
        self.assertEqual(self.read(owner, event["id"])[1], rolled_tag)
        tags = [created_tag, patched_tag, put_tag, rolled_tag]
        self.assertEqual(len(set(tags)), len(tags), tags)

    def test_every_participant_reads_the_same_tag(self):
        owner, event, (editor, viewer) = self.shared_event()
        tags = {self.read(actor, event["id"])[1] for actor in (owner, editor, viewer)}
        self.assertEqual(len(tags), 1, tags)

    def test_if_none_match_naming_the_current_tag_is_304(self):
        owner = self.user()
        event = self.event_of(owner)
        _, tag = self.read(owner, event["id"])
        for value in (tag, "*", f"W/{tag}", f'{STALE_TAG}, {tag}'):
            with self.subTest(value=value):
                response = self.call(owner, "GET", event_path(event["id"]),
                                     headers={"If-None-Match": value})
                self.assertEqual(response.status, 304, response)
                self.assertEqual(response.body, b"", response)
                self.assertEqual(response.headers.get("ETag"), tag, response)

    def test_if_none_match_naming_another_tag_is_200(self):
        owner = self.user()
        event = self.event_of(owner, title="old")
        _, old_tag = self.read(owner, event["id"])
        self.write_ok(owner, "PATCH", event["id"], {"title": "new"})
        for value in (old_tag, STALE_TAG, f"W/{old_tag}", "abc"):
            with self.subTest(value=value):
                read, tag = self.read(owner, event["id"], headers={"If-None-Match": value})
                self.assertEqual(read["title"], "new")
                self.assertNotEqual(tag, old_tag)

    def test_if_none_match_does_not_reveal_other_peoples_events(self):
        owner = self.user()
        stranger = self.user()
        event = self.event_of(owner)
        response = self.call(stranger, "GET", event_path(event["id"]),
                             headers={"If-None-Match": "*"})
        self.assertNotFound(response)

    def test_if_match_with_the_current_tag_writes(self):
        owner = self.user()
        event = self.event_of(owner, title="t0")
        for i, method in enumerate(("PUT", "PATCH"), start=1):
            with self.subTest(method=method):
                _, tag = self.read(owner, event["id"])
                updated, new_tag = self.write_ok(owner, method, event["id"], {"title": f"t{i}"},
                                                 {"If-Match": tag})
                self.assertEqual(updated["title"], f"t{i}")
                self.assertNotEqual(new_tag, tag)

    def test_if_match_star_or_a_list_naming_the_current_tag_writes(self):
        owner = self.user()
        event = self.event_of(owner)
        _, tag = self.read(owner, event["id"])
        self.write_ok(owner, "PATCH", event["id"], {"title": "star"}, {"If-Match": "*"})
        _, tag = self.read(owner, event["id"])
        self.write_ok(owner, "PUT", event["id"], {"title": "listed"},
                      {"If-Match": f"{STALE_TAG}, {tag}"})
        self.assertEqual(self.read(owner, event["id"])[0]["title"], "listed")

    def test_a_stale_weak_or_malformed_tag_is_412_and_nothing_changes(self):
        owner = self.user()
        event = self.event_of(owner, title="before")
        _, old_tag = self.read(owner, event["id"])
        self.write_ok(owner, "PATCH", event["id"], {"title": "current"})
        _, tag = self.read(owner, event["id"])
        before = self.snapshot(owner, event["id"])
        for value in (old_tag, STALE_TAG, f"W/{tag}", tag.strip('"'), "abc", '"', '""',
                      f'"{tag}"', f"{old_tag}, W/{tag}"):
            for method in ("PUT", "PATCH"):
                with self.subTest(method=method, value=value):
                    response = self.write(owner, method, event["id"],
                                          {"title": "lost update", "change_reason": "x"},
                                          {"If-Match": value})
                    self.assertPreconditionFailed(response, owner, event["id"])
        self.assertEqual(self.snapshot(owner, event["id"]), before)

    def test_delete_with_a_stale_tag_keeps_the_event(self):
        owner = self.user()
        event = self.event_of(owner, title="before")
        _, old_tag = self.read(owner, event["id"])
        self.write_ok(owner, "PATCH", event["id"], {"title": "current"})
        before = self.snapshot(owner, event["id"])
        for value in (old_tag, f"W/{self.read(owner, event['id'])[1]}", "garbage"):
            with self.subTest(value=value):
                response = self.call(owner, "DELETE", event_path(event["id"]),
                                     headers={"If-Match": value})
                self.assertPreconditionFailed(response, owner, event["id"])
        self.assertEqual(self.snapshot(owner, event["id"]), before)
        _, tag = self.read(owner, event["id"])
        response = self.call(owner, "DELETE", event_path(event["id"]), headers={"If-Match": tag})
        self.assertEqual(self.assertJsonResponse(response, 200),
                         {"message": "Event deleted successfully"})
        self.assertNotFound(self.get(owner.token, event["id"]))

    def test_delete_with_if_match_star(self):
        owner = self.user()
        event = self.event_of(owner)
        response = self.call(owner, "DELETE", event_path(event["id"]), headers={"If-Match": "*"})
        self.assertEqual(response.status, 200, response)
        self.assertNotFound(self.get(owner.token, event["id"]))

    def test_rollback_honours_if_match(self):
        owner = self.user()
        event = self.event_of(owner, title="first")
        _, old_tag = self.read(owner, event["id"])
        self.write_ok(owner, "PATCH", event["id"], {"title": "second"})
        v1, _ = self.version_ids(owner, event["id"])
        before = self.snapshot(owner, event["id"])
        _, tag = self.read(owner, event["id"])
        for value in (old_tag, f"W/{tag}", "nonsense"):
            with self.subTest(value=value):
                response = self.rollback(owner, event["id"], v1, headers={"If-Match": value})
                self.assertPreconditionFailed(response, owner, event["id"])
        self.assertEqual(self.snapshot(owner, event["id"]), before)
        rolled, new_tag = self.rollback_ok(owner, event["id"], v1, headers={"If-Match": tag})
        self.assertEqual(rolled["title"], "first")
        self.assertNotEqual(new_tag, tag)

    def test_permission_comes_before_the_precondition(self):
        owner, event, (editor, viewer) = self.shared_event(title="guarded")
        stranger = self.user()
        before = self.snapshot(owner, event["id"])
        (v1,) = self.version_ids(owner, event["id"])
        for value in (STALE_TAG, "*"):
            with self.subTest(value=value):
                headers = {"If-Match": value}
                for method in ("PUT", "PATCH", "DELETE"):
                    body = None if method == "DELETE" else {"title": "x"}
                    self.assertNotFound(self.write(stranger, method, event["id"], body, headers))
                    response = self.write(viewer, method, event["id"], body, headers)
                    self.assertPermissionDenied(response)
                self.assertNotFound(self.rollback(stranger, event["id"], v1, headers=headers))
                self.assertEqual(self.assertJsonResponse(
                    self.rollback(viewer, event["id"], v1, headers=headers), 403), EDIT_DENIED)
                self.assertPermissionDenied(self.write(editor, "DELETE", event["id"], None,
                                                       headers))
        self.assertEqual(self.snapshot(owner, event["id"]), before)

    def test_a_no_op_update_with_the_current_tag_keeps_it(self):
        owner = self.user()
        event = self.event_of(owner, title="same")
        _, tag = self.read(owner, event["id"])
        _, new_tag = self.write_ok(owner, "PATCH", event["id"], {"title": "same"},
                                   {"If-Match": tag})
        self.assertEqual(new_tag, tag)


# --- concurrent editors --------------------------------------------------------------------------


class ConcurrentEditorsTest(HistoryTestCase):
    """WRITERS participants (the owner and editors), each on its own connection, do ROUNDS times:
    read the event, then PUT a new title with If-Match naming the tag they read. Whatever the
    interleaving, a write succeeds only on the version it read, so no two 200s come from the
    same version, each 200 records exactly one version, and every other write is 412."""

    WRITERS = 8
    ROUNDS = 5

    def test_many_editors_with_if_match(self):
        owner = self.user()
        editors = [self.user() for _ in range(self.WRITERS - 1)]
        event = self.event_of(owner, title="contended")
        self.share_ok(owner, event["id"], [(editor, "EDITOR") for editor in editors])
        writers = [owner] + editors
        _, initial_tag = self.read(owner, event["id"])
        outcomes = []  # (writer, round, tag read, title sent, response)
        failures = []
        lock = threading.Lock()
        barrier = threading.Barrier(self.WRITERS)

        def work(i):
            try:
                with self.server.client() as client:
                    for round_ in range(self.ROUNDS):
                        barrier.wait(timeout=120)  # all read afresh each round: contention
                        read = client.request("GET", event_path(event["id"]),
                                              token=writers[i].token)
                        if read.status != 200:
                            raise AssertionError(f"GET: {read!r}")
                        tag = read.headers.get("ETag")
                        title = f"writer {i} round {round_}"
                        response = client.request("PUT", event_path(event["id"]),
                                                  {"title": title}, headers={"If-Match": tag},
                                                  token=writers[i].token)
                        with lock:
                            outcomes.append((i, round_, tag, title, response))
            except Exception as error:  # reported below, not swallowed
                failures.append(f"writer {i}: {error!r}")
                barrier.abort()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(self.WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(600)
        self.assertFalse(any(thread.is_alive() for thread in threads), "a writer hung")
        self.assertEqual(failures, [])
        self.assertEqual(len(outcomes), self.WRITERS * self.ROUNDS)

        statuses = [response.status for *_, response in outcomes]
        self.assertLessEqual(set(statuses), {200, 412}, [r for *_, r in outcomes])
        wins = [o for o in outcomes if o[4].status == 200]
        # the first write of each round to be served read the version every round began with
        for round_ in range(self.ROUNDS):
            self.assertTrue(any(o[1] == round_ for o in wins), f"no 200 in round {round_}")
        # every 200: a new, distinct tag; never two 200s from the same version read
        new_tags = [self.etag(o[4]) for o in wins]
        self.assertEqual(len(set(new_tags)), len(new_tags), new_tags)
        self.assertNotIn(initial_tag, new_tags)
        for _, _, sent, _, response in wins:
            self.assertNotEqual(self.etag(response), sent)
        sent_tags = [o[2] for o in wins]
        self.assertEqual(len(set(sent_tags)), len(sent_tags), sent_tags)
        for _, _, _, title, response in wins:
            self.assertEqual(response.json()["event"]["title"], title)
        # every other write: 412 with the event as it was then
        for _, _, sent, _, response in outcomes:
            if response.status == 412:
                body = response.json()
                self.assertEqual(set(body), {"error", "code", "current"}, body)
                self.assertEqual((body["error"], body["code"]),
                                 (PRECONDITION_FAILED, "precondition_failed"))
                self.assertEqual(set(body["current"]), EVENT_KEYS, body)
                self.assertNotEqual(self.etag(response), sent)

        # the history: one "~" per 200, no history id twice, newest first strictly decreasing
        history = self.history_ok(owner, event["id"])  # asserts the strict order
        ids = [h["version_id"] for h in history]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual([h["history_type"] for h in history].count("~"), len(wins))
        self.assertEqual(len(history), 1 + len(wins))
        self.assertEqual(history[-1]["history_type"], "+")
        # each version is one winner's write, attributed to that writer
        changelog = self.changelog_ok(owner, event["id"])
        recorded = [(e["changed_fields"]["title"]["to"], e["changed_by"]) for e in changelog[1:]]
        expected = [(title, author(writers[i])) for i, _, _, title, _ in wins]
        self.assertEqual(sorted(recorded, key=str), sorted(expected, key=str))
        # the event is the last write recorded, with that write's tag
        final, final_tag = self.read(owner, event["id"])
        self.assertEqual(final["title"], recorded[-1][0])
        winner_tag = {title: self.etag(response) for _, _, _, title, response in wins}
        self.assertEqual(final_tag, winner_tag[final["title"]])


# --- authentication ------------------------------------------------------------------------------


class HistoryAuthenticationTest(HistoryTestCase):

    def routes(self):
        owner = self.user()
        event = self.event_of(owner)
        (v1,) = self.version_ids(owner, event["id"])
        event_id = event["id"]
        return [("GET", history_path(event_id)), ("GET", history_path(event_id) + "?page=1"),
                ("GET", version_path(event_id, v1)), ("GET", changelog_path(event_id)),
                ("GET", diff_path(event_id, v1, v1)), ("POST", rollback_path(event_id, v1))]

    def test_every_route_without_a_token_is_401(self):
        for method, path in self.routes():
            with self.subTest(method=method, path=path):
                response = self.server.request(method, path)
                self.assertEqual(self.assertJsonResponse(response, 401), NOT_AUTHENTICATED)
                self.assertTrue(response.headers.get("WWW-Authenticate"), response)

    def test_every_route_with_a_bad_token_is_401(self):
        for method, path in self.routes():
            with self.subTest(method=method, path=path):
                response = self.server.request(method, path, token="not.a.token")
                body = self.assertJsonResponse(response, 401)
                self.assertEqual(body.get("code"), "token_not_valid", body)


if __name__ == "__main__":
    unittest.main()
