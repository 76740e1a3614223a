"""Notifications against real servers on loopback, with faults.

A real SMTP server (aiosmtpd) receives the mail and a small HTTP server receives the webhooks,
checking every signature. The service's own `innoreport notify` delivers, so each phase controls
when delivery runs; the last phase lets the served replica's notifier do it by itself.

  1. The SMTP server refuses (451) and the webhook answers 500: nothing is lost, the log says
     why, and once both recover every message arrives, retried with the same idempotency key.
  2. kill -9 during delivery (the SMTP server holds a message in DATA): after the lease ends a
     second deliverer sends what is left; every message arrives at least once and no message
     arrives twice under different idempotency keys.
  3. The served replica (--notify-interval 1) delivers a new notice by itself.

Usage: faults.py <binary> <workdir>; exits non-zero on the first broken promise.
"""

import asyncio
import email
import email.policy
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

BIN, WORK = sys.argv[1], sys.argv[2]
COMMUNES = ["03808", "03646", "03667"]
# An instant when nothing is scheduled (no deadline near, no plan): the deliverer runs alone, on
# the notices the review actions wrote (reminders are checked against /compliance on demo data by
# the e2e tests; here what matters is delivery).
QUIET = "2026-07-20T09:00:00+07:00"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


class Mailbox:
    """An SMTP handler: records every message it is given; may refuse or hold it."""

    def __init__(self):
        self.mode = "accept"  # accept | refuse | hold
        self.messages = []  # (message-id, to, subject)
        self.holding = threading.Event()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "refuse":
            return "451 4.3.0 Mail server temporarily unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((msg["Message-ID"], envelope.rcpt_tos[0], msg["Subject"]))
        if self.mode == "hold":
            self.holding.set()
            await asyncio.sleep(30)
        return "250 Message accepted for delivery"


class Hooks:
    """Webhook deliveries: checked signatures, and the first `fail` answered 500."""

    def __init__(self):
        self.secrets = {}  # path -> secret
        self.fail = 0
        self.received = []  # (path, idempotency key, body, status answered)
        self.bad_signatures = 0
        self.lock = threading.Lock()


HOOKS = Hooks()


class HookHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ts = self.headers["X-Innoreport-Timestamp"]
        secret = HOOKS.secrets.get(self.path, "")
        want = "sha256=" + hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        good = hmac.compare_digest(want, self.headers.get("X-Innoreport-Signature", ""))
        fresh = abs(time.time() - int(ts)) < 300
        with HOOKS.lock:
            if not (good and fresh):
                HOOKS.bad_signatures += 1
                status = 401
            elif HOOKS.fail > 0:
                HOOKS.fail -= 1
                status = 500
            else:
                status = 200
            HOOKS.received.append((self.path, self.headers["Idempotency-Key"], json.loads(body), status))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


SMTP_PORT, HOOK_PORT, API_PORT = free_port(), free_port(), free_port()
BOX = Mailbox()
smtp = Controller(BOX, hostname="127.0.0.1", port=SMTP_PORT)
smtp.start()
hooks = ThreadingHTTPServer(("127.0.0.1", HOOK_PORT), HookHandler)
threading.Thread(target=hooks.serve_forever, daemon=True).start()

ENV = dict(
    os.environ,
    DATABASE_URL=f"sqlite://{WORK}/notify.db",
    INNOREPORT_BIND=f"127.0.0.1:{API_PORT}",
    INNOREPORT_PUBLIC_URL="https://innoreport.example.vn",
    INNOREPORT_SMTP_HOST="127.0.0.1",
    INNOREPORT_SMTP_PORT=str(SMTP_PORT),
    INNOREPORT_SMTP_SECURITY="none",
    INNOREPORT_MAIL_FROM="innoreport <no-reply@example.vn>",
    INNOREPORT_NOTIFY_RETRY_BASE="1s",
    INNOREPORT_NOTIFY_LEASE="3s",
    INNOREPORT_NOTIFY_INTERVAL="0",
    INNOREPORT_WEBHOOK_ALLOW_LOOPBACK="true",
    RUST_LOG="warn",
)


def run(*args, env=None):
    out = subprocess.run([BIN, *args], env=env or ENV, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"innoreport {' '.join(args)} failed: {out.stderr}")
    return out


