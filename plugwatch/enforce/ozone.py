"""The Bluesky / AT Protocol back-end: moderation events to an Ozone service, through the atproto SDK.

The moderator account signs in at its PDS (com.atproto.server.createSession, with an app password),
and each event goes to tools.ozone.moderation.emitEvent with the `atproto-proxy: <labeler DID>#
atproto_labeler` header, so the PDS forwards it to the Ozone service. The subject is a strong ref
(`com.atproto.repo.strongRef`: the post's at:// URI and CID) for effects on a post, a repo ref
(`com.atproto.admin.defs#repoRef`: the DID) for effects on an account.

Operations: takedown, reverse_takedown, label / unlabel (the configured vocabulary, e.g. `drug-sale`,
as createLabelVals / negateLabelVals), acknowledge. Each event carries `externalId` = the effect's
idempotency key; Ozone refuses a second event of the same type with the same externalId on the same
subject (DuplicateExternalId), which is how a resend after a crash is applied once. With
`email_notices = true` the notice is also sent as a modEventEmail to the account.
"""

from __future__ import annotations

import json
from typing import Any

from plugwatch.enforce.backends import EffectRequest, Permanent, Transient

OPERATIONS = frozenset({"takedown", "reverse_takedown", "label", "unlabel", "acknowledge"})
DEFAULTS: dict[str, str | None] = {"remove_content": "takedown", "restore_content": "reverse_takedown",
                                   "warn_account": "label", "withdraw_warning": "unlabel",
                                   "suspend_account": "takedown", "unsuspend_account": "reverse_takedown"}
DUPLICATE = "DuplicateExternalId"
# What the account is told each operation did (plugwatch.enforce.notices), by what it acts on: a
# takedown hides the post or the whole account; a label on a post leaves it up with a label, one on
# the account is the warning; an acknowledgement changes nothing, so the account gets a warning.
NOTICES: dict[str, dict[str, str] | str] = {
    "takedown": {"content": "remove", "account": "suspend"},
    "label": {"content": "label_post", "account": "warn"},
    "acknowledge": "warn",
}


def _error_name(error) -> str | None:
    response = getattr(error, "response", None)
    if response is None:
        return None
    content = getattr(response, "content", None)
    if isinstance(content, bytes | str):
        try:
            content = json.loads(content)
        except ValueError:
            return None
    if hasattr(content, "error"):
        return content.error
    return content.get("error") if isinstance(content, dict) else None


def _classify(error: Exception) -> Exception:
    from atproto_client import exceptions as ae

    status = getattr(getattr(error, "response", None), "status_code", None)
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, ae.NetworkError | ae.RateLimitExceededError) or (status and status >= 500):
        return Transient(text)
    if isinstance(error, ae.RequestErrorBase) and status is None:
        return Transient(text)
    return Permanent(text)


class Backend:
    def __init__(self, config) -> None:
        self.config = config
        self._client = None
        labeler = config.options.get("labeler_did")
        if not (isinstance(labeler, str) and labeler.startswith("did:")):
            raise Permanent(f"backend {config.name}: labeler_did (the Ozone service's DID) is not configured")
        self.labeler = labeler
        self.labels = list(config.options.get("labels") or ["drug-sale"])

    def client(self):
        if self._client is None:
            from atproto import Client

            client = Client(base_url=self.config.url)
            identifier = self.config.options.get("identifier")
            if not identifier:
                raise Permanent(f"backend {self.config.name}: identifier (the moderator's handle) is not configured")
            client.login(identifier, self.config.secret("password"), fetch_bsky_profile=False)
            self._client = client.with_proxy("atproto_labeler", self.labeler)
            self._did = client.me.did if client.me else client._session.did  # noqa: SLF001 - the session's own DID
        return self._client

    def _subject(self, request: EffectRequest):
        from atproto import models

        subject = request.subject
        uri = subject.get("native_id") if str(subject.get("native_id", "")).startswith("at://") else None
        if subject.get("kind") == "content":
            if not uri or not subject.get("cid"):
                raise Permanent("a post is addressed by its at:// URI and CID; the item has "
                                + ("no CID" if uri else "no at:// URI"))
            return models.ComAtprotoRepoStrongRef.Main(uri=uri, cid=subject["cid"])
        did = uri.removeprefix("at://").split("/", 1)[0] if uri else (subject.get("account") or {}).get("native_id")
        if not did or not str(did).startswith("did:"):
            raise Permanent("an account is addressed by its DID; the item's account has none")
        return models.ComAtprotoAdminDefs.RepoRef(did=did)

    def _event(self, request: EffectRequest):
        from atproto import models

        d = models.ToolsOzoneModerationDefs
        comment = f"plugwatch decision {request.payload.get('decision_id')}: {request.payload.get('policy', '')}"[:1000]
        policies = [request.payload["policy_reason"]] if request.payload.get("policy_reason") else None
        op = request.operation
        if op == "takedown":
            return d.ModEventTakedown(comment=comment, policies=policies)
        if op == "reverse_takedown":
            return d.ModEventReverseTakedown(comment=comment)
        if op == "label":
            return d.ModEventLabel(create_label_vals=self.labels, negate_label_vals=[], comment=comment)
        if op == "unlabel":
            return d.ModEventLabel(create_label_vals=[], negate_label_vals=self.labels, comment=comment)
        return d.ModEventAcknowledge(comment=comment)

    def _emit(self, event, subject, external_id: str) -> dict[str, Any]:
        from atproto import models
        from atproto_client import exceptions as ae

        client = self.client()
        data = models.ToolsOzoneModerationEmitEvent.Data(created_by=self._did, event=event, subject=subject,
                                                         external_id=external_id)
        try:
            view = client.tools.ozone.moderation.emit_event(data)
        except ae.AtProtocolError as e:
            if _error_name(e) == DUPLICATE:
                return {"already_applied": True}
            raise _classify(e) from None
        return {"event_id": view.id}

    def check(self, request: EffectRequest) -> None:
        """Permanent when Ozone cannot be told of the subject (a post without its CID, an account without
        a DID), found without signing in."""
        self._subject(request)
        if self.config.options.get("email_notices") and request.payload.get("notice"):
            self._account_ref(request)

    def send(self, request: EffectRequest) -> dict[str, Any]:
        from atproto_client import exceptions as ae

        try:
            subject = self._subject(request)
            answer = self._emit(self._event(request), subject, request.idempotency_key)
            if self.config.options.get("email_notices") and request.payload.get("notice"):
                from atproto import models

                account = self._account_ref(request)
                email = models.ToolsOzoneModerationDefs.ModEventEmail(
                    subject_line=str(self.config.options.get("email_subject", "About your account")),
                    content=request.payload["notice"], comment="plugwatch notice")
                answer["notice"] = self._emit(email, account, request.idempotency_key + ":notice")
        except ae.AtProtocolError as e:  # signing in
            raise _classify(e) from None
        return answer

    def _account_ref(self, request: EffectRequest):
        from dataclasses import replace

        return self._subject(replace(request, payload={**request.payload,
                                                       "subject": {**request.subject, "kind": "account"}}))
