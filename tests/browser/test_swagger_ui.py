"""Swagger UI at /api/docs/ in a real browser (issue 9): the server started by the API test harness,
the browser driven by swagger_ui.mjs (Node, npm playwright-core, Debian chromium).

A user registered over HTTP creates an event; the browser opens /api/docs/, authorises with the
user's access token through the "Authorize" dialog and runs "Try it out" on GET /api/events/; the
page must show 200 and the same JSON that GET /api/events/ returns over HTTP. A screenshot is saved
as $ALMANAC_ARTIFACTS/swagger.png (CTest: build/<preset>/artifacts/) for CI to collect.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))

from harness import ServerTestCase, unique_name  # noqa: E402

CHROMIUM = "/usr/bin/chromium"  # Debian's package `chromium` (tools/install-deps.sh test)
DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "swagger_ui.mjs")
BROWSER_DEADLINE_S = 300  # a deadline for the whole browser run, not a wait
TERM_GRACE_S = 20  # after SIGTERM on the deadline: Playwright closes Chromium, then SIGKILL


class SwaggerUiTest(ServerTestCase):

    def run_driver(self, config):
        """Runs swagger_ui.mjs in its own process group with a fresh browser profile, removed
        afterwards. On the deadline: SIGTERM (Playwright then closes Chromium), SIGKILL to the
        group after TERM_GRACE_S. Returns (exit status, stdout + stderr)."""
        node = shutil.which("node")
        self.assertIsNotNone(node, "node is not on PATH (make test installs Node.js)")
        profile = tempfile.mkdtemp(prefix="almanac-chromium-")
        config = dict(config, profile=profile)
        process = subprocess.Popen([node, DRIVER, json.dumps(config)], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = process.communicate(timeout=BROWSER_DEADLINE_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                output, _ = process.communicate(timeout=TERM_GRACE_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                output, _ = process.communicate()
            self.fail(f"the browser run passed its {BROWSER_DEADLINE_S} s deadline:\n{output}")
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            shutil.rmtree(profile, ignore_errors=True)
        return process.returncode, output

    def test_try_it_out_lists_events_with_the_pasted_token(self):
        self.assertTrue(os.access(CHROMIUM, os.X_OK),
                        f"{CHROMIUM} is missing: tools/install-deps.sh test installs `chromium`")
        tokens, _ = self.server.register()
        token = tokens["access"]
        created = self.server.request("POST", "/api/events/", {
            "title": unique_name("Swagger"),
            "start_time": "2025-04-27 08:05",
            "end_time": "2025-04-27 09:00",
        }, token=token)
        self.assertEqual(created.status, 201, created)
        listed = self.server.request("GET", "/api/events/", token=token)
        self.assertEqual(listed.status, 200, listed)

        artifacts = os.environ.get("ALMANAC_ARTIFACTS") or self.server.datadir
        config = {
            "url": f"http://127.0.0.1:{self.server.port}/api/docs/",
            "token": token,
            "expected_body": listed.json(),
            "screenshot": os.path.join(artifacts, "swagger.png"),
            "chromium": CHROMIUM,
        }
        status, output = self.run_driver(config)
        print(output, end="", file=sys.stderr)
        self.assertEqual(status, 0, f"swagger_ui.mjs failed:\n{output}")


if __name__ == "__main__":
    unittest.main()