def serve(**extra):
    log = open(f"{WORK}/server.log", "a")
    p = subprocess.Popen([BIN, "serve"], env=dict(ENV, **extra), stdout=log, stderr=log)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{API_PORT}/ready", timeout=1)
            return p
        except Exception:
            time.sleep(0.2)
    raise SystemExit("the server did not become ready")


def api(method, path, token, body=None):
    req = urllib.request.Request(
        f"http://127.0.0.1:{API_PORT}/api/v1{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def token(*args):
    return run("token", "--ttl", "30m", *args).stdout.strip()


def outbox(admin):
    items, cursor = [], ""
    while True:
        status, page = api("GET", f"/notifications?limit=500{cursor}", admin)
        assert status == 200, page
        items += page["items"]
        if not page["next_cursor"]:
            return items
        cursor = f"&cursor={page['next_cursor']}"


def deliver_until_settled(admin, seconds=40):
    """Runs the deliverer until nothing is pending."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        run("notify", "--as-of", QUIET)
        if all(m["status"] != "pending" for m in outbox(admin)):
            return
        time.sleep(0.5)


run("seed")
server = serve()
try:
    admin = token("--sub", "ops", "--role", "admin")
    padmin = token("--sub", "so-khcn", "--role", "province_admin", "--province", "14")
    officer = token("--sub", "xa-03808", "--role", "commune_officer", "--commune", "03808")
    for c in COMMUNES:
        s, b = api("POST", "/users", admin, {"username": f"xa-{c}", "role": "commune_officer",
                                              "commune": c, "email": f"xa-{c}@example.vn"})
        assert s == 201, b
    s, b = api("POST", "/users", admin, {"username": "so-khcn", "role": "province_admin",
                                          "province": "14", "email": "sokhcn@example.vn", "language": "en"})
    assert s == 201, b
    for path, unit in [("/hook/03808", {"commune": "03808"}), ("/hook/14", {"province": "14"})]:
        s, b = api("POST", "/webhooks", admin, {"url": f"http://127.0.0.1:{HOOK_PORT}{path}", **unit})
        assert s == 201, b
        HOOKS.secrets[path] = b["secret"]

    # Phase 1: the SMTP server refuses, the webhook answers 500 twice.
    BOX.mode, HOOKS.fail = "refuse", 2
    s, b = api("POST", "/reports", officer, {"commune": "03808", "dataset": "dmst-annual", "period": "2026",
                                              "values": {"population": 12000, "st_enterprises": 3}})
    assert s == 201, b
    s, b = api("POST", "/reports/dmst-annual/2026/03808/review", padmin,
               {"action": "return", "comment": "Bổ sung số liệu hồ sơ"})
    assert s == 200, b
    s, b = api("POST", "/reports/dmst-quarterly/2026Q1/03646/review", padmin, {"action": "reopen"})
    assert s in (200, 201), b
    run("notify", "--as-of", QUIET)
    first = outbox(admin)
    kinds = sorted((m["kind"], m["channel"]) for m in first)
    check(kinds == [("reopened", "email"), ("returned", "email"), ("returned", "webhook")],
          f"the notices of the review actions written with them: {kinds}")
    check(all(m["status"] == "pending" and m["attempts"] == 1 for m in first), "refused: all still pending after one attempt")
    errors = sorted({m["channel"] + ": " + m["last_error"] for m in first if m["last_error"]})
    check(len(errors) == 2 and all(m["last_error"] for m in first), f"the log says why: {errors}")
    BOX.mode = "accept"
    deliver_until_settled(admin)
    after = outbox(admin)
    check(all(m["status"] == "sent" for m in after), "SMTP and webhook recovered: every message sent")
    keys = {m["idempotency_key"] for m in after}
    mail_ids = [mid.strip("<>").split("@")[0] for mid, _, _ in BOX.messages]
    check(sorted(mail_ids) == sorted(m["idempotency_key"] for m in after if m["channel"] == "email"),
          f"each email arrived once, its Message-ID its idempotency key ({len(mail_ids)} mails)")
    statuses = [(k, st) for _, k, _, st in HOOKS.received]
    check([st for _, st in statuses[:2]] == [500, 500] and all(k in keys for k, _ in statuses),
          "the webhook's 500s were retried with the same idempotency keys")
    check(HOOKS.bad_signatures == 0, "every webhook signature checks out (HMAC-SHA256 over timestamp.body)")
    delivered = [k for k, st in statuses if st == 200]
    check(sorted(delivered) == sorted(m["idempotency_key"] for m in after if m["channel"] == "webhook"),
          "each webhook message answered 200 exactly once")
    returned = next(b for _, _, b, st in HOOKS.received if b["kind"] == "returned" and st == 200)
    check(returned["url"] == "https://innoreport.example.vn/commune/03808/entry?dataset=dmst-annual&period=2026"
          and "Bổ sung" in returned["text"],
          "the notice links to the report's form on the public address and carries the comment")

    # Phase 2: kill -9 while the SMTP server holds a message in DATA.
    BOX.mode = "hold"
    s, b = api("POST", "/reports/dmst-annual/2026/03808/review", padmin, {"action": "reopen"})
    assert s == 200, b
    s, b = api("POST", "/reports/dmst-quarterly/2026Q1/03667/review", padmin, {"action": "reopen"})
    assert s in (200, 201), b
    deliverer = subprocess.Popen([BIN, "notify", "--as-of", QUIET], env=ENV,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    check(BOX.holding.wait(30), "the deliverer is in the middle of sending a mail")
    os.kill(deliverer.pid, signal.SIGKILL)
    deliverer.wait()
    BOX.mode = "accept"
    pending = [m for m in outbox(admin) if m["status"] == "pending"]
    check(len(pending) >= 1, f"killed mid-delivery: {len(pending)} messages not yet sent")
    time.sleep(3.5)  # the dead deliverer's lease ends
    deliver_until_settled(admin)
    final = outbox(admin)
    check(all(m["status"] == "sent" for m in final), f"after the crash every one of {len(final)} messages is sent")
    by_key = {m["idempotency_key"]: m for m in final}
    mail_ids = [mid.strip("<>").split("@")[0] for mid, _, _ in BOX.messages]
    emails = [m for m in final if m["channel"] == "email"]
    check(all(m["idempotency_key"] in mail_ids for m in emails), "every email arrived at least once")
    check(set(mail_ids) <= set(by_key), "no email arrived under a key the outbox does not hold")
    # No message twice under different keys: one key per (recipient, subject) in what arrived.
    seen = {}
    for mid, to, subject in BOX.messages:
        seen.setdefault((to, subject), set()).add(mid)
    check(all(len(ids) == 1 for ids in seen.values()), "no email arrived twice with a new idempotency key")
    again = [k for k in set(mail_ids) if mail_ids.count(k) > 1]
    check(len(again) >= 1 and all(by_key[k]["attempts"] >= 2 for k in again),
          f"the mail held at the crash was sent again with its own key ({len(again)} resent)")
    hook_keys = {}
    for _, k, b, st in HOOKS.received:
        hook_keys.setdefault((b["kind"], json.dumps(b["data"], sort_keys=True)), set()).add(k)
    check(all(len(k) == 1 for k in hook_keys.values()), "no webhook message arrived under two keys")
    check(all(any(k == m["idempotency_key"] and st == 200 for _, k, _, st in HOOKS.received)
              for m in final if m["channel"] == "webhook"), "every webhook message answered 200")

    # Phase 3: the served replica's notifier delivers by itself.
    server.terminate()
    server.wait()
    server = serve(INNOREPORT_NOTIFY_INTERVAL="1")
    s, b = api("POST", "/reports/dmst-annual/2026/03808/review", padmin, {"action": "return", "comment": "Lần 2"})
    assert s == 200, b
    # (It also schedules for the real now: a reminder it writes may be sent, or cancelled if the
    # deadline passes before its turn; nothing may stay pending or fail.)
    settled = lambda: all(m["status"] in ("sent", "cancelled") for m in outbox(admin))
    deadline = time.time() + 20
    while time.time() < deadline and not settled():
        time.sleep(0.5)
    check(settled(), "the server's notifier sent the new notice by itself")
    returns = [to for _, to, subject in BOX.messages if "trả lại" in str(subject)]
    check(returns == ["xa-03808@example.vn"] * 2, f"the officer got both returns by email: {returns}")
    print(f"notifications: {len(outbox(admin))} messages, {len(BOX.messages)} mails received, "
          f"{len(HOOKS.received)} webhook requests ({sum(1 for *_, st in HOOKS.received if st == 500)} answered 500)")
finally:
    server.terminate()
    server.wait()
    smtp.stop()
    hooks.shutdown()
