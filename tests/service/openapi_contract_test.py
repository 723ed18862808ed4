#!/usr/bin/python3
"""Checks service/openapi.json against the running server (issue #5).

Starts `vesta serve` on 127.0.0.1 (an ephemeral port) over a fresh temporary
store with one metastore admin, then:
  1. checks the description itself: OpenAPI 3.1 structure, every $ref
     resolves, every schema is valid JSON Schema 2020-12, path parameters
     match the path templates, operation ids are unique, every operation
     has at least one example expecting 200;
  2. checks it covers the server both ways: every route registered in
     service/*.cc (the first argument of router.Get/Post/Put/Patch/Delete/
     RawGet) is an operation of the spec, and every operation is a route;
  3. sends every operation's x-vesta-examples, in their "order" (creates
     first, deletes last), and checks that each answer has the expected
     status, that the status is documented for the operation, that the body
     has the documented content type and validates against the documented
     schema (with the spec's components resolvable), and that each request
     body and query parameter validates against its documented schema.
     Examples are sent with the admin's token unless they name another
     ("token": e.g. a non-admin's, captured from an earlier answer);
  4. sends each authenticated operation once without a token: it must
     answer 401 in the documented error shape;
  5. checks GET /openapi.json returns the checked-in file byte for byte.

Uses only the standard library and Debian's python3-jsonschema (4.10); run
with /usr/bin/python3. Nothing but 127.0.0.1 is ever contacted (proxies are
disabled). The server is stopped with SIGTERM at the end, even on failure.

  openapi_contract_test.py --vesta build/tools/vesta --source-dir .
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request

import jsonschema
from jsonschema import Draft202012Validator

METHODS = ("get", "post", "put", "patch", "delete")


class Failures:
    def __init__(self):
        self.items = []

    def add(self, where, what):
        self.items.append(f"{where}: {what}")
        print(f"FAIL {where}: {what}", flush=True)


# --- The description itself ---------------------------------------------------


def resolve_pointer(doc, ref):
    if not ref.startswith("#/"):
        raise KeyError(f"only local references are used, got {ref}")
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[part]
    return node


def deref(spec, node):
    while isinstance(node, dict) and "$ref" in node and len(node) == 1:
        node = resolve_pointer(spec, node["$ref"])
    return node


def walk_refs(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield path, v
            else:
                yield from walk_refs(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk_refs(v, f"{path}/{i}")


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def check_spec(spec, fail):
    if not str(spec.get("openapi", "")).startswith("3.1"):
        fail.add("spec", f"openapi must be 3.1.x, got {spec.get('openapi')!r}")
    for key in ("info", "paths", "components"):
        if key not in spec:
            fail.add("spec", f"missing {key}")
    for where, ref in walk_refs(spec):
        try:
            resolve_pointer(spec, ref)
        except (KeyError, TypeError) as e:
            fail.add("spec" + where, f"$ref {ref} does not resolve ({e})")
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        try:
            Draft202012Validator.check_schema(schema)
        except jsonschema.exceptions.SchemaError as e:
            fail.add(f"components/schemas/{name}", f"not valid JSON Schema 2020-12: {e.message}")
    seen_ids = {}
    for path, method, op in operations(spec):
        where = f"{method.upper()} {path}"
        op_id = op.get("operationId")
        if not op_id:
            fail.add(where, "no operationId")
        elif op_id in seen_ids:
            fail.add(where, f"operationId {op_id} also used by {seen_ids[op_id]}")
        else:
            seen_ids[op_id] = where
        templated = set(re.findall(r"\{([^}]+)\}", path))
        declared = set()
        for p in op.get("parameters", []):
            p = deref(spec, p)
            if p.get("in") == "path":
                declared.add(p["name"])
                if not p.get("required"):
                    fail.add(where, f"path parameter {p['name']} must be required")
            try:
                Draft202012Validator.check_schema(p.get("schema", {}))
            except jsonschema.exceptions.SchemaError as e:
                fail.add(where, f"parameter {p.get('name')}: invalid schema: {e.message}")
        if templated != declared:
            fail.add(where, f"path parameters {sorted(declared)} do not match the template {sorted(templated)}")
        responses = op.get("responses", {})
        if "200" not in responses:
            fail.add(where, "no 200 response")
        for code, resp in responses.items():
            resp = deref(spec, resp)
            if code != "200":
                schema = resp.get("content", {}).get("application/json", {}).get("schema")
                if schema != {"$ref": "#/components/schemas/Error"}:
                    fail.add(where, f"response {code} must use the Error schema")
        examples = op.get("x-vesta-examples")
        if not isinstance(examples, list) or not examples:
            fail.add(where, "no x-vesta-examples")
        elif not any(e.get("status", 200) == 200 for e in examples):
            fail.add(where, "no example expecting 200")
    error = spec.get("components", {}).get("schemas", {}).get("Error", {})
    if error.get("additionalProperties") is not False or set(error.get("required", [])) != {"error_code", "message"}:
        fail.add("components/schemas/Error", "must be {error_code, message} with additionalProperties false")


# --- Routes in the source ---------------------------------------------------------

# A registration: on the Router (named `router` or `r` in service/*.cc), or on
# any receiver when the first argument is a path literal.
ROUTE_CALL = re.compile(r'\b(?:(?:router|r)\.(Get|Post|Put|Patch|Delete|RawGet)\(\s*'
                        r'|\w+(?:\.|->)(Get|Post|Put|Patch|Delete|RawGet)\(\s*(?="/))')


def first_argument(text, start):
    """The text of the call's first argument, starting at `start`."""
    depth, i, in_str = 0, start, False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return text[start:i].strip()
            depth -= 1
        elif c == "," and depth == 0:
            return text[start:i].strip()
        i += 1
    raise ValueError("unterminated call")


