"""The interactive documentation over HTTP (issue 9): GET /api/docs/ and the fixed list of files it
loads, public, with their Content-Type, Cache-Control and (on the page) Content-Security-Policy;
nothing else under /api/docs/. The browser test is tests/browser/test_swagger_ui.py."""

import os
import unittest

from harness import ServerTestCase

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

# path -> (media type, Cache-Control, the file it must serve byte for byte)
FILES = {
    "/api/docs/": ("text/html", "no-cache", "docs/swagger-ui/index.html"),
    "/api/docs/swagger-initializer.js": ("application/javascript", "no-cache",
                                         "docs/swagger-ui/swagger-initializer.js"),
    "/api/docs/swagger-ui.css": ("text/css", "public, max-age=86400",
                                 "third_party/swagger-ui-dist/swagger-ui.css"),
    "/api/docs/swagger-ui-bundle.js": ("application/javascript", "public, max-age=86400",
                                       "third_party/swagger-ui-dist/swagger-ui-bundle.js"),
}


def read_source(relative):
    with open(os.path.join(ROOT, relative), "rb") as f:
        return f.read()


class DocsTest(ServerTestCase):

    def test_every_file_is_public_with_its_type_and_cache_policy(self):
        for path, (media_type, cache_control, source) in FILES.items():
            with self.subTest(path=path):
                response = self.server.request("GET", path)
                self.assertEqual(response.status, 200, response)
                self.assertEqual(response.media_type(), media_type, response)
                self.assertIn("charset=utf-8", response.headers.get("Content-Type").lower())
                self.assertEqual(response.headers.get("Cache-Control"), cache_control)
                self.assertEqual(response.headers.get("X-Content-Type-Options"), "nosniff")
                self.assertEqual(response.body, read_source(source))

    def test_page_has_a_policy_for_swagger_ui(self):
        response = self.server.request("GET", "/api/docs/")
        directives = {}
        for directive in response.headers.get("Content-Security-Policy", "").split(";"):
            name, _, value = directive.strip().partition(" ")
            directives[name] = value
        self.assertEqual(directives.get("default-src"), "'none'", directives)
        self.assertEqual(directives.get("script-src"), "'self'", directives)  # no inline, no eval
        self.assertEqual(directives.get("connect-src"), "'self'", directives)
        self.assertEqual(directives.get("frame-ancestors"), "'none'", directives)
        self.assertIn("/api/schema/", read_source("docs/swagger-ui/swagger-initializer.js").decode())

    def test_page_is_served_without_its_trailing_slash_and_ignores_a_bad_token(self):
        for path in ("/api/docs", "/api/docs/swagger-ui.css/"):
            with self.subTest(path=path):
                self.assertEqual(self.server.request("GET", path).status, 200)
        response = self.server.request("GET", "/api/docs/", token="not-a-token")
        self.assertEqual(response.status, 200, response)

    def test_anything_else_under_docs_is_404_json(self):
        for path in ("/api/docs/index.html", "/api/docs/swagger-ui.js", "/api/docs/favicon.ico",
                     "/api/docs/swagger-ui-bundle.js.map", "/api/docs/../schema/",
                     "/api/docs/%2e%2e/schema/", "/api/docs/..%2fdocs/swagger-ui.css",
                     "/api/docs//swagger-ui.css", "/api/docs/swagger-ui.css/x",
                     "/api/docs/LICENSE", "/api/docs/README.md"):
            with self.subTest(path=path):
                self.assertErrorBody(self.server.request("GET", path), 404, "not_found")

    def test_other_methods_are_405(self):
        response = self.server.request("POST", "/api/docs/", {})
        self.assertErrorBody(response, 405, "method_not_allowed")
        self.assertEqual(response.headers.get("Allow"), "GET")


if __name__ == "__main__":
    unittest.main()
