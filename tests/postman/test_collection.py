"""docs/almanac.postman_collection.json, run by newman through Prism (issue 9).

A fresh server (the API test harness, `--rate-limits off`), then Prism in proxy mode in front of it
(`prism proxy docs/openapi.yaml http://127.0.0.1:<server port>`, WITHOUT `--errors`: Prism forwards
every request and only reports what disagrees with the document, in an `sl-violations` response
header), then newman runs the collection against Prism. The run passes when every request of the
collection ran, every `pm.test` passed (the collection's own tests on status and body, and its
collection-level tests that fail on any `sl-violations` entry), and, checked again here from
newman's report, no response carried an `sl-violations` header at all: the OpenAPI document and
the server agree on every request and response of the tour.

Both ports are below 32768 and chosen here; Prism binds 127.0.0.1 only (checked from /proc) and
runs in its own process group, killed afterwards whatever happened. newman's JSON report and
Prism's log are left in $ALMANAC_ARTIFACTS (CTest: build/<preset>/artifacts/).
"""

import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "api"))

from harness import ServerTestCase, pick_free_port, verify_listener_owner  # noqa: E402

COLLECTION = os.path.join(ROOT, "docs", "almanac.postman_collection.json")
OPENAPI = os.path.join(ROOT, "docs", "openapi.yaml")
PRISM_JS = os.path.join(ROOT, "node_modules", "@stoplight", "prism-cli", "dist", "index.js")
NEWMAN_JS = os.path.join(ROOT, "node_modules", "newman", "bin", "newman.js")

PRISM_READY_DEADLINE_S = 60.0  # a deadline for Prism to answer, not a wait
NEWMAN_DEADLINE_S = 120.0  # the whole collection run
STOP_GRACE_S = 10.0  # after SIGTERM to a process group, before SIGKILL
PRISM_STARTS = 3  # attempts, each on a newly chosen port (another process may take one first)
REQUEST_TIMEOUT_MS = 30000

# The two collection-level tests every request must have passed.
COLLECTION_TESTS = ("OpenAPI: the response matches docs/openapi.yaml",
                    "OpenAPI: the request matches docs/openapi.yaml")


def node():
    path = shutil.which("node")
    if path is None:
        raise AssertionError("node is not on PATH (make test installs Node.js)")
    return path


def child_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALMANAC_")}
    env.update(NO_UPDATE_NOTIFIER="1", NO_COLOR="1", FORCE_COLOR="0")
    return env


def stop_group(process):
    """Ends the process group that `process` leads (it was started in a session of its own):
    SIGTERM, then SIGKILL after STOP_GRACE_S. Nothing to do when it has already exited."""
    if process.poll() is not None:
        return
    # Until it is reaped (by wait, below), the leader's pid still names its group.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def count_requests(items):
    return sum(count_requests(item["item"]) if "item" in item else 1 for item in items)


