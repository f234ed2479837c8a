"""Rate limits (issue 7): 429 with Retry-After and RateLimit-* beyond each limit, and none at all
with `--rate-limits off`.

Every window here is an hour or more, so nothing expires while a test runs: no test depends on
timing, and none waits. Window expiry is proved by the limiter's unit tests with an injected clock.
Each class gets its own server (fresh counters) with limits small enough to reach quickly.

Behind nginx (ALMANAC_TEST_TOPOLOGY=nginx-pg) the counts live in each instance and nginx chooses
the instance, so the exact per-limit classes are skipped; SeveralInstancesTest checks what README
promises there instead (at least one quota, at most one per instance).
"""

import unittest

from harness import BEHIND_NGINX, Server, ServerTestCase, skip_behind_nginx, unique_name

LOGIN = "/api/auth/login/"
REGISTER = "/api/auth/register/"
EVENTS = "/api/events/"

PER_INSTANCE = ("each instance keeps its own counts (README: with N instances a client may get up "
                "to N times a quota) and nginx chooses which instance counts a request")

# Limits far above what a class uses, for the limits a class does not test.
HIGH = "10000/1h"


def limit_args(login_account=HIGH, login_address=HIGH, register_address=HIGH, user=HIGH):
    return ["--rate-limit-login-account", login_account,
            "--rate-limit-login-address", login_address,
            "--rate-limit-register-address", register_address,
            "--rate-limit-user", user]


class RateLimitAssertions:

    def assertThrottled(self, response, limit):
        """A 429 in our error shape, with an integer Retry-After and the RateLimit-* fields."""
        body = self.assertErrorBody(response, 429, code="throttled")
        self.assertNotIn("detail", body)
        retry_after = response.headers.get("Retry-After")
        self.assertIsNotNone(retry_after, response)
        self.assertRegex(retry_after, r"^[0-9]+$")
        self.assertGreaterEqual(int(retry_after), 1)
        self.assertEqual(response.headers.get("RateLimit-Limit"), str(limit), response)
        self.assertEqual(response.headers.get("RateLimit-Remaining"), "0", response)
        reset = response.headers.get("RateLimit-Reset")
        self.assertRegex(reset or "", r"^[0-9]+$")
        self.assertEqual(int(reset), int(retry_after))
        self.assertRegex(response.headers.get("RateLimit-Policy") or "", rf"^{limit};w=[0-9]+$")
        return body

    def assertRemaining(self, response, limit, remaining):
        self.assertEqual(response.headers.get("RateLimit-Limit"), str(limit), response)
        self.assertEqual(response.headers.get("RateLimit-Remaining"), str(remaining), response)
        self.assertRegex(response.headers.get("RateLimit-Reset") or "", r"^[0-9]+$")

    def login(self, username, password, headers=None, server=None):
        return (server or self.server).request("POST", LOGIN,
                                               {"username": username, "password": password},
                                               headers=headers)


@skip_behind_nginx(PER_INSTANCE)
class LoginAccountLimitTest(RateLimitAssertions, ServerTestCase):
    """3 failed logins per account per hour."""

    server_kwargs = {"rate_limits": True}
    server_args = limit_args(login_account="3/1h")

    def fail_until_locked(self, username):
        for attempt in range(3):
            response = self.login(username, "wrong password")
            self.assertEqual(response.status, 401, (attempt, response))
        return self.login(username, "wrong password")

    def test_locked_after_failures_even_with_the_right_password(self):
        _, user = self.server.register()
        self.assertThrottled(self.fail_until_locked(user["username"]), 3)
        self.assertThrottled(self.login(user["username"], user["password"]), 3)

    def test_lock_covers_other_spellings_of_the_account(self):
        _, user = self.server.register()
        self.fail_until_locked(user["username"])
        self.assertThrottled(self.login(user["username"].upper(), user["password"]), 3)
        self.assertThrottled(self.login(user["email"], user["password"]), 3)

    def test_other_accounts_are_unaffected(self):
        _, victim = self.server.register()
        _, other = self.server.register()
        self.fail_until_locked(victim["username"])
        self.assertEqual(self.login(other["username"], other["password"]).status, 200)

    def test_successful_logins_do_not_count(self):
        _, user = self.server.register()
        for _ in range(6):
            self.assertEqual(self.login(user["username"], user["password"]).status, 200)
        self.assertEqual(self.login(user["username"], "wrong").status, 401)

    def test_unknown_accounts_are_locked_alike(self):
        self.assertThrottled(self.fail_until_locked(unique_name("nobody")), 3)


@skip_behind_nginx(PER_INSTANCE)
class LoginAddressLimitTest(RateLimitAssertions, ServerTestCase):
    """4 login attempts per client address per hour; X-Forwarded-For is trusted only from
    10.0.0.0/8, which the test client (127.0.0.1) is not."""

    server_kwargs = {"rate_limits": True}
    server_args = [*limit_args(login_address="4/1h"), "--trusted-proxies", "10.0.0.0/8"]

    def test_address_limit_holds_against_forged_forwarded_for(self):
        _, user = self.server.register()
        for attempt in range(4):
            response = self.login(user["username"], user["password"])
            self.assertEqual(response.status, 200, (attempt, response))
            self.assertRemaining(response, 4, 3 - attempt)
        self.assertThrottled(self.login(user["username"], user["password"]), 4)
        for forged in ("203.0.113.9", "198.51.100.1, 203.0.113.10", "10.0.0.1"):
            with self.subTest(forged=forged):
                response = self.login(user["username"], user["password"],
                                      headers={"X-Forwarded-For": forged})
                self.assertThrottled(response, 4)


