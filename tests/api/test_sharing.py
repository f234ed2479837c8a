"""Sharing over real HTTP (issue 4): share an event, list its participants, change a participant's
role, remove one, each with its success and every error; ownership transfer (by share and by PUT);
atomic multi-entry shares; a removed participant losing access on the very next request; shared
events in the list and its role filter; conflict detection counting the events one was invited to.

Who may call what, on every route, is the role matrix's business (test_role_matrix.py); here each
endpoint's own behaviour is tested. Every test works as users of its own.
"""

import unittest

from harness import unique_name
from test_events import (NOT_AUTHENTICATED, NOT_FOUND, EventsTestCase, at, event_path,
                         printed)

PARTICIPANT_NOT_FOUND = {"error": "Participant not found for this event.", "code": "not_found"}
OWNER_NOT_REMOVABLE = {"error": "The owner cannot be removed; transfer ownership first.",
                       "code": "conflict"}
SHARED = "Event shared successfully"
ROLE_UPDATED = "User permission updated"
REMOVED = {"message": "User removed from the event."}
PARTICIPANT_KEYS = {"user_id", "username", "role"}
NO_SUCH_USER = 999999999
NO_SUCH_EVENT = 999999999


def share_path(event_id):
    return f"/api/events/{event_id}/share/"


def permissions_path(event_id):
    return f"/api/events/{event_id}/permissions/"


def permission_path(event_id, user_id):
    return f"/api/events/{event_id}/permissions/{user_id}/"


class User:
    """A registered user: .token, .id, .name."""

    def __init__(self, token, user_id, name):
        self.token, self.id, self.name = token, user_id, name

    def __repr__(self):
        return f"<User {self.id} {self.name}>"


class SharingTestCase(EventsTestCase):
    """Helpers shared by the sharing suites."""

    # users and events

    def user(self):
        tokens, user = self.server.register()
        return User(tokens["access"], user["id"], user["username"])

    def event_of(self, owner, **fields):
        """Creates an event owned by `owner` (allowing conflicts: tests reuse the same times)."""
        return self.create_ok(owner.token, "?allow_conflicts=true", **fields)

    def shared_event(self, roles=("EDITOR", "VIEWER"), **fields):
        """An owner, an event of theirs and one participant per role in `roles`, shared in that
        order. Returns (owner, event, [participant, ...])."""
        owner = self.user()
        event = self.event_of(owner, **fields)
        members = [self.user() for _ in roles]
        if members:
            self.share_ok(owner, event["id"], [(m, r) for m, r in zip(members, roles)])
        return owner, event, members

    # requests

    def share(self, actor, event_id, body):
        """POST share/. `body`: a list of (User or id, role) pairs, or any body to send as it is."""
        if isinstance(body, list) and all(isinstance(e, tuple) for e in body) and body:
            body = {"users": [{"user_id": u.id if isinstance(u, User) else u, "role": r}
                              for u, r in body]}
        token = actor.token if isinstance(actor, User) else actor
        return self.server.request("POST", share_path(event_id), body, token=token)

    def share_ok(self, actor, event_id, entries):
        body = self.assertJsonResponse(self.share(actor, event_id, entries), 200)
        self.assertEqual(set(body), {"message", "permissions"}, body)
        self.assertEqual(body["message"], SHARED, body)
        self.assertParticipantList(body["permissions"])
        return body["permissions"]

    def participants(self, actor, event_id):
        token = actor.token if isinstance(actor, User) else actor
        return self.server.request("GET", permissions_path(event_id), token=token)

    def participants_ok(self, actor, event_id):
        body = self.assertJsonResponse(self.participants(actor, event_id), 200)
        self.assertEqual(set(body), {"participants"}, body)
        self.assertParticipantList(body["participants"])
        return body["participants"]

    def change_role(self, actor, event_id, user_id, body):
        token = actor.token if isinstance(actor, User) else actor
        if isinstance(body, str) and body in ("OWNER", "EDITOR", "VIEWER"):
            body = {"role": body}
        return self.server.request("PUT", permission_path(event_id, user_id), body, token=token)

    def remove(self, actor, event_id, user_id):
        token = actor.token if isinstance(actor, User) else actor
        return self.server.request("DELETE", permission_path(event_id, user_id), token=token)

    # assertions

    def assertParticipantList(self, participants):
        """A list of {user_id, username, role} with exactly one OWNER, first, and no user twice."""
        self.assertIsInstance(participants, list, participants)
        self.assertTrue(participants, participants)
        for participant in participants:
            self.assertIsInstance(participant, dict, participants)
            self.assertEqual(set(participant), PARTICIPANT_KEYS, participants)
            self.assertIsInstance(participant["user_id"], int, participants)
            self.assertIsInstance(participant["username"], str, participants)
            self.assertIn(participant["role"], ("OWNER", "EDITOR", "VIEWER"), participants)
        self.assertEqual(participants[0]["role"], "OWNER", participants)
        self.assertEqual([p["role"] for p in participants].count("OWNER"), 1, participants)
        ids = [p["user_id"] for p in participants]
        self.assertEqual(len(ids), len(set(ids)), participants)

    def assertParticipants(self, participants, expected):
        """`participants` is exactly `expected`, a list of (User, role), in this order."""
        self.assertEqual(participants, [{"user_id": u.id, "username": u.name, "role": r}
                                        for u, r in expected])

    def assertStored(self, viewer, event_id, expected):
        """GET permissions (as `viewer`) lists exactly `expected`."""
        self.assertParticipants(self.participants_ok(viewer, event_id), expected)

    def assertShareInvalid(self, response, field):
        """400 {"error", "code": "invalid", "fields": {field: [...]}}."""
        return self.assertInvalid(response, field)

    def assertPermissionDenied(self, response):
        body = self.assertErrorBody(response, 403, code="permission_denied")
        self.assertEqual(set(body), {"error", "code"}, body)
        return body

    def assertNoAccess(self, user, event_id):
        """`user` takes no part in the event: every read is the 404 of an unknown event."""
        self.assertNotFound(self.get(user.token, event_id))
        self.assertNotFound(self.participants(user, event_id))


