"""Configuration of the real binary (issue 2): flags over ALMANAC_* environment variables over
defaults, exit code 2 with a clear message on a bad value, the generated JWT secret, and
`migrate`."""

import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
import unittest

from harness import (
    Server,
    almanac_bin,
    child_env,
    decode_jwt,
    pick_free_port,
    postgres_server_url,
    skip_behind_nginx,
)

NO_SERVER = ("runs the binary without a server: nothing here depends on the topology "
             "(api.test_config runs it)")
CONFIG_ERROR_EXIT = 2
RUN_TIMEOUT_S = 30  # a config error exits at once; this only bounds a binary that wrongly serves


class BinaryRun(unittest.TestCase):
    """Runs the binary to completion in a temporary directory."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="almanac-config-")
        self.addCleanup(shutil.rmtree, self.workdir, True)

    def run_binary(self, args, env=None):
        try:
            return subprocess.run([almanac_bin(), *args], cwd=self.workdir, env=child_env(env),
                                  stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired as timeout:
            self.fail(f"{args} did not exit within {RUN_TIMEOUT_S} s (it should refuse to start); "
                      f"stderr: {timeout.stderr!r}")

    def serve_args(self, **overrides):
        """A complete, valid `serve` command line with some flags replaced (value None: omitted).
        Keyword names use underscores for the flag's dashes."""
        flags = {
            "listen": f"127.0.0.1:{pick_free_port()}",
            "database": f"sqlite:{self.workdir}/almanac.db",
            "jwt_secret": secrets.token_hex(32),
            "threads": "2",
            "log_format": "json",
        }
        flags.update(overrides)
        args = ["serve"]
        for name, value in flags.items():
            if value is not None:
                args += [f"--{name.replace('_', '-')}", value]
        return args

    def assertConfigError(self, result, mentions):
        """Exit code 2, a message on stderr that mentions `mentions` (case-insensitive; `_` and `-`
        are the same), and no crash report."""
        stderr = result.stderr.decode("utf-8", "replace")
        self.assertEqual(result.returncode, CONFIG_ERROR_EXIT,
                         f"exit code {result.returncode}; stderr: {stderr}")
        self.assertTrue(stderr.strip(), "no message on stderr")
        normalised = stderr.lower().replace("_", "-")
        self.assertIn(mentions.lower().replace("_", "-"), normalised, stderr)
        for crash in ("terminate called", "AddressSanitizer", "runtime error", "Segmentation"):
            self.assertNotIn(crash, stderr)


