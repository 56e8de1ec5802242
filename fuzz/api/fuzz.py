#!/usr/bin/env python3
"""Fuzz Tier0's JSON API with schemathesis against its own OpenAPI document.

Started by fuzz/api/run.sh (which finds the binary and schemathesis). For each
database backend it starts a fresh `tier0 serve` on 127.0.0.1, registers the
first admin, invites a requester (and a second requester and an agent, so
there are other people's records about), seeds a little data so id-taking
routes have real ids to hit, then runs schemathesis as:

  1. anonymous   no credentials at all
  2. requester   Authorization: Bearer <requester token>
  3. admin       Authorization: Bearer <admin token>
  4. tails       the operations that end or change the session used for a
                 run (logout, revoking one's sessions, password and TOTP
                 changes), each with a throwaway session of the requester
                 and of the admin; last, the portal settings, which can hide
                 whole sections of the API.

Any schemathesis failure, any 5xx, any `internal error` or panic in the
server log fails the run (exit 1). Reports and logs are kept under
fuzz/api/artifacts/<backend>/.

Environment:
  TIER0_BIN                 the tier0 binary (run.sh sets it)
  TIER0_FUZZ_MAX_EXAMPLES   cases per operation and phase (default 25)
  TIER0_FUZZ_SEED           hypothesis seed (default 20261204)
  TIER0_FUZZ_POSTGRES_URL   e.g. postgres://postgres@127.0.0.1:5432: also
                            run against a fresh PostgreSQL database there
  TIER0_FUZZ_EXTRA_CHECKS   comma-separated checks to add for a one-off look
  TIER0_FUZZ_ONLY           comma-separated runs to do (e.g. admin,requester-peers)
  TIER0_FUZZ_WORKERS        schemathesis workers (default 1: with more,
                            hypothesis sometimes fails on its own with
                            "AST constructor recursion depth mismatch")
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
PASSWORD = "correct horse battery staple 42"
MAX_EXAMPLES = int(os.environ.get("TIER0_FUZZ_MAX_EXAMPLES", "25"))
SEED = int(os.environ.get("TIER0_FUZZ_SEED", "20261204"))
WORKERS = os.environ.get("TIER0_FUZZ_WORKERS", "1")
ONLY = [x for x in os.environ.get("TIER0_FUZZ_ONLY", "").split(",") if x]

# What every run checks. `positive_data_acceptance` is left out on purpose:
# it expects every schema-valid value to be accepted, but much of the
# validation cannot be said in JSON Schema (a single-use token, a cursor the
# server issued, an id that must exist, "ends after it starts").
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
]
# More checks for a one-off look, e.g. TIER0_FUZZ_EXTRA_CHECKS=positive_data_acceptance.
CHECKS += [c for c in os.environ.get("TIER0_FUZZ_EXTRA_CHECKS", "").split(",") if c]

# Operations that end or change the session a run uses. They are not left
# out: each runs afterwards in a pass of its own, with a throwaway session.
SESSION_ENDERS = [
    # Revokes the caller's session: everything after it would be a 401.
    ("POST", "/api/auth/logout"),
    # Given the ids from GET /api/me/sessions it revokes real ones,
    # including the caller's own.
    ("DELETE", "/api/me/sessions/{id}"),
]
# Where those ids come from, for the pass that revokes sessions.
SESSION_LISTING = [("GET", "/api/me/sessions")]
ACCOUNT_CHANGERS = [
    # A change revokes the other sessions; TOTP would require codes at sign-in.
    ("POST", "/api/me/password"),
    ("POST", "/api/me/totp/setup"),
    ("POST", "/api/me/totp/enable"),
    ("POST", "/api/me/totp/disable"),
]
# Hiding a portal section turns its whole API into 404s for everyone, which
# would starve the rest of a run of meaningful responses: run it last.
GLOBAL_CHANGERS = [
    ("PUT", "/api/settings/portal"),
]


def log(msg: str) -> None:
    print(msg, flush=True)


# ---- HTTP -----------------------------------------------------------------------


class Api:
    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body: object = None, expect: int | None = None) -> object:
        headers = {"accept": "application/json"}
        data = None
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        if body is not None:
            headers["content-type"] = "application/json"
            data = json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        if expect is not None and status != expect:
            raise RuntimeError(f"{method} {path}: expected {expect}, got {status}: {text}")
        return json.loads(text) if text else None


# ---- The server -------------------------------------------------------------------


class Server:
    def __init__(self, binary: str, name: str, database_url: str | None) -> None:
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"tier0-fuzz-{name}-"))
        self.log_path = ARTIFACTS / name / "server.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        args = [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(self.dir / "data")]
        if database_url:
            args += ["--database-url", database_url]
        # The server reads TIER0_* as its own settings: pass none of the
        # runner's (and no SMTP: invite links are returned instead).
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIER0_")}
        env["TIER0_LOG"] = os.environ.get("TIER0_LOG", "warn")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=self.log_file, env=env, text=True, bufsize=1
        )
        self.port = self._wait_for_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + 60
        seen = []
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"tier0 exited ({self.proc.returncode}):\n{''.join(seen)}")
                time.sleep(0.05)
                continue
            seen.append(line)
            m = re.search(r"running at https?://[^:\s/]+:(\d+)", line)
            if m:
                # Keep draining stdout: the server must never block on, or
                # fail writing to, a full or closed pipe.
                self.log_file.write("".join(seen))
                threading.Thread(target=self._drain, daemon=True).start()
                return int(m.group(1))
        raise RuntimeError(f"tier0 did not start in time:\n{''.join(seen)}")

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log_file.write(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def problems_in_log(self) -> list[str]:
        text = self.log_path.read_text(errors="replace")
        return [
            line
            for line in text.splitlines()
            if "internal error" in line or "panicked" in line or re.search(r"status=5\d\d", line)
        ]


# ---- Seed data ----------------------------------------------------------------------


def seed(base: str) -> dict:
    """Users, sessions and one of each record, returned as ids and tokens."""
    anon = Api(base)
    reg = anon.call(
        "POST",
        "/api/auth/register",
        {"email": "admin@fuzz.example", "password": PASSWORD, "name": "Fuzz Admin"},
        201,
    )
    admin = Api(base, reg["token"])
    admin_id = reg["user"]["id"]

    def signup(email: str, name: str, role: str | None = None) -> dict:
        body = {"email": email} if role is None else {"email": email, "role": role}
        inv = admin.call("POST", "/api/auth/invite", body, 201)
        query = urllib.parse.urlparse(inv["invite_url"]).query
        token = urllib.parse.parse_qs(query)["token"][0]
        return anon.call(
            "POST", "/api/auth/signup-exchange", {"token": token, "password": PASSWORD, "name": name}, 201
        )

    req = signup("requester@fuzz.example", "Fuzz Requester")
    requester = Api(base, req["token"])
    requester_id = req["user"]["id"]
    other = signup("other@fuzz.example", "Other Requester")
    agent = signup("agent@fuzz.example", "Fuzz Agent", "fulfiller")

    def login(email: str) -> str:
        return anon.call("POST", "/api/auth/login", {"email": email, "password": PASSWORD}, 200)["token"]

    # Throwaway sessions for the passes that end or change a session.
    spare = {
        who: [login(email) for _ in range(3)]
        for who, email in (("requester", "requester@fuzz.example"), ("admin", "admin@fuzz.example"))
    }

    category = admin.call(
        "POST", "/api/itsm/catalog/categories", {"name": "Hardware", "description": "Laptops and phones"}, 201
    )
    role = admin.call("POST", "/api/roles", {"name": "auditor", "permissions": ["audit:read"]}, 201)
    workflow = admin.call(
        "POST",
        "/api/itsm/workflows",
        {"name": "Manager approval", "stages": [{"approvers": {"users": [admin_id], "roles": []}, "rule": "any"}]},
        201,
    )
    item = admin.call(
        "POST",
        "/api/itsm/catalog",
        {
            "name": "New laptop",
            "description": "A standard laptop",
            "category_id": category["id"],
            "fields": [{"key": "model", "label": "Model", "type": "text", "required": False}],
            "fulfillment_target_hours": 48,
        },
        201,
    )
    approval_item = admin.call(
        "POST",
        "/api/itsm/catalog",
        {"name": "Software licence", "category_id": category["id"], "workflow_definition_id": workflow["id"]},
        201,
    )
    request = requester.call(
        "POST",
        "/api/itsm/requests",
        {"title": "My laptop will not boot", "details": "Black screen", "catalog_item_id": item["id"]},
        201,
    )
    approval_request = requester.call(
        "POST", "/api/itsm/requests", {"title": "Need a licence", "catalog_item_id": approval_item["id"]}, 201
    )
    other_request = Api(base, other["token"]).call(
        "POST", "/api/itsm/requests", {"title": "Someone else's request"}, 201
    )
    comment = requester.call(
        "POST", f"/api/itsm/requests/{request['id']}/comments", {"body": "Still broken"}, 201
    )
    admin.call("POST", f"/api/itsm/requests/{request['id']}/comments", {"body": "Looking into it"}, 201)
    attachment = upload(base, req["token"], request["id"])
    incident = admin.call(
        "POST", "/api/itsm/incidents", {"title": "E-mail is down", "source_request_id": request["id"]}, 201
    )
    article = admin.call(
        "POST",
        "/api/itsm/kb/articles",
        {
            "title": "Reset your password",
            "body_markdown": "Open **Profile** and choose *Change password*.",
            "category": "Accounts",
            "tags": ["password"],
            "status": "published",
        },
        201,
    )
    draft = admin.call("POST", "/api/itsm/kb/articles", {"title": "Draft: VPN", "body_markdown": "Soon."}, 201)
    known_error = admin.call(
        "POST",
        "/api/itsm/kb/known-errors",
        {"title": "VPN drops", "symptoms": "Disconnects hourly", "workaround": "Reconnect", "public": True},
        201,
    )
    service = admin.call("POST", "/api/itsm/status/services", {"name": "E-mail"}, 201)
    maintenance = admin.call(
        "POST",
        "/api/itsm/status/maintenance",
        {
            "title": "Mail server upgrade",
            "starts_at": "2030-01-01T10:00:00Z",
            "ends_at": "2030-01-01T12:00:00Z",
            "service_ids": [service["id"]],
        },
        201,
    )
    note = admin.call("POST", "/api/itsm/status/notes", {"service_id": service["id"], "body": "Investigating"}, 201)
    announcement = admin.call("POST", "/api/itsm/announcements", {"body": "Office closed on Friday"}, 201)
    approvals = admin.call("GET", "/api/itsm/approvals?state=pending", None, 200)["items"]
    notifications = requester.call("GET", "/api/notifications", None, 200)["items"]
    roles = admin.call("GET", "/api/roles", None, 200)
    return {
        "tokens": {"admin": reg["token"], "requester": req["token"], "other": other["token"]},
        "spare": spare,
        "ids": {
            "user": [admin_id, requester_id, other["user"]["id"], agent["user"]["id"]],
            "role": [r["id"] for r in roles] + [role["id"]],
            "custom_role": [role["id"]],
            "category": [category["id"]],
            "item": [item["id"], approval_item["id"]],
            "workflow": [workflow["id"]],
            "request": [request["id"], approval_request["id"], other_request["id"]],
            "comment": [comment["id"]],
            "attachment": [attachment["id"]],
            "incident": [incident["id"]],
            "article": [article["id"], draft["id"]],
            "known_error": [known_error["id"]],
            "service": [service["id"]],
            "maintenance": [maintenance["id"]],
            "note": [note["id"]],
            "announcement": [announcement["id"]],
            "approval": [a["id"] for a in approvals] or ["none"],
            "notification": [n["id"] for n in notifications] or ["none"],
        },
    }


def upload(base: str, token: str, request_id: str) -> dict:
    boundary = "fuzz" + secrets.token_hex(8)
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"screen.txt\"\r\n"
        f"Content-Type: text/plain\r\n\r\nblack screen\r\n--{boundary}--\r\n"
    ).encode()
    req = urllib.request.Request(
        f"{base}/api/itsm/requests/{request_id}/attachments",
        data=body,
        method="POST",
        headers={"authorization": f"Bearer {token}", "content-type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read().decode())


# ---- schemathesis -----------------------------------------------------------------------

# Path (regex on the templated path) -> {parameter: id kind}. A real id is
# used about half the time; the other half schemathesis makes one up.
ID_BINDINGS = [
    (r"^/api/users/\{id\}$", {"path.id": "user"}),
    (r"^/api/roles/\{id\}$", {"path.id": "custom_role"}),
    (r"^/api/rbac/role-permissions$", {"query.role_id": "role"}),
    (r"^/api/itsm/catalog/categories/\{id\}$", {"path.id": "category"}),
    (r"^/api/itsm/catalog/\{id\}$", {"path.id": "item"}),
    (r"^/api/itsm/catalog$", {"query.category_id": "category"}),
    (r"^/api/itsm/workflows/\{id\}$", {"path.id": "workflow"}),
    (r"^/api/itsm/requests/\{id\}(/comments|/transition|/watchers)?$", {"path.id": "request"}),
    (r"^/api/itsm/requests/\{id\}/attachments$", {"path.id": "request"}),
    (r"^/api/itsm/requests/\{id\}/attachments/\{aid\}$", {"path.id": "request", "path.aid": "attachment"}),
    (r"^/api/itsm/requests/\{id\}/watchers/\{user_id\}$", {"path.id": "request", "path.user_id": "user"}),
    (r"^/api/itsm/incidents/\{id\}$", {"path.id": "incident"}),
    (r"^/api/itsm/kb/articles/\{id\}", {"path.id": "article"}),
    (r"^/api/itsm/kb/known-errors/\{id\}", {"path.id": "known_error"}),
    (r"^/api/itsm/status/services/\{id\}$", {"path.id": "service"}),
    (r"^/api/itsm/status/maintenance/\{id\}$", {"path.id": "maintenance"}),
    (r"^/api/itsm/status/notes/\{id\}$", {"path.id": "note"}),
    (r"^/api/itsm/status/notes$", {"query.service_id": "service"}),
    (r"^/api/itsm/announcements/\{id\}$", {"path.id": "announcement"}),
    (r"^/api/announcements/\{id\}/dismiss$", {"path.id": "announcement"}),
    (r"^/api/itsm/approvals/\{id\}$", {"path.id": "approval"}),
    (r"^/api/notifications/\{id\}/read$", {"path.id": "notification"}),
]


def toml_str(s: str) -> str:
    return json.dumps(s)


def write_config(path: Path, ids: dict, wfc: Path | None = None) -> None:
    lines = [
        "# Written by fuzz/api/fuzz.py for one run; not meant to be edited.",
        # Each run uses exactly the credentials it is given: schemathesis
        # must not sign itself up through /api/auth/register.
        "[auth]",
        "auto-signup = false",
        "",
        # Nothing carried over from earlier runs: the seed alone decides.
        "[generation]",
        'database = "none"',
        "",
        "[cache]",
        f"directory = {toml_str(str(path.parent / 'cache'))}",
        "",
        "[phases.stateful]",
        "max-steps = 20",
        "",
    ]
    if wfc is not None:
        lines += ["[auth.wfc]", f"path = {toml_str(str(wfc))}", 'peers = ["requester", "other"]', ""]
    for kind, values in ids.items():
        lines.append(f"[dictionaries.{kind}]")
        lines.append("values = [" + ", ".join(toml_str(v) for v in values) + "]")
        lines.append("")
    for regex, params in ID_BINDINGS:
        lines.append("[[operations]]")
        lines.append(f"include-path-regex = {toml_str(regex)}")
        lines.append("[operations.parameters]")
        for param, kind in params.items():
            lines.append(f'{toml_str(param)} = {{ dictionary = "{kind}", probability = 0.5 }}')
        lines.append("")
    path.write_text("\n".join(lines))


def names_regex(ops: list[tuple[str, str]]) -> str:
    return "^(" + "|".join(re.escape(f"{m} {p}") for m, p in ops) + ")$"


TALLY = {"passed": 0, "failed": 0}


def schemathesis(
    server: Server,
    config: Path,
    label: str,
    token: str | None,
    only: list | None = None,
    skip: list | None = None,
    extra: list | None = None,
) -> bool:
    if ONLY and label not in ONLY:
        return True
    out = ARTIFACTS / server.name / label
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        "schemathesis",
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{server.base}/api/openapi.json",
        "--checks",
        ",".join(CHECKS + (["object_level_authorization"] if extra else [])),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        WORKERS,
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-dir",
        str(out),
    ]
    if token:
        cmd += ["--header", f"Authorization: Bearer {token}"]
    # Operation names are "METHOD /path".
    if only:
        cmd += ["--include-name-regex", names_regex(only)]
    if skip:
        cmd += ["--exclude-name-regex", names_regex(skip)]
    cmd += extra or []
    log(f"\n--- {server.name}: {label} ---")
    started = time.monotonic()
    with open(out / "output.txt", "w") as f:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        f.write(proc.stdout)
    took = time.monotonic() - started
    tail = proc.stdout.strip().splitlines()
    summary = [line for line in tail if re.search(r"(passed|failed|failures|errors?) in \d", line)]
    log(summary[-1].strip("= ") if summary else "(no summary)")
    log(f"{label}: exit {proc.returncode} in {took:.0f}s (output: {out / 'output.txt'})")
    TALLY["passed" if proc.returncode == 0 else "failed"] += 1
    if proc.returncode != 0:
        start = next((i for i, line in enumerate(tail) if "FAILURES" in line or "ERRORS" in line), max(0, len(tail) - 80))
        log("\n".join(tail[start : start + 400]))
    return proc.returncode == 0


def run_backend(binary: str, name: str, database_url: str | None) -> bool:
    started = time.monotonic()
    shutil.rmtree(ARTIFACTS / name, ignore_errors=True)
    server = Server(binary, name, database_url)
    ok = True
    try:
        log(f"\n=== {name}: tier0 at {server.base} ===")
        data = seed(server.base)
        config = ARTIFACTS / name / "schemathesis.toml"
        write_config(config, data["ids"])
        tails = SESSION_ENDERS + ACCOUNT_CHANGERS + GLOBAL_CHANGERS
        ok &= schemathesis(server, config, "anonymous", None)
        ok &= schemathesis(server, config, "requester", data["tokens"]["requester"], skip=tails)
        # Two requesters as peers: what one reads of their own (a request,
        # its comments, attachments, approvals, notifications) the other must
        # not get. Before the admin run, which may change the requester
        # role's permissions. Adding a watcher is left out here: it is how a
        # requester shares a request on purpose.
        wfc = ARTIFACTS / name / "peers.json"
        wfc.write_text(json.dumps({"auth": [
            {"name": who, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {data['tokens'][who]}"}]}
            for who in ("requester", "other")
        ]}))
        peers_config = ARTIFACTS / name / "schemathesis-peers.toml"
        write_config(peers_config, data["ids"], wfc)
        ok &= schemathesis(
            server,
            peers_config,
            "requester-peers",
            None,
            skip=[("POST", "/api/itsm/requests/{id}/watchers")],
            extra=["--include-path-regex", "^/api/(itsm/requests|itsm/approvals|notifications)"],
        )
        ok &= schemathesis(server, config, "admin", data["tokens"]["admin"], skip=tails)
        for who in ("requester", "admin"):
            spare = data["spare"][who]
            ok &= schemathesis(server, config, f"{who}-account", spare[0], only=ACCOUNT_CHANGERS)
            ok &= schemathesis(server, config, f"{who}-sessions", spare[1], only=SESSION_LISTING + SESSION_ENDERS[1:])
            ok &= schemathesis(server, config, f"{who}-logout", spare[2], only=SESSION_ENDERS[:1])
        ok &= schemathesis(server, config, "admin-settings", data["tokens"]["admin"], only=GLOBAL_CHANGERS)
        problems = server.problems_in_log()
        if problems:
            ok = False
            TALLY["failed"] += 1
            log(f"\n{name}: the server logged {len(problems)} server-side problem(s):")
            log("\n".join(problems[:50]))
    finally:
        server.stop()
    log(f"=== {name}: {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.0f}s ===")
    return ok


def create_pg_database(server_url: str) -> tuple[str, str]:
    name = f"tier0_fuzz_{secrets.token_hex(4)}"
    subprocess.run(["psql", f"{server_url}/postgres", "-Atqc", f"CREATE DATABASE {name}"], check=True)
    return name, f"{server_url}/{name}"


def drop_pg_database(server_url: str, name: str) -> None:
    subprocess.run(
        ["psql", f"{server_url}/postgres", "-Atqc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False
    )


def main() -> int:
    binary = os.environ["TIER0_BIN"]
    started = time.monotonic()
    results = {"sqlite": run_backend(binary, "sqlite", None)}
    pg = os.environ.get("TIER0_FUZZ_POSTGRES_URL", "").rstrip("/")
    if pg:
        name, url = create_pg_database(pg)
        try:
            results["postgres"] = run_backend(binary, "postgres", url)
        finally:
            drop_pg_database(pg, name)
    took = time.monotonic() - started
    log("\n" + ", ".join(f"{k}: {'passed' if v else 'FAILED'}" for k, v in results.items()) + f" ({took:.0f}s)")
    log(f"api fuzzing: {TALLY['passed']} passed, {TALLY['failed']} failed")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