@skip_behind_nginx(PER_INSTANCE)
class TrustedProxyTest(RateLimitAssertions, ServerTestCase):
    """With the test client (127.0.0.1) as a trusted proxy, X-Forwarded-For names the client."""

    server_kwargs = {"rate_limits": True}
    server_args = [*limit_args(login_address="1/1h"), "--trusted-proxies", "127.0.0.1"]

    def test_each_forwarded_client_has_its_own_quota(self):
        _, user = self.server.register()
        first = {"X-Forwarded-For": "203.0.113.1"}
        second = {"X-Forwarded-For": "6.6.6.6, 203.0.113.2"}  # leftmost part forged by the client
        self.assertEqual(self.login(user["username"], user["password"], first).status, 200)
        self.assertThrottled(self.login(user["username"], user["password"], first), 1)
        self.assertEqual(self.login(user["username"], user["password"], second).status, 200)
        # The forged leftmost entry changes nothing: the proxy saw 203.0.113.2 again.
        self.assertThrottled(
            self.login(user["username"], user["password"],
                       {"X-Forwarded-For": "7.7.7.7, 203.0.113.2"}), 1)


@skip_behind_nginx(PER_INSTANCE)
class RegisterLimitTest(RateLimitAssertions, ServerTestCase):
    """3 registrations per client address per hour."""

    server_kwargs = {"rate_limits": True}
    server_args = limit_args(register_address="3/1h")

    def registration(self):
        name = unique_name()
        return {"username": name, "email": f"{name.lower()}@example.com",
                "password": "a long enough password 1"}

    def test_registrations_per_address(self):
        for attempt in range(3):
            response = self.server.request("POST", REGISTER, self.registration())
            self.assertEqual(response.status, 201, (attempt, response))
            self.assertRemaining(response, 3, 2 - attempt)
        self.assertThrottled(self.server.request("POST", REGISTER, self.registration()), 3)
        forged = self.server.request("POST", REGISTER, self.registration(),
                                     headers={"X-Forwarded-For": "203.0.113.50"})
        self.assertThrottled(forged, 3)


@skip_behind_nginx(PER_INSTANCE)
class UserLimitTest(RateLimitAssertions, ServerTestCase):
    """5 authenticated requests per user per hour."""

    server_kwargs = {"rate_limits": True}
    server_args = limit_args(user="5/1h")

    def test_requests_per_user(self):
        tokens, _ = self.server.register()
        other, _ = self.server.register()
        for attempt in range(5):
            response = self.server.request("GET", EVENTS, token=tokens["access"])
            self.assertEqual(response.status, 200, (attempt, response))
            self.assertRemaining(response, 5, 4 - attempt)
        self.assertThrottled(self.server.request("GET", EVENTS, token=tokens["access"]), 5)
        self.assertThrottled(
            self.server.request("POST", EVENTS, {"title": "x"}, token=tokens["access"]), 5)
        # Another user, from the same address, is not affected.
        response = self.server.request("GET", EVENTS, token=other["access"])
        self.assertEqual(response.status, 200, response)
        self.assertRemaining(response, 5, 4)
        # Unauthenticated requests are refused as before (401), not throttled.
        self.assertEqual(self.server.request("GET", EVENTS).status, 401)


@unittest.skipUnless(BEHIND_NGINX, "needs several instances behind nginx (nginx-pg topology)")
class SeveralInstancesTest(RateLimitAssertions, ServerTestCase):
    """3 failed logins per account per hour on each instance behind nginx: an attacker gets at
    least one quota and at most one per instance, then the same 429."""

    server_kwargs = {"rate_limits": True}
    server_args = limit_args(login_account="3/1h")

    def test_failed_logins_are_locked_within_one_quota_per_instance(self):
        _, user = self.server.register()
        quotas = 3 * len(self.server.instances)
        failures = 0
        while True:
            response = self.login(user["username"], "wrong password")
            if response.status != 401:
                break
            failures += 1
            self.assertLessEqual(failures, quotas, "more failed logins than the instances allow")
        self.assertThrottled(response, 3)
        self.assertGreaterEqual(failures, 3)
        if failures == quotas:  # every instance has counted its quota: refused wherever it lands
            self.assertThrottled(self.login(user["username"], user["password"]), 3)


class RateLimitsOffTest(RateLimitAssertions, unittest.TestCase):
    """`--rate-limits off` and ALMANAC_RATE_LIMITS=off turn every limit off, however small."""

    def exercise(self, server):
        _, user = server.register()
        for _ in range(4):
            self.assertEqual(self.login(user["username"], "wrong", server=server).status, 401)
        response = self.login(user["username"], user["password"], server=server)
        self.assertEqual(response.status, 200, response)
        self.assertIsNone(response.headers.get("RateLimit-Limit"))
        for _ in range(3):
            tokens, _ = server.register()
        for _ in range(4):
            response = server.request("GET", EVENTS, token=tokens["access"])
            self.assertEqual(response.status, 200, response)
            self.assertIsNone(response.headers.get("RateLimit-Limit"))

    def test_flag_turns_all_limits_off(self):
        args = [*limit_args("1/1h", "1/1h", "1/1h", "1/1h"), "--rate-limits", "off"]
        with Server(extra_args=args, rate_limits=True) as server:
            self.exercise(server)

    def test_environment_turns_all_limits_off(self):
        with Server(extra_args=limit_args("1/1h", "1/1h", "1/1h", "1/1h"), rate_limits=True,
                    env={"ALMANAC_RATE_LIMITS": "off"}) as server:
            self.exercise(server)


if __name__ == "__main__":
    unittest.main()