@skip_behind_nginx(NO_SERVER)
class BadConfigurationTest(BinaryRun):

    def test_short_jwt_secret(self):
        for secret in ("short", "s" * 31):
            with self.subTest(length=len(secret)):
                self.assertConfigError(self.run_binary(self.serve_args(jwt_secret=secret)),
                                       "jwt-secret")

    def test_bad_access_token_lifetime(self):
        for value in ("5x", "abc", "-5m", "m"):
            with self.subTest(value=value):
                result = self.run_binary(self.serve_args(access_token_lifetime=value))
                self.assertConfigError(result, "access-token-lifetime")

    def test_bad_refresh_token_lifetime(self):
        result = self.run_binary(self.serve_args(refresh_token_lifetime="5x"))
        self.assertConfigError(result, "refresh-token-lifetime")

    def test_bad_listen_address(self):
        for value in ("nonsense", "127.0.0.1:99999", "127.0.0.1:", "127.0.0.1:port"):
            with self.subTest(value=value):
                self.assertConfigError(self.run_binary(self.serve_args(listen=value)), "listen")

    def test_bad_threads(self):
        for value in ("0", "-1", "many"):
            with self.subTest(value=value):
                self.assertConfigError(self.run_binary(self.serve_args(threads=value)), "threads")

    def test_hash_threads_busy_above_the_hash_threads(self):
        result = self.run_binary(self.serve_args(hash_threads="2", hash_threads_busy="3"))
        self.assertConfigError(result, "hash-threads-busy")
        for value in ("0", "many"):
            with self.subTest(value=value):
                result = self.run_binary(self.serve_args(hash_threads_busy=value))
                self.assertConfigError(result, "hash-threads-busy")

    def test_bad_log_format(self):
        self.assertConfigError(self.run_binary(self.serve_args(log_format="xml")), "log-format")

    def test_bad_log_level(self):
        self.assertConfigError(self.run_binary(self.serve_args(log_level="loudest")), "log-level")

    def test_postgresql_url_without_host(self):
        result = self.run_binary(self.serve_args(database="postgresql:///db"))
        self.assertConfigError(result, "database")

    def test_postgresql_without_a_jwt_secret(self):
        # Each instance would generate its own secret: instances sharing the database would
        # refuse each other's tokens. Refused before any connection is tried (nothing listens on
        # port 1), in one line naming the flag and its variable.
        result = self.run_binary(self.serve_args(
            database="postgresql://almanac:pw-never-shown@127.0.0.1:1/almanac", jwt_secret=None))
        self.assertConfigError(result, "--jwt-secret")
        stderr = result.stderr.decode("utf-8", "replace")
        self.assertIn("ALMANAC_JWT_SECRET", stderr)
        self.assertEqual(len(stderr.strip().splitlines()), 1, stderr)
        self.assertNotIn("pw-never-shown", stderr)
        self.assertEqual(os.listdir(self.workdir), [], "the refused server wrote files")
        # The secret from the environment is enough: the server goes on to connect (and fails:
        # nothing listens there), which is no configuration error.
        result = self.run_binary(
            self.serve_args(database="postgresql://almanac:pw@127.0.0.1:1/almanac",
                            jwt_secret=None),
            env={"ALMANAC_JWT_SECRET": secrets.token_hex(32)})
        self.assertEqual(result.returncode, 1, result.stderr.decode("utf-8", "replace"))

    def test_unknown_database_scheme(self):
        self.assertConfigError(self.run_binary(self.serve_args(database="mysql:foo")), "database")

    def test_unknown_flag(self):
        result = self.run_binary(self.serve_args() + ["--no-such-flag", "1"])
        self.assertConfigError(result, "no-such-flag")

    def test_flag_without_value(self):
        result = self.run_binary(self.serve_args(threads=None) + ["--threads"])
        self.assertConfigError(result, "threads")

    def test_bad_rate_limits(self):
        for flag, value in (("rate_limits", "maybe"), ("rate_limit_login_account", "5"),
                            ("rate_limit_user", "0/1m"), ("rate_limit_register_address", "9/1y"),
                            ("rate_limit_max_keys", "0"), ("trusted_proxies", "proxy.example")):
            with self.subTest(flag=flag, value=value):
                result = self.run_binary(self.serve_args(**{flag: value}))
                self.assertConfigError(result, flag)
        result = self.run_binary(self.serve_args(), env={"ALMANAC_RATE_LIMITS": "of"})
        self.assertConfigError(result, "ALMANAC_RATE_LIMITS")

    def test_bad_environment_value(self):
        args = self.serve_args(threads=None)
        self.assertConfigError(self.run_binary(args, env={"ALMANAC_THREADS": "0"}), "threads")

    def test_bad_short_secret_from_environment(self):
        args = self.serve_args(jwt_secret=None)
        result = self.run_binary(args, env={"ALMANAC_JWT_SECRET": "short"})
        self.assertConfigError(result, "jwt-secret")


def access_lifetime(server):
    tokens, _ = server.register()
    payload = decode_jwt(tokens["access"])[1]
    return payload["exp"] - payload["iat"]


def refresh_lifetime(server):
    tokens, _ = server.register()
    payload = decode_jwt(tokens["refresh"])[1]
    return payload["exp"] - payload["iat"]


class EnvironmentTest(unittest.TestCase):

    def test_listen_from_environment(self):
        # The harness passes ALMANAC_LISTEN instead of --listen and verifies that the server owns
        # the listening socket on that port.
        with Server(listen_via_env=True) as server:
            self.assertNotIn("--listen", server.command(server.port))
            self.assertEqual(server.request("GET", "/healthz").status, 200)

    def test_flags_win_over_environment(self):
        decoy_port = pick_free_port()
        env = {"ALMANAC_LISTEN": f"127.0.0.1:{decoy_port}", "ALMANAC_ACCESS_TOKEN_LIFETIME": "30s",
               "ALMANAC_THREADS": "1"}
        with Server(extra_args=["--access-token-lifetime", "1h"], env=env) as server:
            self.assertNotEqual(server.port, decoy_port)
            self.assertEqual(access_lifetime(server), 3600)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", decoy_port), timeout=5).close()

    def test_lifetime_from_environment(self):
        with Server(env={"ALMANAC_ACCESS_TOKEN_LIFETIME": "30s"}) as server:
            self.assertEqual(access_lifetime(server), 30)

    def test_duration_forms(self):
        args = ["--access-token-lifetime", "1h", "--refresh-token-lifetime", "7d"]
        with Server(extra_args=args) as server:
            self.assertEqual(access_lifetime(server), 3600)
            self.assertEqual(refresh_lifetime(server), 7 * 86400)
        args = ["--access-token-lifetime", "15m", "--refresh-token-lifetime", "30s"]
        with Server(extra_args=args) as server:
            self.assertEqual(access_lifetime(server), 900)
            self.assertEqual(refresh_lifetime(server), 30)

    def test_json_log_format_writes_json_lines(self):
        with Server() as server:
            server.register()
            server.request("GET", "/nope")
            server.stop()  # the log is complete once the process exited
            lines = [line for line in server.log_text().splitlines()
                     if line.strip() and not line.startswith("=== harness:")]
            self.assertTrue(lines, "the server logged nothing")
            for line in lines:
                self.assertIsInstance(json.loads(line), dict, line)