def get(port, path, headers=None):
    """GET on a fresh connection: (status, headers, body bytes); raises OSError when refused."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.msg, response.read()
    finally:
        connection.close()


class PostmanCollectionTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()  # the server
        cls.workdir = tempfile.mkdtemp(prefix="almanac-postman-")
        cls.artifacts = os.environ.get("ALMANAC_ARTIFACTS") or cls.workdir
        os.makedirs(cls.artifacts, exist_ok=True)
        cls.prism_log_path = os.path.join(cls.artifacts, "postman-prism.log")
        open(cls.prism_log_path, "wb").close()  # this run's log only
        cls.prism = None
        try:
            cls.start_prism()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.prism is not None:
                stop_group(cls.prism)
                cls.prism = None
            shutil.rmtree(cls.workdir, ignore_errors=True)
        finally:
            super().tearDownClass()  # the server: stopped, exit code 0 asserted

    @classmethod
    def prism_log(cls):
        try:
            with open(cls.prism_log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return "(no Prism log)"
        return "--- tail of Prism's log ---\n" + "\n".join(text[-60:]) + "\n--- end ---"

    @classmethod
    def start_prism(cls):
        """Starts `prism proxy` on a free port below 32768 and waits (deadline poll) until it
        forwards GET /healthz to the server; checks that it alone listens, on 127.0.0.1 only."""
        upstream = f"http://127.0.0.1:{cls.server.port}"
        failures = []
        for _ in range(PRISM_STARTS):
            port = pick_free_port()
            # No --errors: Prism forwards every request and reports violations in a header.
            command = [node(), PRISM_JS, "proxy", OPENAPI, upstream, "--host", "127.0.0.1",
                       "--port", str(port)]
            with open(cls.prism_log_path, "ab") as log:
                log.write(f"\n=== test: {' '.join(command)}\n".encode())
                log.flush()
                process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, env=child_env(), cwd=ROOT,
                                           start_new_session=True)
            cls.prism = process
            deadline = time.monotonic() + PRISM_READY_DEADLINE_S
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    status, _, _ = get(port, "/healthz")
                except (OSError, http.client.HTTPException):
                    status = None
                if status == 200:
                    break
                time.sleep(0.1)  # readiness poll interval
            else:
                code = process.poll()
                stop_group(process)
                cls.prism = None
                if code is None:
                    raise AssertionError(f"Prism did not answer within {PRISM_READY_DEADLINE_S} s"
                                         f"\n{cls.prism_log()}")
                failures.append(f"port {port}: Prism exited with {code}")
                continue  # most likely the port was taken meanwhile: another one
            verify_listener_owner(process.pid, port)
            cls.prism_port = port
            return
        raise AssertionError(f"Prism could not start: {failures}\n{cls.prism_log()}")

    def test_prism_reports_violations_in_a_header(self):
        """The oracle works: a request that breaks the document (no token, `page=0`) is still
        forwarded (no --errors: the server's own 401 comes back) and Prism names what is wrong in
        `sl-violations`."""
        status, headers, body = get(self.prism_port, "/api/events/?page=0")
        self.assertEqual(status, 401, body)
        self.assertEqual(json.loads(body)["code"], "not_authenticated", body)
        violations = json.loads(headers.get("sl-violations") or "[]")
        self.assertTrue(violations, f"no sl-violations header: {dict(headers.items())}")
        self.assertTrue(all(v["location"][0] == "request" for v in violations), violations)
        self.assertIn(["request", "query", "page"], [v["location"] for v in violations])

    def test_collection_runs_green_with_zero_violations(self):
        with open(COLLECTION) as f:
            collection = json.load(f)
        expected_requests = count_requests(collection["item"])
        report_path = os.path.join(self.artifacts, "postman-newman.json")
        with contextlib.suppress(FileNotFoundError):
            os.remove(report_path)
        command = [node(), NEWMAN_JS, "run", COLLECTION,
                   "--env-var", f"baseUrl=http://127.0.0.1:{self.prism_port}",
                   "--reporters", "cli,json", "--reporter-json-export", report_path,
                   "--color", "off", "--disable-unicode",
                   "--timeout-request", str(REQUEST_TIMEOUT_MS)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, text=True, env=child_env(),
                                   cwd=self.workdir, start_new_session=True)
        try:
            output, _ = process.communicate(timeout=NEWMAN_DEADLINE_S)
        except subprocess.TimeoutExpired:
            stop_group(process)
            output, _ = process.communicate()
            self.fail(f"newman passed its {NEWMAN_DEADLINE_S} s deadline:\n{output}"
                      f"\n{self.prism_log()}")
        finally:
            stop_group(process)
        print(output, end="", file=sys.stderr)
        self.assertEqual(process.returncode, 0,
                         f"newman reported failures (see above)\n{self.prism_log()}")

        with open(report_path) as f:
            run = json.load(f)["run"]
        stats = run["stats"]
        self.assertEqual(stats["requests"]["total"], expected_requests, stats)
        self.assertEqual(stats["requests"]["failed"], 0, stats)
        self.assertEqual(stats["assertions"]["failed"], 0, stats)
        self.assertEqual(run["failures"], [])
        self.assertEqual(len(run["executions"]), expected_requests)
        for execution in run["executions"]:
            name = execution["item"]["name"]
            passed = [a["assertion"] for a in execution.get("assertions", [])
                      if not a.get("error") and not a.get("skipped")]
            for test in COLLECTION_TESTS:
                self.assertIn(test, passed, f"{name!r}: {execution.get('assertions')}")
            # Beyond the collection's own tests: its own status/body tests ran too.
            self.assertGreaterEqual(len(passed), len(COLLECTION_TESTS) + 1, name)
            headers = {h["key"].lower(): h["value"] for h in execution["response"]["header"]}
            self.assertNotIn("sl-violations", headers,
                             f"{name!r}: Prism reports {headers.get('sl-violations')}")


if __name__ == "__main__":
    unittest.main()