def string_constant(text, name):
    m = re.search(r"constexpr\s+char\s+" + re.escape(name) + r'\[\]\s*=\s*"([^"]*)"', text)
    return m.group(1) if m else None


def resolve_route(expr, text):
    """Evaluates a route argument: a literal, a constexpr char[] constant, or
    routes_indexes.cc's Route("suffix") helper."""
    m = re.fullmatch(r'"([^"]*)"', expr)
    if m:
        return m.group(1)
    m = re.fullmatch(r"[A-Za-z_]\w*", expr)
    if m:
        return string_constant(text, expr)
    m = re.fullmatch(r'Route\("([^"]*)"\)', expr)
    if m:
        helper = re.search(
            r"std::string\s+Route\(const std::string& suffix\)\s*\{\s*return\s+std::string\((\w+)\)\s*\+\s*"
            r'"([^"]*)"\s*\+\s*suffix;\s*\}',
            text,
        )
        if helper and string_constant(text, helper.group(1)) is not None:
            return string_constant(text, helper.group(1)) + helper.group(2) + m.group(1)
    return None


def source_routes(source_dir, fail):
    routes = set()
    service = os.path.join(source_dir, "service")
    for name in sorted(os.listdir(service)):
        if not name.endswith(".cc"):
            continue
        text = open(os.path.join(service, name), encoding="utf-8").read()
        for m in ROUTE_CALL.finditer(text):
            expr = first_argument(text, m.end())
            route = resolve_route(expr, text)
            if route is None:
                fail.add(f"service/{name}", f"cannot evaluate the route argument {expr!r} (teach resolve_route)")
                continue
            verb = m.group(1) or m.group(2)
            method = "get" if verb == "RawGet" else verb.lower()
            if (method, route) in routes:
                fail.add(f"service/{name}", f"{method.upper()} {route} registered twice (the second never runs)")
            routes.add((method, route))
    return routes


# --- The server ----------------------------------------------------------------------