@unittest.skipIf(postgres_server_url(), "a secret is generated only on SQLite: on PostgreSQL, serve "
                 "refuses to start without one (test_postgresql_without_a_jwt_secret)")
class GeneratedSecretTest(unittest.TestCase):
    """Without --jwt-secret the server generates one, keeps it in the data directory (0600), and
    tokens stay valid across a restart."""

    def find_secret_files(self, directory):
        return [os.path.join(root, name) for root, _, names in os.walk(directory)
                for name in names if name == "jwt-secret"]

    @skip_behind_nginx("each instance generates a secret of its own and refuses the other's "
                       "tokens: several instances must share --jwt-secret (README, Running "
                       "several instances)")
    def test_secret_is_generated_kept_and_reused(self):
        with Server(jwt_secret=None) as server:
            self.assertNotIn("--jwt-secret", server.command(server.port))
            files = self.find_secret_files(server.datadir)
            self.assertEqual(len(files), 1, f"no single jwt-secret file in {server.datadir}")
            path = files[0]
            mode = stat.S_IMODE(os.stat(path).st_mode)
            self.assertEqual(mode, 0o600, oct(mode))
            with open(path, "rb") as f:
                secret = f.read()
            self.assertGreaterEqual(len(secret.strip()), 32)

            tokens, user = server.register()
            server.restart()
            with open(path, "rb") as f:
                self.assertEqual(f.read(), secret, "the secret changed across a restart")
            response = server.request("POST", "/api/auth/refresh/", {"refresh": tokens["refresh"]})
            self.assertEqual(response.status, 200, response)
            self.assertEqual(decode_jwt(response.json()["access"])[1]["user_id"], user["id"])

    def test_secret_is_not_in_the_log(self):
        with Server(jwt_secret=None) as server:
            server.stop()
            files = self.find_secret_files(server.datadir)  # one per instance
            self.assertEqual(len(files), len(server.instances), files)
            for path in files:
                with open(path, "rb") as f:
                    secret = f.read().strip().decode("utf-8", "replace")
                self.assertTrue(secret)
                self.assertNotIn(secret, server.log_text())


@skip_behind_nginx(NO_SERVER)
class MigrateTest(BinaryRun):

    def test_migrate_creates_the_database(self):
        path = os.path.join(self.workdir, "sub", "almanac.db")
        os.makedirs(os.path.dirname(path))
        result = self.run_binary(["migrate", "--database", f"sqlite:{path}"])
        self.assertEqual(result.returncode, 0, result.stderr.decode("utf-8", "replace"))
        self.assertTrue(os.path.isfile(path), f"{path} was not created")
        self.assertGreater(os.path.getsize(path), 0)

    def test_migrate_twice_is_idempotent(self):
        path = os.path.join(self.workdir, "almanac.db")
        for _ in range(2):
            result = self.run_binary(["migrate", "--database", f"sqlite:{path}"])
            self.assertEqual(result.returncode, 0, result.stderr.decode("utf-8", "replace"))

    def test_migrate_on_an_unreachable_postgresql_fails_without_showing_the_password(self):
        # Port 1 of the loopback: nothing listens there, the connection is refused at once.
        result = self.run_binary(["migrate", "--database",
                                  "postgresql://almanac:pw-never-shown@127.0.0.1:1/almanac"])
        output = (result.stdout + result.stderr).decode("utf-8", "replace")
        self.assertEqual(result.returncode, 1, output)
        self.assertIn("PostgreSQL", output)
        self.assertNotIn("pw-never-shown", output)


if __name__ == "__main__":
    unittest.main()
