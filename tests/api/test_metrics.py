"""GET /metrics: the Prometheus text exposition format 0.0.4, read by a strict small parser, with
figures that agree with the requests the test made.

Several instances (the nginx-pg topology) are scraped one by one, as Prometheus would, and their
figures summed: the sums must agree with the requests made through nginx."""

import math
import re
import unittest

from harness import Server, unique_name

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_RE = re.compile(rf"^({NAME})(?:\{{({LABEL}(?:,{LABEL})*)?\}})? (\S+)$")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
HELP_RE = re.compile(rf"^# HELP ({NAME}) (.*)$")
TYPE_RE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")


def parse_value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf"))
    if not re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text):
        raise AssertionError(f"not a sample value: {text!r}")
    return float(text)


def parse_metrics(text):
    """Parses the text format strictly: every line is `# HELP`, `# TYPE` or `name{labels} value`;
    every sample belongs to a family whose TYPE came first (histograms through _bucket, _sum and
    _count); no series twice. Returns ({family: type}, {(name, frozenset(labels)): value})."""
    if not text.endswith("\n"):
        raise AssertionError("the exposition does not end with a newline")
    types, helps, samples = {}, {}, {}
    for number, line in enumerate(text[:-1].split("\n"), 1):
        where = f"line {number}: {line!r}"
        if line.startswith("#"):
            help_match, type_match = HELP_RE.match(line), TYPE_RE.match(line)
            if help_match:
                if help_match.group(1) in helps:
                    raise AssertionError(f"second HELP, {where}")
                helps[help_match.group(1)] = help_match.group(2)
            elif type_match:
                if type_match.group(1) in types:
                    raise AssertionError(f"second TYPE, {where}")
                types[type_match.group(1)] = type_match.group(2)
            else:
                raise AssertionError(f"a comment other than HELP/TYPE, {where}")
            continue
        match = SAMPLE_RE.match(line)
        if not match:
            raise AssertionError(f"not a sample, {where}")
        name, label_text, value = match.groups()
        labels = LABEL_RE.findall(label_text or "")
        if len({key for key, _ in labels}) != len(labels):
            raise AssertionError(f"a label twice, {where}")
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[: -len(suffix)]
            if name.endswith(suffix) and types.get(base) == "histogram":
                family = base
        if family not in types:
            raise AssertionError(f"a sample before its TYPE, {where}")
        if types[family] == "histogram" and family == name:
            raise AssertionError(f"a histogram sample without _bucket/_sum/_count, {where}")
        if name.endswith("_bucket") and family != name and "le" not in dict(labels):
            raise AssertionError(f"a bucket without le, {where}")
        key = (name, frozenset(labels))
        if key in samples:
            raise AssertionError(f"a series twice, {where}")
        samples[key] = parse_value(value)
    return types, samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def histograms(types, samples):
    """{(family, frozenset(labels without le)): {"buckets": [(le, count)], "sum", "count"}}."""
    result = {}
    for (name, labels), sample in samples.items():
        for suffix in ("_bucket", "_sum", "_count"):
            family = name[: -len(suffix)]
            if not name.endswith(suffix) or types.get(family) != "histogram":
                continue
            series_labels = dict(labels)
            le = series_labels.pop("le", None)
            entry = result.setdefault((family, frozenset(series_labels.items())),
                                      {"buckets": [], "sum": None, "count": None})
            if suffix == "_bucket":
                entry["buckets"].append((parse_value(le), sample))
            else:
                entry[suffix[1:]] = sample
    return result


