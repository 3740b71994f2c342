"""Contact, payment and wallet identifiers as evidence of an off-platform sale."""

from __future__ import annotations

from plugwatch.signals.base import Context, Hit, Signal

CONTACT = {"telegram", "wickr", "snapchat", "signal", "whatsapp", "session", "threema", "instagram", "x", "tiktok"}
PAYMENT = {"cashapp", "venmo", "zelle", "paypal"}
WALLET = {"btc", "eth", "ltc", "tron", "xmr"}
NAMES = {
    "telegram": "Telegram contact", "wickr": "Wickr contact", "snapchat": "Snapchat contact",
    "signal": "Signal contact", "whatsapp": "WhatsApp contact", "session": "Session ID",
    "threema": "Threema ID", "instagram": "Instagram handle given as contact", "x": "X handle given as contact",
    "tiktok": "TikTok handle given as contact", "phone": "phone number", "email": "e-mail address",
    "url": "link", "domain": "website", "cashapp": "Cash App tag", "venmo": "Venmo handle",
    "zelle": "Zelle contact", "paypal": "PayPal.me link", "btc": "Bitcoin wallet", "eth": "Ethereum wallet",
    "ltc": "Litecoin wallet", "tron": "Tron wallet", "xmr": "Monero wallet",
}


def group_of(id_type: str) -> str:
    if id_type in CONTACT:
        return "contact"
    if id_type in PAYMENT:
        return "payment"
    if id_type in WALLET:
        return "wallet"
    return id_type  # phone, email, url, domain


def identifiers(ctx: Context) -> list[Hit]:
    """Identifiers found by the foundation's extractor (spans are in the original text)."""
    hits = []
    for ident in ctx.identifiers:
        if ident.type == "domain":
            continue  # the url hit already covers it
        hits.append(Hit("identifier", f"id:{group_of(ident.type)}", NAMES.get(ident.type, ident.type),
                        ident.start, ident.end, original=True))
    return hits


SIGNAL = Signal("identifier", cost=1, run=identifiers,
                features=("id:contact", "id:payment", "id:wallet", "id:phone", "id:email", "id:url"))
