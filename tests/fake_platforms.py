"""Small local servers implementing the platform endpoints plugwatch's back-ends call, as documented:
Mastodon's reports and admin account API, an AT Protocol PDS session plus Ozone's emitEvent. Each
records every request (method, path, body, auth, headers) and keeps the platform's state, so tests
assert on what the platform received and on what was applied."""

from __future__ import annotations

import base64
import json
import threading
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


async def _params(request: Request) -> dict:
    """Mastodon.py sends form fields (status_ids[] as a repeated key), or JSON."""
    if request.headers.get("content-type", "").startswith("application/json"):
        return await request.json()
    form = await request.form()
    out: dict = {}
    for key, value in form.multi_items():
        if key.endswith("[]"):
            out.setdefault(key[:-2], []).append(value)
        else:
            out[key] = value
    return out


class FakeMastodon:
    def __init__(self, token: str):
        self.token = token
        self.requests: list[dict] = []
        self.reports: dict[int, dict] = {}
        self.accounts: dict[str, dict] = {}
        self.actions: list[dict] = []  # account actions applied
        self.fail_next = 0
        self.lock = threading.Lock()
        app = self.app = FastAPI()

        @app.middleware("http")
        async def record(request: Request, call_next):
            body = await _params(request) if request.method == "POST" else dict(request.query_params)
            with self.lock:
                self.requests.append({"method": request.method, "path": request.url.path.rstrip("/"), "body": body,
                                      "auth": request.headers.get("authorization")})
                failing = self.fail_next > 0
                self.fail_next -= 1 if failing else 0
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return JSONResponse({"error": "The access token is invalid"}, 401)
            if failing:
                return JSONResponse({"error": f"Internal error; you sent {request.headers.get('authorization')}"}, 500)
            request.state.params = body
            return await call_next(request)

        def account(aid: str) -> dict:
            return self.accounts.setdefault(aid, {"id": aid, "suspended": False, "silenced": False,
                                                  "disabled": False, "sensitized": False})

        @app.post("/api/v1/reports/")  # Mastodon.py's path; Rails routes take it with or without the slash
        @app.post("/api/v1/reports")
        async def report(request: Request):
            p = request.state.params
            with self.lock:
                rid = len(self.reports) + 1
                self.reports[rid] = {"id": str(rid), "account_id": p["account_id"], "status_ids": p.get("status_ids", []),
                                     "comment": p.get("comment", ""), "category": p.get("category"),
                                     "action_taken": False, "target_account": {"id": p["account_id"]}}
            return {k: v for k, v in self.reports[rid].items() if k != "target_account"}

        @app.get("/api/v1/admin/reports")
        def admin_reports(request: Request):
            q = request.query_params
            resolved = q.get("resolved") in ("true", "True", "1")
            return [r for r in self.reports.values() if r["action_taken"] == resolved
                    and (not q.get("target_account_id") or r["account_id"] == q["target_account_id"])]

        @app.post("/api/v1/admin/accounts/{aid}/action")
        async def action(aid: str, request: Request):
            p = request.state.params
            with self.lock:
                kind = p.get("type", "none")
                acct = account(aid)
                if kind in ("suspend", "silence", "disable", "sensitive"):
                    acct[{"suspend": "suspended", "silence": "silenced", "disable": "disabled",
                          "sensitive": "sensitized"}[kind]] = True
                if p.get("report_id"):
                    self.reports[int(p["report_id"])]["action_taken"] = True
                self.actions.append({"account": aid, "type": kind, "report_id": p.get("report_id"), "text": p.get("text")})
            return {}

        @app.get("/api/v1/admin/accounts/{aid}")
        def admin_account(aid: str):
            return account(aid)

        for op, field in (("unsuspend", "suspended"), ("unsilence", "silenced"), ("enable", "disabled"),
                          ("unsensitive", "sensitized")):
            def reverse(aid: str, op=op, field=field):
                with self.lock:
                    acct = account(aid)
                    if not acct[field]:
                        return JSONResponse({"error": "This action is not allowed"}, 403)
                    acct[field] = False
                    self.actions.append({"account": aid, "type": op})
                return acct

            app.post(f"/api/v1/admin/accounts/{{aid}}/{op}")(reverse)


def fake_jwt(did: str) -> str:
    def part(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': did, 'exp': int(time.time()) + 3600, 'iat': int(time.time())})}.c2ln"


class FakeOzone:
    """A PDS that creates sessions and proxies tools.ozone.* to the labeler DID named in the
    atproto-proxy header (here: answered in place), with Ozone's externalId deduplication."""

    def __init__(self, handle: str, password: str, moderator_did: str, labeler_did: str):
        self.handle, self.password, self.did, self.labeler = handle, password, moderator_did, labeler_did
        self.jwt = fake_jwt(moderator_did)
        self.requests: list[dict] = []
        self.events: list[dict] = []  # applied moderation events
        self.fail_next = 0
        self.lock = threading.Lock()
        app = self.app = FastAPI()

        @app.post("/xrpc/com.atproto.server.createSession")
        async def create_session(request: Request):
            body = await request.json()
            self.requests.append({"method": "POST", "path": request.url.path, "body": {"identifier": body.get("identifier")}})
            if body.get("identifier") != self.handle or body.get("password") != self.password:
                return JSONResponse({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, 401)
            return {"did": self.did, "handle": self.handle, "accessJwt": self.jwt, "refreshJwt": self.jwt, "active": True}

        @app.post("/xrpc/tools.ozone.moderation.emitEvent")
        async def emit(request: Request):
            body = await request.json()
            with self.lock:
                self.requests.append({"method": "POST", "path": request.url.path, "body": body,
                                      "auth": request.headers.get("authorization"),
                                      "proxy": request.headers.get("atproto-proxy")})
                failing = self.fail_next > 0
                self.fail_next -= 1 if failing else 0
            if request.headers.get("authorization") != f"Bearer {self.jwt}":
                return JSONResponse({"error": "AuthenticationRequired", "message": "bad token"}, 401)
            if request.headers.get("atproto-proxy") != f"{self.labeler}#atproto_labeler":
                return JSONResponse({"error": "InvalidRequest", "message": "no proxy to the labeler"}, 400)
            if failing:
                return JSONResponse({"error": "InternalServerError", "message": "Internal Server Error"}, 500)
            event, subject = body["event"], body["subject"]
            with self.lock:
                ext = body.get("externalId")
                if ext and any(e["externalId"] == ext and e["event"]["$type"] == event["$type"]
                               and e["subject"] == subject for e in self.events):
                    return JSONResponse({"error": "DuplicateExternalId",
                                         "message": "An event with the same external ID already exists for the subject."}, 400)
                applied = {**body, "id": len(self.events) + 1}
                self.events.append(applied)
            return {"id": applied["id"], "event": event, "subject": subject, "subjectBlobCids": [],
                    "createdBy": body["createdBy"], "createdAt": "2025-03-02T10:00:00.000Z"}