class MetricsTest(unittest.TestCase):

    def check_histograms(self, types, samples):
        found = histograms(types, samples)
        self.assertTrue(found)
        for key, entry in found.items():
            buckets = sorted(entry["buckets"])
            self.assertTrue(buckets, key)
            self.assertEqual(buckets[-1][0], math.inf, key)
            counts = [count for _, count in buckets]
            self.assertEqual(counts, sorted(counts), f"buckets not cumulative: {key}")
            self.assertIsNotNone(entry["sum"], key)
            self.assertEqual(entry["count"], counts[-1], f"+Inf != _count: {key}")
        return found

    def scrape(self, server):
        """Scrapes every instance directly, checks each exposition, returns the types and the
        samples summed over the instances."""
        summed = {}
        for instance in server.instances:
            response = instance.request("GET", "/metrics")
            self.assertEqual(response.status, 200, response)
            self.assertEqual(response.headers.get("Content-Type"),
                             "text/plain; version=0.0.4; charset=utf-8")
            types, samples = parse_metrics(response.body.decode("utf-8"))
            self.check_histograms(types, samples)
            for key, sample in samples.items():
                summed[key] = summed.get(key, 0.0) + sample
        return types, summed

    def test_figures_follow_the_traffic(self):
        args = ["--rate-limit-register-address", "1/1h"]
        with Server(extra_args=args, rate_limits=True) as server:
            _, before = self.scrape(server)

            tokens, _ = server.register()
            # Each instance keeps its own count (README: with N instances a client may get up to
            # N times a quota): register until refused, at most once more per other instance.
            instances = len(server.instances)
            sqlite = not server.pg_database
            registered = 1
            while True:
                refused = server.request("POST", "/api/auth/register/",
                                         {"username": unique_name(), "email": "x@example.com",
                                          "password": "pw-0123456789"})
                if refused.status != 201:
                    break
                registered += 1
                self.assertLessEqual(registered, instances, "more registrations than quotas")
            self.assertEqual(refused.status, 429, refused)
            token = tokens["access"]
            for _ in range(2):
                self.assertEqual(server.request("GET", "/api/events/", token=token).status, 200)
            created = server.request("POST", "/api/events/", token=token, body={
                "title": "metrics", "start_time": "2030-01-01 10:00",
                "end_time": "2030-01-01 11:00"})
            self.assertEqual(created.status, 201, created)
            self.assertEqual(server.request("GET", "/api/events/999999/", token=token).status, 404)
            self.assertEqual(server.request("GET", "/no/such/path").status, 404)

            types, after = self.scrape(server)

        self.assertEqual(types["almanac_http_requests_total"], "counter")
        self.assertEqual(types["almanac_http_request_duration_seconds"], "histogram")
        self.assertEqual(types["almanac_http_requests_in_flight"], "gauge")
        self.assertEqual(types["almanac_db_commit_duration_seconds"], "histogram")
        self.assertEqual(types["almanac_db_group_commit_size"], "histogram")
        self.assertEqual(types["almanac_password_hash_queue_depth"], "gauge")
        self.assertEqual(types["almanac_rate_limit_rejections_total"], "counter")
        self.assertEqual(types["almanac_db_write_retries_total"], "counter")

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        requests = "almanac_http_requests_total"
        expected = {("/api/auth/register/", "201"): registered, ("/api/auth/register/", "429"): 1,
                    ("/api/events/", "200"): 2, ("/api/events/", "201"): 1,
                    ("/api/events/{id}/", "404"): 1, ("unmatched", "404"): 1,
                    # the first scrape of each instance; this one is still in flight
                    ("/metrics", "200"): instances}
        for (route, status), count in expected.items():
            self.assertEqual(delta(requests, route=route, status=status), count, (route, status))
        # Nothing else happened but the harness's readiness checks (before the first scrape).
        counted = {dict(labels)["route"] for (name, labels), _ in after.items() if name == requests}
        self.assertEqual(counted, {"/healthz"} | {route for route, _ in expected})

        latency = "almanac_http_request_duration_seconds_count"
        self.assertEqual(delta(latency, route="/api/events/"), 3)
        self.assertEqual(delta(latency, route="unmatched"), 1)
        # Each scrape itself.
        self.assertEqual(value(after, "almanac_http_requests_in_flight"), instances)

        # The write jobs (the registrations and the event): gathered into one group commit or
        # more on SQLite, one transaction each on PostgreSQL. One request at a time: no retries.
        jobs = registered + 1
        self.assertEqual(delta("almanac_db_group_commit_size_sum"), jobs)
        commits = (jobs,) if not sqlite else tuple(range(1, jobs + 1))
        self.assertIn(delta("almanac_db_group_commit_size_count"), commits)
        self.assertEqual(delta("almanac_db_commit_duration_seconds_count"),
                         delta("almanac_db_group_commit_size_count"))
        self.assertGreater(delta("almanac_db_commit_duration_seconds_sum"), 0)
        for reason in ("serialization", "connection_lost"):
            self.assertEqual(value(after, "almanac_db_write_retries_total", reason=reason), 0)

        self.assertEqual(value(after, "almanac_password_hash_queue_depth"), 0)
        rejections = "almanac_rate_limit_rejections_total"
        self.assertEqual(delta(rejections, limit="register_address"), 1)
        for limit in ("login_account", "login_address", "user"):
            self.assertEqual(value(after, rejections, limit=limit), 0, limit)

    def test_metrics_off_is_not_found(self):
        with Server(extra_args=["--metrics", "off"]) as server:
            response = server.request("GET", "/metrics")
            self.assertEqual(response.status, 404, response)


class ParserTest(unittest.TestCase):
    """The parser refuses what the format does not allow, so that passing it means something."""

    def test_refuses_malformed_lines(self):
        for text in ("# TYPE a counter\na 1 2 3\n", "a 1\n", "# TYPE a counter\na{b=c} 1\n",
                     "# comment\n", "# TYPE a counter\na 1", "# TYPE a counter\na 1\na 2\n",
                     "# TYPE h histogram\nh 1\n"):
            with self.subTest(text=text), self.assertRaises(AssertionError):
                parse_metrics(text)

    def test_reads_labels_and_histograms(self):
        types, samples = parse_metrics(
            '# HELP h x\n# TYPE h histogram\nh_bucket{r="a\\"b",le="1"} 2\n'
            'h_bucket{r="a\\"b",le="+Inf"} 3\nh_sum{r="a\\"b"} 4.5\nh_count{r="a\\"b"} 3\n')
        self.assertEqual(types, {"h": "histogram"})
        entry = histograms(types, samples)[("h", frozenset({("r", 'a\\"b')}))]
        self.assertEqual(sorted(entry["buckets"]), [(1.0, 2.0), (math.inf, 3.0)])
        self.assertEqual((entry["sum"], entry["count"]), (4.5, 3.0))


if __name__ == "__main__":
    unittest.main()
