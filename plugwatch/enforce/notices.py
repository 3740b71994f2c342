"""Notices to the affected account, in plain language: the policy, what was done, whether it was
automated, how to appeal. One template per action (the action's `notice` key) and a sentence per
policy reason, per language; a translation is one more entry in TEMPLATES and REASONS.

What was done is what the back-end's operation really does, not what the decision was called: on
Mastodon a removal (`report_and_warn`) reports the post to the server's moderators and warns, the
post stays up until one of them deletes it, so the account is told that (`remove_reported`), never
"we removed your post". Each back-end module says which template tells the truth about each of its
operations (its NOTICES; plugwatch.enforce.backends.notice_kind); the action's own template is used
when none is connected or the operation only logs.

A notice is always stored (enforcement_notices); a back-end delivers it where the platform can (the
text of a Mastodon warning, an Ozone e-mail event, the webhook body's `notice`).
"""

from __future__ import annotations

from plugwatch.actions import POLICY_REASONS

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "remove": "We removed your post{where} because it {reason}. That is against our rules{policy}.",
        "warn": "This is a warning about your post{where}: it {reason}. That is against our rules{policy}. "
                "Further violations can lead to the suspension of your account.",
        "suspend": "We suspended your account because your post{where} {reason}. That is against our "
                   "rules{policy}.",
        "reversed": "We reviewed your appeal and reversed our earlier decision ({action}) on your "
                    "post{where}. We are sorry for the trouble.",
        "human": "A person on our moderation team reviewed the post and took this decision{flagged}.",
        "flagged": "; the post was first found by automated detection",
        "automated": "This decision was taken by automated means.",
        "policy": " ({url})",
        "remove_reported": "Your post{where} was reported to this server's moderators for removal because it "
                           "{reason}. That is against our rules{policy}. This is also a warning: further violations "
                           "can lead to the suspension of your account.",
        "silence": "We limited your account (people who do not follow you no longer see its posts) because your "
                   "post{where} {reason}. That is against our rules{policy}.",
        "disable": "We disabled the login to your account because your post{where} {reason}. That is against our "
                   "rules{policy}.",
        "sensitive": "We marked the media of your account as sensitive because your post{where} {reason}. That is "
                     "against our rules{policy}.",
        "label_post": "We put a warning label on your post{where} because it {reason}. That is against our "
                      "rules{policy}.",
        "action.remove": "removal", "action.warn": "warning", "action.suspend": "suspension",
        "action.remove_reported": "report for removal", "action.silence": "limitation of your account",
        "action.disable": "disabling of your login", "action.sensitive": "marking of your media as sensitive",
        "action.label_post": "label",
    },
    "de": {
        "remove": "Wir haben deinen Beitrag{where} entfernt, weil er {reason}. Das verstößt gegen unsere "
                  "Regeln{policy}.",
        "warn": "Dies ist eine Verwarnung wegen deines Beitrags{where}: Er {reason}. Das verstößt gegen unsere "
                "Regeln{policy}. Weitere Verstöße können zur Sperrung deines Kontos führen.",
        "suspend": "Wir haben dein Konto gesperrt, weil dein Beitrag{where} {reason}. Das verstößt gegen "
                   "unsere Regeln{policy}.",
        "reversed": "Wir haben deinen Einspruch geprüft und unsere frühere Entscheidung ({action}) zu deinem "
                    "Beitrag{where} aufgehoben. Entschuldige die Umstände.",
        "human": "Eine Person aus unserem Moderationsteam hat den Beitrag geprüft und so entschieden{flagged}.",
        "flagged": "; gefunden wurde er zuerst durch automatische Erkennung",
        "automated": "Diese Entscheidung wurde automatisiert getroffen.",
        "policy": " ({url})",
        "remove_reported": "Dein Beitrag{where} wurde den Moderator*innen dieses Servers zur Entfernung gemeldet, "
                           "weil er {reason}. Das verstößt gegen unsere Regeln{policy}. Dies ist zugleich eine "
                           "Verwarnung: Weitere Verstöße können zur Sperrung deines Kontos führen.",
        "silence": "Wir haben dein Konto eingeschränkt (wer dir nicht folgt, sieht seine Beiträge nicht mehr), weil "
                   "dein Beitrag{where} {reason}. Das verstößt gegen unsere Regeln{policy}.",
        "disable": "Wir haben die Anmeldung zu deinem Konto deaktiviert, weil dein Beitrag{where} {reason}. Das "
                   "verstößt gegen unsere Regeln{policy}.",
        "sensitive": "Wir haben die Medien deines Kontos als heikel markiert, weil dein Beitrag{where} {reason}. "
                     "Das verstößt gegen unsere Regeln{policy}.",
        "label_post": "Wir haben deinen Beitrag{where} mit einem Warnhinweis versehen, weil er {reason}. Das "
                      "verstößt gegen unsere Regeln{policy}.",
        "action.remove": "Entfernung", "action.warn": "Verwarnung", "action.suspend": "Sperrung",
        "action.remove_reported": "Meldung zur Entfernung", "action.silence": "Einschränkung deines Kontos",
        "action.disable": "Deaktivierung deiner Anmeldung", "action.sensitive": "Markierung deiner Medien als heikel",
        "action.label_post": "Kennzeichnung",
    },
}
LANGUAGES = tuple(TEMPLATES)
# The templates that tell an account what was done to it (besides `reversed` and the shared sentences).
KINDS = ("remove", "warn", "suspend", "remove_reported", "silence", "disable", "sensitive", "label_post")

# What the post did, as the end of "because it ...": per policy reason that an enforcement cites.
REASONS: dict[str, dict[str, str]] = {
    "en": {
        "drug_sale": "offers drugs for sale",
        "drug_solicitation": "asks to buy drugs",
        "counterfeit_pills": "offers pressed or counterfeit pills",
        "paraphernalia_sale": "offers equipment for making or taking drugs",
        "off_platform_redirect": "sends buyers to another app or channel to buy drugs",
    },
    "de": {
        "drug_sale": "Drogen zum Verkauf anbietet",
        "drug_solicitation": "Drogen kaufen will",
        "counterfeit_pills": "gepresste oder gefälschte Pillen anbietet",
        "paraphernalia_sale": "Geräte zum Herstellen oder Konsumieren von Drogen anbietet",
        "off_platform_redirect": "Käufer zum Drogenkauf in eine andere App oder einen anderen Kanal schickt",
    },
}


def compose(kind: str, policy_reason: str, *, language: str = "en", appeal: str, policy_url: str | None = None,
            item_url: str | None = None, automated_decision: bool = False, automated_detection: bool = False,
            reversed_action: str | None = None) -> str:
    """The notice text for template `kind` (an action's notice key, or `reversed`)."""
    t = TEMPLATES.get(language, TEMPLATES["en"])
    reason = REASONS.get(language, REASONS["en"]).get(policy_reason) or POLICY_REASONS.get(policy_reason, policy_reason)
    where = f" {item_url}" if item_url else ""
    policy = t["policy"].format(url=policy_url) if policy_url else ""
    if kind == "reversed":
        action = t.get(f"action.{reversed_action}", reversed_action or "")
        return " ".join((t["reversed"].format(action=action, where=where), appeal)).strip()
    how = t["automated"] if automated_decision else t["human"].format(flagged=t["flagged"] if automated_detection else "")
    body = t[kind].format(where=where, reason=reason, policy=policy)
    return " ".join((body, how, appeal)).strip()