# --- POST /api/events/{id}/share/ ------------------------------------------------------------


class ShareTest(SharingTestCase):

    def test_seed_share_of_an_editor_and_a_viewer(self):
        owner = self.user()
        event = self.event_of(owner)
        editor, viewer = self.user(), self.user()
        response = self.share(owner, event["id"], {"users": [
            {"user_id": editor.id, "role": "EDITOR"}, {"user_id": viewer.id, "role": "VIEWER"}]})
        body = self.assertJsonResponse(response, 200)
        self.assertEqual(body, {"message": "Event shared successfully", "permissions": [
            {"user_id": owner.id, "username": owner.name, "role": "OWNER"},
            {"user_id": editor.id, "username": editor.name, "role": "EDITOR"},
            {"user_id": viewer.id, "username": viewer.name, "role": "VIEWER"}]})
        self.assertEqual(self.participants_ok(owner, event["id"]), body["permissions"])

    def test_participants_read_the_event_with_their_role(self):
        owner, event, (editor, viewer) = self.shared_event()
        for member, role in ((owner, "OWNER"), (editor, "EDITOR"), (viewer, "VIEWER")):
            with self.subTest(role=role):
                read = self.assertJsonResponse(self.get(member.token, event["id"]), 200)
                self.assertEqual(read, dict(event, role=role))

    def test_owner_first_then_in_the_order_they_joined(self):
        owner = self.user()
        event = self.event_of(owner)
        a, b, c, d = (self.user() for _ in range(4))
        self.share_ok(owner, event["id"], [(b, "VIEWER")])
        self.share_ok(owner, event["id"], [(d, "EDITOR"), (a, "VIEWER")])
        permissions = self.share_ok(owner, event["id"], [(c, "EDITOR")])
        expected = [(owner, "OWNER"), (b, "VIEWER"), (d, "EDITOR"), (a, "VIEWER"), (c, "EDITOR")]
        self.assertParticipants(permissions, expected)
        self.assertStored(owner, event["id"], expected)

    def test_sharing_with_a_participant_changes_their_role_in_place(self):
        owner, event, (editor, viewer) = self.shared_event()
        permissions = self.share_ok(owner, event["id"], [(editor, "VIEWER"), (viewer, "EDITOR")])
        expected = [(owner, "OWNER"), (editor, "VIEWER"), (viewer, "EDITOR")]
        self.assertParticipants(permissions, expected)
        self.assertStored(owner, event["id"], expected)
        self.assertPermissionDenied(self.update(editor.token, event["id"], {"title": "x"},
                                                "PATCH"))
        self.assertJsonResponse(self.update(viewer.token, event["id"], {"title": "y"}, "PATCH"),
                                200)

    def test_sharing_again_with_the_same_role_changes_nothing(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        permissions = self.share_ok(owner, event["id"], [(editor, "EDITOR")])
        self.assertParticipants(permissions, [(owner, "OWNER"), (editor, "EDITOR")])

    def test_roles_are_exact_and_case_sensitive(self):
        owner = self.user()
        event = self.event_of(owner)
        other = self.user()
        for role in ("owner", "Owner", "editor", "Editor", "viewer", "ADMIN", "EDITOR ",
                     " VIEWER", "", "PARTICIPANT", "EDITOR\u0000", 5, None, True, ["EDITOR"],
                     {"name": "EDITOR"}):
            with self.subTest(role=role):
                response = self.share(owner, event["id"],
                                      {"users": [{"user_id": other.id, "role": role}]})
                self.assertShareInvalid(response, "users[0]")
        self.assertStored(owner, event["id"], [(owner, "OWNER")])
        self.assertNoAccess(other, event["id"])

    def test_missing_members_of_an_entry(self):
        owner = self.user()
        event = self.event_of(owner)
        other = self.user()
        for entry in ({"role": "EDITOR"}, {"user_id": other.id}, {}):
            with self.subTest(entry=entry):
                self.assertShareInvalid(self.share(owner, event["id"], {"users": [entry]}),
                                        "users[0]")
        self.assertStored(owner, event["id"], [(owner, "OWNER")])

    def test_invalid_user_ids(self):
        owner = self.user()
        event = self.event_of(owner)
        other = self.user()
        for user_id in (str(other.id), 0, -1, -other.id, other.id + 0.5, True, None, [other.id],
                        {"id": other.id}, "", 2 ** 70):
            with self.subTest(user_id=user_id):
                response = self.share(owner, event["id"],
                                      {"users": [{"user_id": user_id, "role": "EDITOR"}]})
                self.assertShareInvalid(response, "users[0]")
        self.assertStored(owner, event["id"], [(owner, "OWNER")])
        self.assertNoAccess(other, event["id"])

    def test_an_entry_that_is_not_an_object_is_named(self):
        owner = self.user()
        event = self.event_of(owner)
        other = self.user()
        for entry in ("x", 5, None, True, [other.id, "EDITOR"]):
            with self.subTest(entry=entry):
                response = self.share(owner, event["id"], {"users": [
                    {"user_id": other.id, "role": "EDITOR"}, entry]})
                body = self.assertShareInvalid(response, "users[1]")
                self.assertNotIn("users[0]", body["fields"], body)
        self.assertStored(owner, event["id"], [(owner, "OWNER")])
        self.assertNoAccess(other, event["id"])

    def test_a_user_that_does_not_exist(self):
        owner = self.user()
        event = self.event_of(owner)
        response = self.share(owner, event["id"], [(NO_SUCH_USER, "VIEWER")])
        self.assertShareInvalid(response, "users[0]")
        self.assertStored(owner, event["id"], [(owner, "OWNER")])

    def test_sharing_with_yourself(self):
        owner = self.user()
        event = self.event_of(owner)
        for role in ("OWNER", "EDITOR", "VIEWER"):
            with self.subTest(role=role):
                self.assertShareInvalid(self.share(owner, event["id"], [(owner, role)]),
                                        "users[0]")
        self.assertStored(owner, event["id"], [(owner, "OWNER")])
        self.assertEqual(self.assertJsonResponse(self.get(owner.token, event["id"]), 200),
                         dict(event, role="OWNER"))

    def test_the_same_user_twice(self):
        owner = self.user()
        event = self.event_of(owner)
        other = self.user()
        for roles in (("EDITOR", "VIEWER"), ("VIEWER", "VIEWER")):
            with self.subTest(roles=roles):
                response = self.share(owner, event["id"], [(other, roles[0]), (other, roles[1])])
                self.assertShareInvalid(response, "users[1]")
        self.assertStored(owner, event["id"], [(owner, "OWNER")])
        self.assertNoAccess(other, event["id"])

    def test_users_missing_not_an_array_or_empty(self):
        owner = self.user()
        event = self.event_of(owner)
        other = self.user()
        for body in ({}, {"users": None}, {"users": "x"}, {"users": other.id},
                     {"users": {"user_id": other.id, "role": "EDITOR"}}, {"users": []},
                     {"user_id": other.id, "role": "EDITOR"}):
            with self.subTest(body=body):
                self.assertShareInvalid(self.share(owner, event["id"], body), "users")
        self.assertStored(owner, event["id"], [(owner, "OWNER")])

    def test_body_not_json_or_not_an_object(self):
        owner = self.user()
        event = self.event_of(owner)
        other = self.user()
        self.assertErrorBody(self.share(owner, event["id"], "{oops"), 400, code="invalid_json")
        for body in ([{"user_id": other.id, "role": "EDITOR"}], "\"users\"", "42", "null"):
            with self.subTest(body=str(body)[:40]):
                self.assertErrorBody(self.share(owner, event["id"], body), 400)
        self.assertStored(owner, event["id"], [(owner, "OWNER")])

    def test_one_bad_entry_applies_nothing(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        newcomer, another = self.user(), self.user()
        bad_entries = [NO_SUCH_USER, owner.id, "x", {"user_id": another.id, "role": "admin"},
                       {"user_id": newcomer.id, "role": "VIEWER"}]  # the last: newcomer twice
        for bad in bad_entries:
            with self.subTest(bad=bad):
                entries = [{"user_id": newcomer.id, "role": "EDITOR"},
                           {"user_id": editor.id, "role": "VIEWER"},
                           {"user_id": another.id, "role": "OWNER"}]
                entries.append({"user_id": bad, "role": "VIEWER"} if isinstance(bad, int)
                               else bad)
                body = self.assertShareInvalid(self.share(owner, event["id"], {"users": entries}),
                                               "users[3]")
                for index in range(3):
                    self.assertNotIn(f"users[{index}]", body["fields"], body)
                self.assertStored(owner, event["id"], [(owner, "OWNER"), (editor, "EDITOR")])
        self.assertNoAccess(newcomer, event["id"])
        self.assertNoAccess(another, event["id"])
        read = self.assertJsonResponse(self.get(owner.token, event["id"]), 200)
        self.assertEqual(read, dict(event, role="OWNER"))

    def test_100_entries_are_not_too_many(self):
        owner = self.user()
        event = self.event_of(owner)
        entries = [(NO_SUCH_USER - i, "VIEWER") for i in range(100)]
        self.assertShareInvalid(self.share(owner, event["id"], entries), "users[0]")

    def test_101_entries_are_413_and_nothing_is_applied(self):
        owner = self.user()
        event = self.event_of(owner)
        other = self.user()
        entries = [(other, "EDITOR")] + [(NO_SUCH_USER - i, "VIEWER") for i in range(100)]
        body = self.assertErrorBody(self.share(owner, event["id"], entries), 413,
                                    code="payload_too_large")
        self.assertNotIn("fields", body)
        self.assertStored(owner, event["id"], [(owner, "OWNER")])
        self.assertNoAccess(other, event["id"])

    def test_only_the_owner_shares(self):
        owner, event, (editor, viewer) = self.shared_event()
        stranger, newcomer = self.user(), self.user()
        for actor in (editor, viewer):
            with self.subTest(actor=actor):
                self.assertPermissionDenied(self.share(actor, event["id"], [(newcomer, "VIEWER")]))
        self.assertNotFound(self.share(stranger, event["id"], [(newcomer, "VIEWER")]))
        self.assertNotFound(self.share(stranger, event["id"], [(stranger, "OWNER")]))
        self.assertEqual(self.assertJsonResponse(
            self.share(None, event["id"], [(newcomer, "VIEWER")]), 401), NOT_AUTHENTICATED)
        self.assertStored(owner, event["id"], [(owner, "OWNER"), (editor, "EDITOR"),
                                               (viewer, "VIEWER")])
        self.assertNoAccess(newcomer, event["id"])
        self.assertNoAccess(stranger, event["id"])

    def test_unknown_or_deleted_event(self):
        owner = self.user()
        other = self.user()
        self.assertNotFound(self.share(owner, NO_SUCH_EVENT, [(other, "VIEWER")]))
        event = self.event_of(owner)
        self.assertEqual(self.delete(owner.token, event["id"]).status, 200)
        self.assertNotFound(self.share(owner, event["id"], [(other, "VIEWER")]))

    def test_path_without_trailing_slash(self):
        owner = self.user()
        event = self.event_of(owner)
        other = self.user()
        response = self.server.request("POST", f"/api/events/{event['id']}/share",
                                       {"users": [{"user_id": other.id, "role": "VIEWER"}]},
                                       token=owner.token)
        self.assertEqual(len(self.assertJsonResponse(response, 200)["permissions"]), 2)


# --- ownership transfer --------------------------------------------------------------------------


class OwnershipTransferTest(SharingTestCase):

    def assertOwnedBy(self, event, new_owner, old_owner):
        """`new_owner` owns the event now; `old_owner` is an EDITOR of it."""
        for member, role in ((new_owner, "OWNER"), (old_owner, "EDITOR")):
            read = self.assertJsonResponse(self.get(member.token, event["id"]), 200)
            self.assertEqual(read, dict(event, owner_id=new_owner.id, role=role))

    def test_granting_owner_by_share_transfers_ownership(self):
        owner, event, (editor, viewer) = self.shared_event()
        permissions = self.share_ok(owner, event["id"], [(editor, "OWNER")])
        expected = [(editor, "OWNER"), (owner, "EDITOR"), (viewer, "VIEWER")]
        self.assertParticipants(permissions, expected)
        self.assertStored(viewer, event["id"], expected)
        self.assertOwnedBy(event, editor, owner)

    def test_granting_owner_to_someone_who_took_no_part(self):
        owner, event, (viewer,) = self.shared_event(("VIEWER",))
        newcomer = self.user()
        permissions = self.share_ok(owner, event["id"], [(newcomer, "OWNER")])
        self.assertParticipants(permissions,
                                [(newcomer, "OWNER"), (owner, "EDITOR"), (viewer, "VIEWER")])
        self.assertOwnedBy(event, newcomer, owner)

    def test_transfer_together_with_other_entries(self):
        owner, event, (viewer,) = self.shared_event(("VIEWER",))
        newcomer, third = self.user(), self.user()
        permissions = self.share_ok(owner, event["id"],
                                    [(third, "VIEWER"), (viewer, "OWNER"), (newcomer, "EDITOR")])
        self.assertParticipants(permissions, [(viewer, "OWNER"), (owner, "EDITOR"),
                                              (third, "VIEWER"), (newcomer, "EDITOR")])
        self.assertOwnedBy(event, viewer, owner)

    def test_granting_owner_by_put_transfers_ownership(self):
        owner, event, (editor, viewer) = self.shared_event()
        response = self.change_role(owner, event["id"], viewer.id, "OWNER")
        self.assertEqual(self.assertJsonResponse(response, 200),
                         {"message": ROLE_UPDATED, "user_id": viewer.id, "role": "OWNER"})
        expected = [(viewer, "OWNER"), (owner, "EDITOR"), (editor, "EDITOR")]
        self.assertStored(editor, event["id"], expected)
        self.assertOwnedBy(event, viewer, owner)

    def test_the_former_owner_keeps_editor_rights_only(self):
        owner, event, (editor, viewer) = self.shared_event()
        self.share_ok(owner, event["id"], [(editor, "OWNER")])
        stranger = self.user()
        body = self.assertJsonResponse(
            self.update(owner.token, event["id"], {"title": "still editing"}, "PATCH"), 200)
        self.assertEqual(body["event"]["title"], "still editing")
        self.assertPermissionDenied(self.share(owner, event["id"], [(stranger, "VIEWER")]))
        self.assertPermissionDenied(self.change_role(owner, event["id"], viewer.id, "EDITOR"))
        self.assertPermissionDenied(self.change_role(owner, event["id"], editor.id, "EDITOR"))
        self.assertPermissionDenied(self.remove(owner, event["id"], viewer.id))
        self.assertPermissionDenied(self.delete(owner.token, event["id"]))
        # The new owner has every right, over the former owner too.
        self.assertEqual(self.assertJsonResponse(self.remove(editor, event["id"], owner.id), 200),
                         REMOVED)
        self.assertNoAccess(owner, event["id"])
        self.assertEqual(self.delete(editor.token, event["id"]).status, 200)
        self.assertNoAccess(viewer, event["id"])

    def test_a_transfer_can_be_handed_back(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        self.share_ok(owner, event["id"], [(editor, "OWNER")])
        self.assertJsonResponse(self.change_role(editor, event["id"], owner.id, "OWNER"), 200)
        self.assertStored(owner, event["id"], [(owner, "OWNER"), (editor, "EDITOR")])
        self.assertOwnedBy(event, owner, editor)

    def test_lists_follow_the_transfer(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        self.share_ok(owner, event["id"], [(editor, "OWNER")])
        for member, role in ((editor, "owner"), (owner, "editor")):
            with self.subTest(member=member, role=role):
                body = self.list_ok(member.token, f"?role={role}")
                self.assertEqual(body["results"],
                                 [dict(event, owner_id=editor.id, role=role.upper())])
        self.assertPage(self.list_ok(owner.token, "?role=owner"), count=0)


# --- GET /api/events/{id}/permissions/ -------------------------------------------------------


class PermissionsListTest(SharingTestCase):

    def test_the_owner_alone(self):
        owner = self.user()
        event = self.event_of(owner)
        body = self.assertJsonResponse(self.participants(owner, event["id"]), 200)
        self.assertEqual(body, {"participants": [
            {"user_id": owner.id, "username": owner.name, "role": "OWNER"}]})

    def test_every_participant_reads_the_same_list(self):
        owner, event, (editor, viewer) = self.shared_event()
        expected = [(owner, "OWNER"), (editor, "EDITOR"), (viewer, "VIEWER")]
        bodies = set()
        for member in (owner, editor, viewer):
            with self.subTest(member=member):
                response = self.participants(member, event["id"])
                self.assertStored(member, event["id"], expected)
                bodies.add(response.body)
        self.assertEqual(len(bodies), 1, bodies)

    def test_usernames_are_the_registered_ones(self):
        owner = self.user()
        event = self.event_of(owner)
        name = unique_name("Mixed.Case+user")
        _, registered = self.server.register(username=name)
        self.share_ok(owner, event["id"], [(registered["id"], "VIEWER")])
        participants = self.participants_ok(owner, event["id"])
        self.assertEqual(participants[1],
                         {"user_id": registered["id"], "username": name, "role": "VIEWER"})

    def test_stranger_unknown_event_and_no_token(self):
        owner, event, _ = self.shared_event()
        stranger = self.user()
        self.assertNotFound(self.participants(stranger, event["id"]))
        self.assertNotFound(self.participants(owner, NO_SUCH_EVENT))
        self.assertEqual(self.assertJsonResponse(self.participants(None, event["id"]), 401),
                         NOT_AUTHENTICATED)

    def test_deleted_event(self):
        owner, event, (editor, _) = self.shared_event()
        self.assertEqual(self.delete(owner.token, event["id"]).status, 200)
        self.assertNotFound(self.participants(owner, event["id"]))
        self.assertNotFound(self.participants(editor, event["id"]))


# --- PUT /api/events/{id}/permissions/{user_id}/ ---------------------------------------------


class ChangeRoleTest(SharingTestCase):

    def test_seed_put_role_viewer(self):
        owner, event, (editor, viewer) = self.shared_event()
        response = self.change_role(owner, event["id"], editor.id, {"role": "VIEWER"})
        self.assertEqual(self.assertJsonResponse(response, 200),
                         {"message": "User permission updated", "user_id": editor.id,
                          "role": "VIEWER"})
        self.assertStored(owner, event["id"],
                          [(owner, "OWNER"), (editor, "VIEWER"), (viewer, "VIEWER")])

    def test_every_role_can_be_given(self):
        owner, event, (member,) = self.shared_event(("VIEWER",))
        for role in ("EDITOR", "VIEWER", "EDITOR", "EDITOR"):
            with self.subTest(role=role):
                self.assertEqual(
                    self.assertJsonResponse(self.change_role(owner, event["id"], member.id, role),
                                            200),
                    {"message": ROLE_UPDATED, "user_id": member.id, "role": role})
                self.assertStored(owner, event["id"], [(owner, "OWNER"), (member, role)])

    def test_a_promoted_viewer_may_edit_at_once(self):
        owner, event, (viewer,) = self.shared_event(("VIEWER",))
        self.assertPermissionDenied(self.update(viewer.token, event["id"], {"title": "x"},
                                                "PATCH"))
        self.assertJsonResponse(self.change_role(owner, event["id"], viewer.id, "EDITOR"), 200)
        body = self.assertJsonResponse(self.update(viewer.token, event["id"], {"title": "x"},
                                                   "PATCH"), 200)
        self.assertEqual(body["event"]["title"], "x")

    def test_a_demoted_editor_loses_edit_at_once(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        with self.server.client() as client:  # the same connection before and after
            response = client.request("PATCH", event_path(event["id"]), {"title": "a"},
                                      token=editor.token)
            self.assertEqual(response.status, 200, response)
            self.assertJsonResponse(self.change_role(owner, event["id"], editor.id, "VIEWER"),
                                    200)
            response = client.request("PATCH", event_path(event["id"]), {"title": "b"},
                                      token=editor.token)
            self.assertPermissionDenied(response)
        read = self.assertJsonResponse(self.get(editor.token, event["id"]), 200)
        self.assertEqual((read["title"], read["role"]), ("a", "VIEWER"))

    def test_invalid_roles(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        for body in ({"role": "viewer"}, {"role": "Viewer"}, {"role": "ADMIN"},
                     {"role": "VIEWER "}, {"role": ""}, {"role": 5}, {"role": None},
                     {"role": ["VIEWER"]}, {"role": True}, {}, {"roles": "VIEWER"}):
            with self.subTest(body=body):
                self.assertInvalid(self.change_role(owner, event["id"], editor.id, body), "role")
        self.assertStored(owner, event["id"], [(owner, "OWNER"), (editor, "EDITOR")])

    def test_body_not_json_or_not_an_object(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        self.assertErrorBody(self.change_role(owner, event["id"], editor.id, "{oops"), 400,
                             code="invalid_json")
        for body in (["VIEWER"], "\"VIEWER\"", "null"):
            with self.subTest(body=body):
                self.assertErrorBody(self.change_role(owner, event["id"], editor.id, body), 400)
        self.assertStored(owner, event["id"], [(owner, "OWNER"), (editor, "EDITOR")])

    def test_not_a_participant_is_404(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        stranger = self.user()
        for user_id in (stranger.id, NO_SUCH_USER):
            with self.subTest(user_id=user_id):
                response = self.change_role(owner, event["id"], user_id, "VIEWER")
                self.assertEqual(self.assertJsonResponse(response, 404), PARTICIPANT_NOT_FOUND)
        self.assertStored(owner, event["id"], [(owner, "OWNER"), (editor, "EDITOR")])
        self.assertNoAccess(stranger, event["id"])

    def test_a_participant_of_another_event_is_404(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        other = self.event_of(owner)
        outsider = self.user()
        self.share_ok(owner, other["id"], [(outsider, "VIEWER")])
        for role in ("EDITOR", "OWNER"):
            with self.subTest(role=role):
                response = self.change_role(owner, event["id"], outsider.id, role)
                self.assertEqual(self.assertJsonResponse(response, 404), PARTICIPANT_NOT_FOUND)
        self.assertStored(owner, event["id"], [(owner, "OWNER"), (editor, "EDITOR")])
        self.assertStored(owner, other["id"], [(owner, "OWNER"), (outsider, "VIEWER")])
        self.assertNoAccess(outsider, event["id"])

    def test_changing_the_owners_own_role_is_409(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        for role in ("EDITOR", "VIEWER"):
            with self.subTest(role=role):
                body = self.assertErrorBody(self.change_role(owner, event["id"], owner.id, role),
                                            409, code="conflict")
                self.assertEqual(set(body), {"error", "code"}, body)
        self.assertStored(owner, event["id"], [(owner, "OWNER"), (editor, "EDITOR")])
        read = self.assertJsonResponse(self.get(owner.token, event["id"]), 200)
        self.assertEqual(read, dict(event, role="OWNER"))

    def test_only_the_owner_changes_roles(self):
        owner, event, (editor, viewer) = self.shared_event()
        stranger = self.user()
        self.assertPermissionDenied(self.change_role(editor, event["id"], viewer.id, "EDITOR"))
        self.assertPermissionDenied(self.change_role(viewer, event["id"], viewer.id, "EDITOR"))
        self.assertPermissionDenied(self.change_role(editor, event["id"], owner.id, "VIEWER"))
        self.assertPermissionDenied(self.change_role(editor, event["id"], editor.id, "OWNER"))
        self.assertNotFound(self.change_role(stranger, event["id"], viewer.id, "EDITOR"))
        self.assertNotFound(self.change_role(stranger, event["id"], stranger.id, "OWNER"))
        self.assertEqual(self.assertJsonResponse(
            self.change_role(None, event["id"], viewer.id, "EDITOR"), 401), NOT_AUTHENTICATED)
        self.assertStored(owner, event["id"],
                          [(owner, "OWNER"), (editor, "EDITOR"), (viewer, "VIEWER")])

    def test_unknown_event(self):
        owner = self.user()
        other = self.user()
        self.assertNotFound(self.change_role(owner, NO_SUCH_EVENT, other.id, "VIEWER"))


# --- DELETE /api/events/{id}/permissions/{user_id}/ ------------------------------------------


class RemoveParticipantTest(SharingTestCase):

    def test_seed_delete(self):
        owner, event, (editor, viewer) = self.shared_event()
        response = self.remove(owner, event["id"], editor.id)
        self.assertEqual(self.assertJsonResponse(response, 200),
                         {"message": "User removed from the event."})
        self.assertStored(owner, event["id"], [(owner, "OWNER"), (viewer, "VIEWER")])

    def test_a_removed_participant_loses_access_on_the_very_next_request(self):
        owner, event, (editor, viewer) = self.shared_event()
        for member in (editor, viewer):
            with self.subTest(member=member), self.server.client() as client:
                response = client.request("GET", event_path(event["id"]), token=member.token)
                self.assertEqual(response.status, 200, response)
                self.assertJsonResponse(self.remove(owner, event["id"], member.id), 200)
                # the very next request, on the same connection
                self.assertNotFound(client.request("GET", event_path(event["id"]),
                                                   token=member.token))
                self.assertNotFound(client.request("GET", permissions_path(event["id"]),
                                                   token=member.token))
                self.assertNotFound(client.request("PATCH", event_path(event["id"]),
                                                   {"title": "too late"}, token=member.token))
                self.assertNotFound(client.request("DELETE", event_path(event["id"]),
                                                   token=member.token))
                self.assertNotIn(event["id"], self.all_ids(member.token))
        self.assertStored(owner, event["id"], [(owner, "OWNER")])
        read = self.assertJsonResponse(self.get(owner.token, event["id"]), 200)
        self.assertEqual(read, dict(event, role="OWNER"))

    def test_removing_twice(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        self.assertJsonResponse(self.remove(owner, event["id"], editor.id), 200)
        self.assertEqual(self.assertJsonResponse(self.remove(owner, event["id"], editor.id), 404),
                         PARTICIPANT_NOT_FOUND)

    def test_not_a_participant_is_404(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        stranger = self.user()
        for user_id in (stranger.id, NO_SUCH_USER):
            with self.subTest(user_id=user_id):
                self.assertEqual(self.assertJsonResponse(self.remove(owner, event["id"], user_id),
                                                         404), PARTICIPANT_NOT_FOUND)
        self.assertStored(owner, event["id"], [(owner, "OWNER"), (editor, "EDITOR")])

    def test_a_participant_of_another_event_is_404_and_stays_there(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        other = self.event_of(owner)
        outsider = self.user()
        self.share_ok(owner, other["id"], [(outsider, "EDITOR")])
        self.assertEqual(self.assertJsonResponse(self.remove(owner, event["id"], outsider.id),
                                                 404), PARTICIPANT_NOT_FOUND)
        self.assertStored(owner, other["id"], [(owner, "OWNER"), (outsider, "EDITOR")])
        self.assertStored(owner, event["id"], [(owner, "OWNER"), (editor, "EDITOR")])
        self.assertJsonResponse(self.get(outsider.token, other["id"]), 200)

    def test_the_owner_cannot_be_removed(self):
        owner, event, (editor,) = self.shared_event(("EDITOR",))
        self.assertEqual(self.assertJsonResponse(self.remove(owner, event["id"], owner.id), 409),
                         OWNER_NOT_REMOVABLE)
        self.assertStored(owner, event["id"], [(owner, "OWNER"), (editor, "EDITOR")])
        read = self.assertJsonResponse(self.get(owner.token, event["id"]), 200)
        self.assertEqual(read, dict(event, role="OWNER"))

    def test_only_the_owner_removes(self):
        owner, event, (editor, viewer) = self.shared_event()
        stranger = self.user()
        self.assertPermissionDenied(self.remove(editor, event["id"], viewer.id))
        self.assertPermissionDenied(self.remove(editor, event["id"], editor.id))
        self.assertPermissionDenied(self.remove(editor, event["id"], owner.id))
        self.assertPermissionDenied(self.remove(viewer, event["id"], viewer.id))
        self.assertPermissionDenied(self.remove(viewer, event["id"], editor.id))
        self.assertNotFound(self.remove(stranger, event["id"], viewer.id))
        self.assertEqual(self.assertJsonResponse(self.remove(None, event["id"], viewer.id), 401),
                         NOT_AUTHENTICATED)
        self.assertStored(owner, event["id"],
                          [(owner, "OWNER"), (editor, "EDITOR"), (viewer, "VIEWER")])

    def test_unknown_event(self):
        owner = self.user()
        other = self.user()
        self.assertNotFound(self.remove(owner, NO_SUCH_EVENT, other.id))

    def test_shared_again_after_removal_joins_at_the_end(self):
        owner, event, (first, second) = self.shared_event(("EDITOR", "VIEWER"))
        self.assertJsonResponse(self.remove(owner, event["id"], first.id), 200)
        permissions = self.share_ok(owner, event["id"], [(first, "VIEWER")])
        self.assertParticipants(permissions,
                                [(owner, "OWNER"), (second, "VIEWER"), (first, "VIEWER")])
        read = self.assertJsonResponse(self.get(first.token, event["id"]), 200)
        self.assertEqual(read["role"], "VIEWER")


# --- shared events in the list -------------------------------------------------------------------


class SharedEventsListTest(SharingTestCase):

    def setUp(self):
        super().setUp()
        self.me = self.user()
        self.mine = self.event_of(self.me, title="mine", start=at(1, 8), end=at(1, 9))
        self.others = []
        self.as_editor = self.foreign_event("as editor", "EDITOR", at(2, 8))
        self.as_viewer = self.foreign_event("as viewer", "VIEWER", at(3, 8))
        self.not_shared = self.event_of(self.user(), title="not shared")

    def foreign_event(self, title, role, start):
        owner = self.user()
        event = self.event_of(owner, title=title, start=start, end=start[:-5] + "09:00")
        self.share_ok(owner, event["id"], [(self.me, role)])
        self.others.append(owner)
        return event

    def test_shared_events_appear_with_the_callers_role(self):
        body = self.list_ok(self.me.token)
        self.assertPage(body, count=3, length=3)
        self.assertEqual(body["results"], [dict(self.mine, role="OWNER"),
                                           dict(self.as_editor, role="EDITOR"),
                                           dict(self.as_viewer, role="VIEWER")])
        for item in body["results"]:
            with self.subTest(event=item["id"]):
                self.assertEqual(self.assertJsonResponse(self.get(self.me.token, item["id"]),
                                                         200), item)

    def test_the_role_filter(self):
        for value, wanted in (("owner", self.mine), ("editor", self.as_editor),
                              ("viewer", self.as_viewer), ("EDITOR", self.as_editor),
                              ("Viewer", self.as_viewer)):
            with self.subTest(role=value):
                body = self.list_ok(self.me.token, f"?role={value}")
                self.assertPage(body, count=1, length=1)
                self.assertEqual(body["results"], [dict(wanted, role=value.upper())])
        self.assertInvalid(self.list(self.me.token, "?role=admin"), "role")

    def test_other_filters_combine_with_shared_events(self):
        body = self.list_ok(self.me.token, "?q=AS%20&ordering=-start_time")
        self.assertEqual([e["id"] for e in body["results"]],
                         [self.as_viewer["id"], self.as_editor["id"]])
        query = f"?start={at(2, 0)}&end={at(2, 23)}".replace(" ", "%20")
        self.assertEqual([e["id"] for e in self.list_ok(self.me.token, query)["results"]],
                         [self.as_editor["id"]])
        body = self.list_ok(self.me.token, "?role=viewer&title=editor")
        self.assertPage(body, count=0, length=0)

    def test_the_owner_sees_the_event_once_as_owner(self):
        owner = self.others[0]
        body = self.list_ok(owner.token)
        self.assertEqual(body["results"], [dict(self.as_editor, role="OWNER")])

    def test_the_list_follows_role_changes_and_removal(self):
        owner = self.others[0]
        self.assertJsonResponse(self.change_role(owner, self.as_editor["id"], self.me.id,
                                                 "VIEWER"), 200)
        body = self.list_ok(self.me.token, "?role=viewer")
        self.assertEqual([e["id"] for e in body["results"]],
                         [self.as_editor["id"], self.as_viewer["id"]])
        self.assertPage(self.list_ok(self.me.token, "?role=editor"), count=0)
        self.assertJsonResponse(self.remove(owner, self.as_editor["id"], self.me.id), 200)
        self.assertEqual(self.all_ids(self.me.token), [self.mine["id"], self.as_viewer["id"]])

    def test_a_deleted_shared_event_leaves_the_list(self):
        self.assertEqual(self.delete(self.others[1].token, self.as_viewer["id"]).status, 200)
        self.assertEqual(self.all_ids(self.me.token), [self.mine["id"], self.as_editor["id"]])


# --- conflicts count shared events ---------------------------------------------------------------


class SharedConflictTest(SharingTestCase):

    def setUp(self):
        super().setUp()
        self.owner = self.user()
        self.me = self.user()
        # 10:00 to 12:00 on 1 January 2030, owned by someone else, shared with me
        self.invited = self.event_of(self.owner, title="invited", start=at(1, 10), end=at(1, 12))
        self.share_ok(self.owner, self.invited["id"], [(self.me, "VIEWER")])

    def test_an_event_you_were_invited_to_occupies_your_time(self):
        response = self.create(self.me.token, {"title": "my own", "start_time": at(1, 11),
                                                "end_time": at(1, 13)})
        body = self.assertConflict(response, ids=[self.invited["id"]], count=1)
        self.assertEqual(body["conflicts"][0], {"id": self.invited["id"], "title": "invited",
                                                "start_time": printed(1, 10),
                                                "end_time": printed(1, 12)})
        self.assertEqual(self.all_ids(self.me.token), [self.invited["id"]])

    def test_every_role_counts(self):
        for role in ("EDITOR", "OWNER"):
            with self.subTest(role=role):
                self.share_ok(self.owner, self.invited["id"], [(self.me, role)])
                self.assertConflict(self.create(self.me.token, {
                    "title": "mine", "start_time": at(1, 9), "end_time": at(1, 10, 30)}),
                    ids=[self.invited["id"]], count=1)

    def test_allow_conflicts_stores_anyway(self):
        response = self.create(self.me.token, {"title": "my own", "start_time": at(1, 11),
                                                "end_time": at(1, 13)}, "?allow_conflicts=true")
        event = self.assertJsonResponse(response, 201)["event"]
        self.assertEqual(self.all_ids(self.me.token), [self.invited["id"], event["id"]])

    def test_after_removal_the_time_is_free(self):
        self.assertJsonResponse(self.remove(self.owner, self.invited["id"], self.me.id), 200)
        event = self.create_ok(self.me.token, title="now free", start=at(1, 11), end=at(1, 13))
        self.assertEqual(self.all_ids(self.me.token), [event["id"]])

    def test_strangers_are_not_concerned(self):
        stranger = self.user()
        self.create_ok(stranger.token, title="unrelated", start=at(1, 11), end=at(1, 13))

    def test_moving_the_shared_event_onto_a_participants_event(self):
        mine = self.create_ok(self.me.token, title="mine", start=at(1, 14), end=at(1, 15))
        response = self.update(self.owner.token, self.invited["id"],
                               {"start_time": at(1, 14, 30), "end_time": at(1, 16)}, "PATCH")
        # The conflict is counted; it is not described to the owner, who takes no part in it.
        self.assertConflict(response, ids=[], count=1)
        read = self.assertJsonResponse(self.get(self.owner.token, self.invited["id"]), 200)
        self.assertEqual(read, dict(self.invited, role="OWNER"))
        self.assertEqual(self.all_ids(self.me.token), [self.invited["id"], mine["id"]])


if __name__ == "__main__":
    unittest.main()
