#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/seed-*) from the examples of
docs/openapi.yaml. Run by hand after the API document changes, and commit the result; needs
Debian's python3-yaml (CTest and `make fuzz` only read the committed files).

  http        one request per operation: each request-body example, the parameter examples in
              the query string and headers, the path ids of the fuzzer's baseline (event 1 of
              alice, shared with bob, two versions), alice's access token where the operation is
              secured; plus a few pipelined sequences (create, then read back).
  event_json  the request-body examples that are events (create, update, batch items).
  jwt         the tokens in the document and tokens signed with the fuzz key for users 1-3.
  time        every string in the document that looks like a date and time.
Seeds are named after a hash of their content, so rerunning only adds or removes files.
"""
import base64
import hashlib
import hmac
import json
import pathlib
import re
import shutil

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"

# As in fuzz/http_fuzzer.cpp and fuzz/jwt_fuzzer.cpp.
SECRET = b"almanac-fuzz-secret-not-for-production-use"
NOW = 1767225600
# Path ids that exist in the http fuzzer's baseline.
PATH_IDS = {"id": "1", "history_id": "1", "old_version_id": "1", "new_version_id": "2",
            "user_id": "2"}
USERS = {1: "alice", 2: "bob", 3: "carol"}


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims):
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def token(user_id, kind="access"):
    # SimpleJWT's claim order: token_type, exp, iat, jti, user_id.
    return sign({"token_type": kind, "exp": NOW + 10 * 365 * 24 * 3600, "iat": NOW,
                 "jti": f"fuzz-{USERS[user_id]}-{kind}", "user_id": user_id})


def resolve(document, node):
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def body_examples(document, operation):
    body = resolve(document, operation.get("requestBody", {}))
    media = body.get("content", {}).get("application/json", {})
    examples = [resolve(document, e).get("value") for e in media.get("examples", {}).values()]
    if "example" in media:
        examples.append(media["example"])
    return [e for e in examples if e is not None]


def parameter_examples(document, parameters):
    found = []
    for parameter in parameters:
        parameter = resolve(document, parameter)
        values = []
        if "example" in parameter:
            values.append(parameter["example"])
        values += [resolve(document, e).get("value") for e in parameter.get("examples", {}).values()]
        values += parameter.get("schema", {}).get("examples", [])
        for value in values:
            if value is not None:
                found.append((parameter["in"], parameter["name"], value))
    return found


def text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def http_request(method, target, bearer=None, body=None, headers=()):
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost"]
    if bearer:
        lines.append(f"Authorization: Bearer {bearer}")
    lines += [f"{name}: {value}" for name, value in headers]
    payload = b""
    if body is not None:
        payload = json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def http_seeds(document):
    seeds = []
    alice = token(1)
    for path, operations in document["paths"].items():
        shared = operations.get("parameters", [])
        target = re.sub(r"\{(\w+)\}", lambda m: PATH_IDS[m.group(1)], path)
        for method, operation in operations.items():
            if method == "parameters":
                continue
            secured = operation.get("security", document.get("security")) != []
            bearer = alice if secured else None
            parameters = parameter_examples(document, shared + operation.get("parameters", []))
            query = "&".join(f"{name}={text(value)}" for where, name, value in parameters
                             if where == "query")
            headers = [(name, text(value)) for where, name, value in parameters
                       if where == "header"]
            full_target = f"{target}?{query}" if query else target
            bodies = body_examples(document, operation) or [None]
            for body in bodies:
                seeds.append(http_request(method.upper(), target, bearer, body))
                if query or headers:
                    seeds.append(http_request(method.upper(), full_target, bearer, body, headers))
    # Pipelined: bob creates, lists, reads back and edits; carol is refused alice's event.
    bob, carol = token(2), token(3)
    event = {"title": "Pipelined", "start_time": "2026-02-01 10:00", "end_time": "2026-02-01 11:00"}
    seeds.append(b"".join([
        http_request("POST", "/api/events/", bob, event),
        http_request("GET", "/api/events/?page=1&page_size=5&ordering=-start_time", bob),
        http_request("GET", "/api/events/2/", bob),
        http_request("PATCH", "/api/events/2/", bob, {"location": "Room 2"},
                     [("If-Match", '"2"')]),
        http_request("GET", "/api/events/2/diff/3/4/", bob),
    ]))
    seeds.append(http_request("GET", "/api/events/1/", carol))
    seeds.append(http_request("POST", "/api/auth/refresh/", None,
                              {"refresh": token(1, "refresh")}))
    seeds.append(http_request("POST", "/api/auth/logout/", None,
                              {"refresh": token(2, "refresh")}))
    seeds.append(http_request("POST", "/api/auth/login/", None,
                              {"username": "alice", "password": "correct horse battery staple"}))
    chunked = (b"POST /api/events/1/share/ HTTP/1.1\r\nHost: localhost\r\n"
               b"Authorization: Bearer " + alice.encode() +
               b"\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"10\r\n{\"users\":[{\"use\r\n1d\r\nr_id\":3,\"role\":\"VIEWER\"}]}\r\n0\r\n\r\n")
    seeds.append(chunked)
    return seeds


def walk_strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from walk_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_strings(value)
    elif isinstance(node, str):
        yield node


def is_event(body):
    return isinstance(body, dict) and bool({"title", "start_time", "end_time"} & set(body))


def main():
    document = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
    corpora = {"http": http_seeds(document), "event_json": [], "jwt": [], "time": []}

    for operations in document["paths"].values():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for body in body_examples(document, operation):
                items = body if isinstance(body, list) else body.get("events", [body]) \
                    if isinstance(body, dict) else []
                for item in items if isinstance(items, list) else []:
                    if is_event(item):
                        corpora["event_json"].append(json.dumps(item).encode())

    strings = set(walk_strings(document))
    time_pattern = re.compile(r"^\d{4}-\d{2}-\d{2}[ Tt]\d{1,2}:\d{2}")
    corpora["time"] = [s.encode() for s in sorted(strings) if time_pattern.match(s)]
    corpora["jwt"] = [s.encode() for s in sorted(strings) if s.startswith("eyJ") and s.count(".") == 2]
    corpora["jwt"] += [token(user, kind).encode() for user in USERS for kind in ("access", "refresh")]

    for name, seeds in corpora.items():
        directory = CORPUS / name
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("seed-*"):
            old.unlink()
        for seed in seeds:
            (directory / f"seed-{hashlib.sha1(seed).hexdigest()[:16]}").write_bytes(seed)
        print(f"{name}: {len(set(seeds))} seeds")


if __name__ == "__main__":
    main()
