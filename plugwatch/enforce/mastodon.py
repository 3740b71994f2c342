"""The Mastodon back-end, through Mastodon.py and the admin API (a token with admin:read and admin:write
scopes of a moderator account).

Account actions are POST /api/v1/admin/accounts/:id/action with `type` none (a warning), sensitive,
disable, silence or suspend, the `report_id` it resolves and the `text` the account is told (Mastodon
sends it as the warning e-mail and shows it in the account's moderation notices). Every action here
goes through a report: POST /api/v1/reports naming the account and the offending status, with the
idempotency key in its comment, then the account action resolving that report. The report is the
record on Mastodon's side, and it is how a resend after a crash finds that the action was already
taken (GET /api/v1/admin/reports?target_account_id=...): nothing is applied twice.

Stock Mastodon's API has no call that deletes another account's post (the admin UI's "Delete posts"
on a report has none; an admin status API was proposed upstream and not merged). `report_and_warn`
(the default for removal) therefore files the report holding the status and resolves it with a
warning: the strike lists the status, the author is told; a moderator deletes the post from the
resolved report in the admin UI, or the effect maps to `suspend` where the policy is to suspend.

Reverses: unsuspend, unsilence, enable, unsensitive (POST /api/v1/admin/accounts/:id/<op>). Mastodon
refuses to unsuspend an account that is not suspended, so a resend first reads the account's state.

Account and status ids are local to the instance whose API served them: id 1004 of an export of
other.social is someone else on social.example. So nothing is sent for an account that is not local
to the configured server: one whose handle names another domain (`user@other.social`; a local one
is `user@<server>` or bare `user`) or whose status URL is on another host. The server's hosts are
the back-end's `url` and, where the account domain differs from it (Mastodon's LOCAL_DOMAIN vs
WEB_DOMAIN), the back-end's `domain` option. Such an effect is a dead letter naming the reason.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from plugwatch.enforce.backends import EffectRequest, Permanent, Transient

# operation -> the account action's `type` (None: a warning only)
ACCOUNT_ACTIONS = {"report_and_warn": None, "warn": None, "sensitive": "sensitive", "disable": "disable",
                   "silence": "silence", "suspend": "suspend"}
# reverse operation -> (Mastodon.py method, the admin account field that says it is still in force)
REVERSES = {"unsuspend": ("admin_account_unsuspend", "suspended"), "unsilence": ("admin_account_unsilence", "silenced"),
            "enable": ("admin_account_enable", "disabled"), "unsensitive": ("admin_account_unsensitive", "sensitized")}
OPERATIONS = frozenset(ACCOUNT_ACTIONS) | frozenset(REVERSES)
# What the account is told each operation did (plugwatch.enforce.notices): a removal here is a report
# to the server's moderators and a warning, the post stays up until one of them deletes it; a warning
# on its own leaves the post up; the account actions say what they do.
NOTICES = {"report_and_warn": "remove_reported", "warn": "warn", "sensitive": "sensitive", "disable": "disable",
           "silence": "silence", "suspend": "suspend"}
DEFAULTS: dict[str, str | None] = {"remove_content": "report_and_warn", "warn_account": "warn",
                                   "suspend_account": "suspend", "unsuspend_account": "unsuspend",
                                   "restore_content": None, "withdraw_warning": None}


def _classify(error: Exception) -> Exception:
    from mastodon import errors as me

    text = f"{type(error).__name__}: {' '.join(str(a) for a in error.args)}"
    if isinstance(error, me.MastodonNetworkError | me.MastodonServerError | me.MastodonRatelimitError):
        return Transient(text)
    if isinstance(error, me.MastodonAPIError):
        status = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else None
        return Transient(text) if status in (408, 425, 429) else Permanent(text)
    return Transient(text)


class Backend:
    def __init__(self, config) -> None:
        self.config = config
        self._api = None

    def api(self):
        if self._api is None:
            from mastodon import Mastodon

            self._api = Mastodon(access_token=self.config.secret("token"), api_base_url=self.config.url,
                                 request_timeout=self.config.timeout, ratelimit_method="throw",
                                 version_check_mode="none")
        return self._api

    def hosts(self) -> set[str]:
        """The server's own names: its URL's host and the configured account `domain`, if any."""
        names = {(urlsplit(self.config.url).hostname or "").lower()}
        domain = self.config.options.get("domain")
        if isinstance(domain, str) and domain.strip():
            names.add(domain.strip().lower().removeprefix("@"))
        return names - {""}

    def foreign(self, subject: dict[str, Any]) -> str | None:
        """Why the subject's account is not one of this server's (its ids then name someone else
        here), or None when nothing says so."""
        hosts = self.hosts()
        handle = str((subject.get("account") or {}).get("handle") or "").strip().lstrip("@")
        if "@" in handle:
            domain = handle.rsplit("@", 1)[1].lower()
            if domain and domain not in hosts:
                return f"the account @{handle} is not local to {self.config.url}"
        url = subject.get("url")
        host = (urlsplit(url).hostname or "").lower() if isinstance(url, str) and url else ""
        if host and host not in hosts:
            return f"the status {url} is not on {self.config.url}"
        return None

    def check(self, request: EffectRequest) -> str:
        """The account id to act on; Permanent when this server cannot be told of the subject."""
        account = (request.subject.get("account") or {}).get("native_id")
        if not account:
            raise Permanent("the item's account has no Mastodon id (native_id) to act on")
        why = self.foreign(request.subject)
        if why:
            raise Permanent(f"{why}: its ids are another server's, so nothing was sent (they would name "
                            "someone else here); act on it at its own server")
        return str(account)

    def send(self, request: EffectRequest) -> dict[str, Any]:
        from mastodon import errors as me

        account = self.check(request)
        try:
            if request.operation in REVERSES:
                return self._reverse(request, account)
            return self._act(request, account)
        except me.MastodonError as e:
            raise _classify(e) from None

    def _act(self, request: EffectRequest, account: str) -> dict[str, Any]:
        api = self.api()
        marker = f"[{request.idempotency_key}]"
        report_id = None
        if request.attempt > 1:  # a resend: was it applied before the worker could record it?
            for resolved in (True, False):
                for report in api.admin_reports(resolved=resolved, target_account_id=account):
                    if marker in (report.get("comment") or ""):
                        if resolved:
                            return {"report_id": str(report["id"]), "already_applied": True}
                        report_id = report["id"]
        if report_id is None:
            status = request.subject.get("native_id") if request.subject.get("platform") == "mastodon" else None
            comment = f"plugwatch decision {request.payload.get('decision_id')}: {request.payload.get('policy', '')} {marker}"
            report = api.report(account, status_ids=[status] if status else None, comment=comment[:1000],
                                category="violation")
            report_id = report["id"]
        kind = ACCOUNT_ACTIONS[request.operation]
        api.admin_account_moderate(account, action=kind, report_id=report_id, text=request.payload.get("notice") or None)
        return {"report_id": str(report_id), "action": kind or "none"}

    def _reverse(self, request: EffectRequest, account: str) -> dict[str, Any]:
        api = self.api()
        method, field = REVERSES[request.operation]
        if request.attempt > 1 and not api.admin_account(account).get(field):
            return {"account": account, "already_applied": True}
        answer = getattr(api, method)(account)
        return {"account": account, field: bool(answer.get(field)) if hasattr(answer, "get") else None}
