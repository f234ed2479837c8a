"""The operator's commands on the database: `almanac user create|list|disable|enable` and
`almanac export --format json`, alongside a running server."""

import json
import os
import pty
import subprocess
import time
import unittest

from harness import Server, child_env, unique_name

DISABLE_DEADLINE_S = 30.0  # the server may answer from its one-second user cache meanwhile
CLI_TIMEOUT_S = 120


class OperatorCliTest(unittest.TestCase):

    def setUp(self):
        self.server = Server()
        self.addCleanup(self.server.close)

    def cli(self, *args, stdin="", stderr=subprocess.PIPE):
        return subprocess.run([self.server.binary, *args, "--database", self.server.database],
                              input=stdin.encode(), stdout=subprocess.PIPE, stderr=stderr,
                              env=child_env(), cwd=self.server.datadir, timeout=CLI_TIMEOUT_S)

    def login(self, username, password):
        return self.server.request("POST", "/api/auth/login/",
                                   {"username": username, "password": password})

    def test_create_list_disable_enable_and_export(self):
        name, password = unique_name("op"), "pw-correct-horse"
        email = f"{name.lower()}@example.com"

        created = self.cli("user", "create", name, email, stdin=password + "\n")
        self.assertEqual(created.returncode, 0, created)
        self.assertIn(f" {name} <{email}>", created.stdout.decode())
        taken = self.cli("user", "create", name, "other@example.com", stdin=password + "\n")
        self.assertEqual(taken.returncode, 1, taken)
        self.assertIn("already exists", taken.stderr.decode())
        weak = self.cli("user", "create", unique_name("op"), "weak@example.com", stdin="short\n")
        self.assertEqual(weak.returncode, 1, weak)
        self.assertIn("password", weak.stderr.decode())
        usage = self.cli("user", "create", name)
        self.assertEqual(usage.returncode, 2, usage)

        self.server.start()
        login = self.login(name, password)
        self.assertEqual(login.status, 200, login)
        token = login.json()["access"]
        event = self.server.request("POST", "/api/events/", token=token, body={
            "title": "Backup me", "start_time": "2030-01-01 10:00",
            "end_time": "2030-01-01 11:00"})
        self.assertEqual(event.status, 201, event)
        event_id = event.json()["event"]["id"]
        changed = self.server.request("PATCH", f"/api/events/{event_id}/", token=token,
                                      body={"title": "Backed up"})
        self.assertEqual(changed.status, 200, changed)

        listed = self.cli("user", "list")
        self.assertEqual(listed.returncode, 0, listed)
        row = next(line for line in listed.stdout.decode().splitlines() if name in line)
        self.assertEqual(row.split()[1:], [name, email, "active"])

        # Disabled while the server runs: logins and existing tokens are refused with 401 and the
        # bodies every other refusal has.
        disabled = self.cli("user", "disable", name)
        self.assertEqual(disabled.returncode, 0, disabled)
        refused = self.login(name, password)
        wrong_password = self.login(name, "wrong-password")
        self.assertEqual(refused.status, 401, refused)
        self.assertEqual(refused.body, wrong_password.body)
        deadline = time.monotonic() + DISABLE_DEADLINE_S
        while True:
            use = self.server.request("GET", "/api/events/", token=token)
            if use.status != 200 or time.monotonic() > deadline:
                break
        self.assertEqual(use.status, 401, use)
        forged = self.server.request("GET", "/api/events/", token=token[:-4] + "AAAA")
        self.assertEqual(use.body, forged.body)
        refreshed = self.server.request("POST", "/api/auth/refresh/",
                                        {"refresh": login.json()["refresh"]})
        self.assertEqual(refreshed.status, 401, refreshed)
        listed = self.cli("user", "list")
        row = next(line for line in listed.stdout.decode().splitlines() if name in line)
        self.assertEqual(row.split()[-1], "disabled")
        self.assertEqual(self.cli("user", "disable", "nobody-by-that-name").returncode, 1)

        exported = self.cli("export", "--format", "json")
        self.assertEqual(exported.returncode, 0, exported)
        backup = json.loads(exported.stdout)
        self.assertEqual(backup["format"], "almanac-export")
        user = next(u for u in backup["users"] if u["username"] == name)
        self.assertEqual((user["email"], user["is_active"]), (email, False))
        self.assertNotIn("password", exported.stdout.decode())
        entry = next(e for e in backup["events"] if e["event_id"] == event_id)
        self.assertFalse(entry["deleted"])
        self.assertEqual([v["history_type"] for v in entry["versions"]], ["+", "~"])
        self.assertEqual([v["title"] for v in entry["versions"]], ["Backup me", "Backed up"])
        self.assertEqual([v["version"] for v in entry["versions"]], [1, 2])
        self.assertEqual(entry["participants"],
                         [{"user_id": user["id"], "username": name, "role": "OWNER"}])
        progress = exported.stderr.decode()
        self.assertIn("exported 1/1 events\n", progress)  # plain lines off a terminal
        self.assertNotIn("\r", progress)

        enabled = self.cli("user", "enable", name)
        self.assertEqual(enabled.returncode, 0, enabled)
        self.assertEqual(self.login(name, password).status, 200)

    def test_export_draws_a_progress_bar_on_a_terminal(self):
        self.server.start()
        tokens, _ = self.server.register()
        for hour in (10, 12):
            self.assertEqual(self.server.request("POST", "/api/events/", token=tokens["access"],
                                                 body={"title": "t",
                                                       "start_time": f"2030-01-02 {hour}:00",
                                                       "end_time": f"2030-01-02 {hour}:30"}
                                                 ).status, 201)
        main, terminal = pty.openpty()
        try:
            exported = self.cli("export", "--format", "json", stderr=terminal)
            os.close(terminal)
            terminal = None
            shown = b""
            while True:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # EIO: the terminal's other end is closed and drained
                    break
                if not chunk:
                    break
                shown += chunk
        finally:
            if terminal is not None:
                os.close(terminal)
            os.close(main)
        self.assertEqual(exported.returncode, 0)
        self.assertEqual(len(json.loads(exported.stdout)["events"]), 2)
        self.assertIn(b"\rexporting events [", shown)
        self.assertIn(b"] 2/2", shown)


if __name__ == "__main__":
    unittest.main()
