"""Notices to the affected account, in plain language: the policy, what was done, whether it was
automated, how to appeal. One template per action (the action's `notice` key) and a sentence per
policy reason, per language; a translation is one more entry in TEMPLATES and REASONS.

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
        "action.remove": "removal", "action.warn": "warning", "action.suspend": "suspension",
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
        "action.remove": "Entfernung", "action.warn": "Verwarnung", "action.suspend": "Sperrung",
    },
}
LANGUAGES = tuple(TEMPLATES)

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