class Server:
    def __init__(self, vesta, store, workdir):
        self.lines = []
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            env.pop(var, None)
        self.proc = subprocess.Popen(
            [vesta, "--store", store, "serve", "--listen", "127.0.0.1:0", "--threads", "2",
             "--index-dir", os.path.join(workdir, "indexes")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True, errors="replace")
        self.port = None
        ready = threading.Event()

        def drain():  # keeps the pipe from filling (the access log goes to stderr)
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                m = re.search(r"serving .* on http://127\.0\.0\.1:(\d+) ", line)
                if m and self.port is None:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        self.thread = threading.Thread(target=drain, daemon=True)
        self.thread.start()
        ready.wait(60)
        if self.port is None:
            self.stop()
            raise RuntimeError("vesta serve did not report its port:\n" + "\n".join(self.lines[-20:]))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(5)
        return self.proc.returncode


# Direct connections only: no proxy from the environment is ever used.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def send(port, method, path, query=None, body=None, token=None):
    url = f"http://127.0.0.1:{port}{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query, doseq=True)
    data = None
    headers = {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=data, method=method.upper(), headers=headers)
    try:
        with OPENER.open(req, timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
    except (urllib.error.URLError, OSError) as e:  # no answer (e.g. the server died): status 0
        return 0, {}, f"no answer: {e}".encode()


# --- Examples --------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def substitute(value, captured):
    """Replaces ${name} by a captured value: the value itself (any JSON type)
    when the string is exactly the placeholder, else its text."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return captured[whole.group(1)]
        return PLACEHOLDER.sub(lambda m: str(captured[m.group(1)]), value)
    if isinstance(value, list):
        return [substitute(v, captured) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, captured) for k, v in value.items()}
    return value


def query_text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return [query_text(x) for x in v]
    return str(v)


class Checker:
    def __init__(self, spec, spec_bytes, port, token, fail):
        self.spec, self.spec_bytes, self.port, self.token, self.fail = spec, spec_bytes, port, token, fail
        self.resolver = jsonschema.RefResolver.from_schema(spec)
        self.captured = {}

    def validate(self, schema, instance, where, what):
        errors = sorted(Draft202012Validator(schema, resolver=self.resolver).iter_errors(instance),
                        key=lambda e: list(e.absolute_path))
        for e in errors[:5]:
            loc = "/" + "/".join(str(p) for p in e.absolute_path)
            self.fail.add(where, f"{what} does not match its schema at {loc}: {e.message[:300]}")
        return not errors

    def parameters(self, op):
        return [deref(self.spec, p) for p in op.get("parameters", [])]

    def run_example(self, path, method, op, example):
        where = f"{method.upper()} {path} [order {example['order']}]"
        expected = example.get("status", 200)
        params = self.parameters(op)
        path_values = substitute(example.get("path", {}), self.captured)
        query = substitute(example.get("query", {}), self.captured)
        body = substitute(example["body"], self.captured) if "body" in example else None
        # The example request against the documented request shapes (only
        # examples meant to succeed: the others are wrong on purpose).
        for p in params:
            if p["in"] == "path" and p["name"] not in path_values:
                self.fail.add(where, f"example lacks path parameter {p['name']}")
                return
            if p["in"] == "query" and p.get("required") and p["name"] not in query:
                self.fail.add(where, f"example lacks required query parameter {p['name']}")
        known_query = {p["name"]: p for p in params if p["in"] == "query"}
        for name in query:
            if name not in known_query:
                self.fail.add(where, f"example sends undocumented query parameter {name}")
        if expected == 200:
            for p in params:
                source = path_values if p["in"] == "path" else query if p["in"] == "query" else {}
                if p["name"] in source:
                    self.validate(p.get("schema", {}), source[p["name"]], where, f"{p['in']} parameter {p['name']}")
            if body is not None:
                rb = op.get("requestBody")
                if rb is None:
                    self.fail.add(where, "example sends a body but the operation documents none")
                else:
                    self.validate(rb["content"]["application/json"]["schema"], body, where, "example request body")
            elif op.get("requestBody", {}).get("required"):
                self.fail.add(where, "the operation requires a body but the example has none")
        url_path = path
        for name, value in path_values.items():
            url_path = url_path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
        authed = op.get("security", self.spec.get("security", [])) != []
        token = substitute(example["token"], self.captured) if "token" in example else self.token
        status, headers, raw = send(self.port, method, url_path,
                                    {k: query_text(v) for k, v in query.items()}, body,
                                    token if authed else None)
        ok = self.check_answer(path, method, op, where, status, headers, raw, expected)
        if ok and status == 200:
            for name, pointer in example.get("capture", {}).items():
                try:
                    self.captured[name] = resolve_pointer(json.loads(raw), "#" + pointer)
                except (KeyError, IndexError, TypeError) as e:
                    self.fail.add(where, f"cannot capture {name} at {pointer}: {e}")
        if path == "/openapi.json" and status == 200 and raw != self.spec_bytes:
            self.fail.add(where, "the served description differs from the checked-in service/openapi.json")
        return status

    def check_answer(self, path, method, op, where, status, headers, raw, expected):
        text = raw.decode("utf-8", errors="replace")
        if status != expected:
            self.fail.add(where, f"expected {expected}, got {status}: {text[:400]}")
        responses = op["responses"]
        if str(status) not in responses:
            self.fail.add(where, f"status {status} is not documented for the operation: {text[:300]}")
            return False
        resp = deref(self.spec, responses[str(status)])
        content = resp.get("content", {})
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        media = ctype.split(";")[0].strip().lower()
        if media not in content:
            self.fail.add(where, f"content type {ctype!r} is not documented for {status} ({sorted(content)})")
            return False
        schema = content[media].get("schema", {})
        if media == "application/json":
            try:
                instance = json.loads(raw)
            except ValueError as e:
                self.fail.add(where, f"answer is not JSON ({e}): {text[:200]}")
                return False
        else:
            instance = text
            if media == "text/plain" and path == "/metrics":
                bad = [l for l in text.splitlines()
                       if l and not l.startswith("#") and not re.fullmatch(r"[a-zA-Z_:][\w:]*(\{.*\})? \S+", l)]
                if bad or "vesta_http_requests_total" not in text:
                    self.fail.add(where, f"not Prometheus text: {bad[:3]}")
        return self.validate(schema, instance, where, f"{status} answer") and status == expected

    def run_unauthenticated(self, path, method, op, example):
        where = f"{method.upper()} {path} [no token]"
        path_values = substitute(example.get("path", {}), self.captured)
        url_path = path
        for name, value in path_values.items():
            url_path = url_path.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
        status, headers, raw = send(self.port, method, url_path)
        self.check_answer(path, method, op, where, status, headers, raw, 401)
        if status == 401 and not any(k.lower() == "www-authenticate" for k in headers):
            self.fail.add(where, "401 without a WWW-Authenticate header")


# --- Main ----------------------------------------------------------------------------


def run(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vesta", required=True, help="the vesta CLI binary")
    ap.add_argument("--source-dir", required=True, help="the repository root (service/openapi.json, service/*.cc)")
    ap.add_argument("--spec", help="the description (default: <source-dir>/service/openapi.json)")
    args = ap.parse_args()
    spec_path = args.spec or os.path.join(args.source_dir, "service", "openapi.json")
    spec_bytes = open(spec_path, "rb").read()
    spec = json.loads(spec_bytes)
    fail = Failures()

    check_spec(spec, fail)

    documented = {(m, p) for p, m, _ in operations(spec)}
    registered = source_routes(args.source_dir, fail)
    for method, route in sorted(registered - documented):
        fail.add(f"{method.upper()} {route}", "registered in service/*.cc but not in the spec")
    for method, route in sorted(documented - registered):
        fail.add(f"{method.upper()} {route}", "in the spec but not registered in service/*.cc")

    with tempfile.TemporaryDirectory(prefix="vesta-openapi-") as workdir:
        store = os.path.join(workdir, "store.vesta")
        run([args.vesta, "--store", store, "--as", "alice", "init"], "vesta init")
        out = run([args.vesta, "--store", store, "admin", "bootstrap", "alice"], "vesta admin bootstrap")
        m = re.search(r"\b(vst_\S+)", out)
        if not m:
            raise RuntimeError("no token in the output of vesta admin bootstrap: " + out)
        token = m.group(1)
        server = Server(args.vesta, store, workdir)
        try:
            checker = Checker(spec, spec_bytes, server.port, token, fail)
            plan = []
            for path, method, op in operations(spec):
                for example in op.get("x-vesta-examples", []):
                    plan.append((example["order"], path, method, op, example))
            plan.sort(key=lambda x: x[0])
            orders = [p[0] for p in plan]
            if len(orders) != len(set(orders)):
                fail.add("spec", "x-vesta-examples orders must be unique")
            sent = 0
            for order, path, method, op, example in plan:
                try:
                    status = checker.run_example(path, method, op, example)
                except KeyError as e:  # a ${name} an earlier example failed to capture
                    fail.add(f"{method.upper()} {path} [order {order}]", f"nothing captured for ${{{e.args[0]}}}")
                    continue
                sent += 1
                print(f"{status} {method.upper():6} {path} [order {order}]", flush=True)
            unauth = 0
            for path, method, op in operations(spec):
                if op.get("security", spec.get("security", [])) != [] and op.get("x-vesta-examples"):
                    try:
                        checker.run_unauthenticated(path, method, op, op["x-vesta-examples"][0])
                    except KeyError as e:
                        fail.add(f"{method.upper()} {path} [no token]", f"nothing captured for ${{{e.args[0]}}}")
                        continue
                    unauth += 1
        finally:
            rc = server.stop()
        if rc != 0:
            fail.add("vesta serve", f"exited {rc} after SIGTERM: " + "\n".join(server.lines[-10:]))
        for line in server.lines:
            if '"unhandled_exception"' in line:
                fail.add("vesta serve", "logged " + line)

    ops = len(documented)
    print(f"{ops} operations, {len(registered)} routes registered, {sent} examples sent, "
          f"{unauth} unauthenticated requests; {len(fail.items)} failures")
    if fail.items:
        print("\n".join(fail.items))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
