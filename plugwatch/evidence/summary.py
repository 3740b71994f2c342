"""The human-readable page of a disclosure package (summary.html).

Rendered from the same data the package's manifest holds; the page is itself listed in the
manifest with its digest, so it cannot be edited without the verifier noticing.
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment

_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Disclosure {{ request.id }} — {{ request.agency }}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #111; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; vertical-align: top;
padding: .3rem .5rem; border-bottom: 1px solid #e5e5e5; } th { background: #f4f4f4; }
code, .digest { font-family: ui-monospace, monospace; font-size: .85em; word-break: break-all; }
.emergency { background: #b00020; color: #fff; padding: .6rem 1rem; font-weight: bold; }
blockquote { margin: .3rem 0; padding: .3rem .7rem; border-left: 3px solid #999; background: #fafafa;
white-space: pre-wrap; }
</style>
</head>
<body>
{% if request.emergency %}<p class="emergency">EMERGENCY REQUEST — expedited disclosure
{%- if request.emergency_reason %}: {{ request.emergency_reason }}{% endif %}</p>{% endif %}
<h1>Disclosure package {{ request.id }}</h1>
<table>
<tr><th>Requesting agency</th><td>{{ request.agency }}</td></tr>
<tr><th>Legal basis</th><td>{{ request.legal_basis }}</td></tr>
<tr><th>Reference</th><td>{{ request.reference }}</td></tr>
<tr><th>Due</th><td>{{ request.due_date or "not given" }}</td></tr>
<tr><th>Scope: accounts</th><td>{{ request.scope.accounts | join(", ") or "—" }}</td></tr>
<tr><th>Scope: identifiers</th><td>{{ request.scope.identifiers | join(", ") or "—" }}</td></tr>
<tr><th>Scope: dates</th><td>{{ request.scope.date_from or "any" }} to {{ request.scope.date_to or "any" }}</td></tr>
<tr><th>Exported</th><td>{{ exported_at }} by {{ exported_by }}</td></tr>
<tr><th>Signed by key</th><td>{{ signed_by or "NOT SIGNED: nothing ties this package to its exporter" }}</td></tr>
<tr><th>Snapshots</th><td>{{ snapshots | length }}</td></tr>
</table>

<h2>Chain of custody</h2>
<table>
<tr><th>#</th><th>When (UTC)</th><th>Who</th><th>Role</th><th>What</th></tr>
{% for e in custody %}<tr><td>{{ e.seq }}</td><td>{{ e.at }}</td><td>{{ e.actor }}</td><td>{{ e.role or "" }}</td>
<td>{{ e.action }}{% if e.details.note %}: {{ e.details.note }}{% endif %}</td></tr>
{% endfor %}<tr><td>{{ custody | length + 1 }}</td><td>{{ exported_at }}</td><td>{{ exported_by }}</td>
<td>{{ exported_role or "" }}</td><td>exported (this package)</td></tr>
</table>

<h2>Snapshots</h2>
{% for s in snapshots %}
<h3>Snapshot {{ s.id }} — {{ s.item }}</h3>
<table>
<tr><th>Account</th><td>{{ s.account or "—" }}</td></tr>
<tr><th>Posted</th><td>{{ s.posted or "unknown" }}</td></tr>
<tr><th>Frozen</th><td>{{ s.created_at }} (chain position {{ s.seq }}) after decision
{{ s.decision.action if s.decision else s.item_class }}{% if s.decision and s.decision.actor %}
by {{ s.decision.actor }}{% endif %}</td></tr>
{% if s.url %}<tr><th>URL</th><td>{{ s.url }}</td></tr>{% endif %}
{% if s.score is not none %}<tr><th>Score</th><td>{{ s.score }}</td></tr>{% endif %}
{% if s.reasons %}<tr><th>Reasons</th><td><ul>{% for r in s.reasons %}<li>{{ r }}</li>{% endfor %}</ul></td></tr>{% endif %}
{% if s.identifiers %}<tr><th>Identifiers</th><td>{{ s.identifiers | join(", ") }}</td></tr>{% endif %}
<tr><th>Files</th><td>{% for name, f in s.files.items() %}<code>{{ name }}</code> {{ f.size }} bytes
<span class="digest">sha256 {{ f.sha256 }}</span><br>{% endfor %}</td></tr>
<tr><th>Manifest digest</th><td class="digest">{{ s.manifest_digest }}</td></tr>
</table>
{% if s.text %}<blockquote>{{ s.text }}</blockquote>{% endif %}
{% endfor %}

<h2>How to check this package</h2>
<p>Every file in this ZIP is listed with its SHA-256 digest in <code>manifest.json</code>; each snapshot has
its own manifest whose digest is chained to the snapshot frozen before it (<code>chain.jsonl</code>);
<code>custody.jsonl</code> is a hash-chained log whose last entry holds the digest of <code>manifest.json</code>.
Run <code>plugwatch evidence verify PACKAGE.zip</code> to check all of them, or recompute the SHA-256 digests
with any tool.</p>
</body>
</html>
"""

_env = Environment(autoescape=True, trim_blocks=False, lstrip_blocks=False)
_template = _env.from_string(_TEMPLATE)


def _reason_text(r: dict[str, Any]) -> str:
    label = r.get("meaning") or r.get("label") or r.get("signal") or "reason"
    return f"{label}: “{r['text']}”" if r.get("text") else str(label)


def snapshot_view(snapshot_id: str, manifest: dict[str, Any], manifest_digest: str,
                  files: dict[str, bytes]) -> dict[str, Any]:
    """What the page shows of one snapshot, read from its own files."""
    item = _load(files.get("item.json"))
    verdict = _load(files.get("verdict.json"))
    return {
        "id": snapshot_id,
        "seq": manifest.get("seq"),
        "item": manifest.get("item"),
        "account": manifest.get("account"),
        "item_class": manifest.get("item_class"),
        "decision": manifest.get("decision"),
        "created_at": manifest.get("created_at"),
        "files": manifest.get("files", {}),
        "manifest_digest": manifest_digest,
        "text": item.get("text"),
        "url": item.get("url"),
        "posted": item.get("created_at"),
        "score": verdict.get("score", item.get("score")),
        "reasons": [_reason_text(r) for r in (verdict.get("reasons") or item.get("reasons") or [])
                    if isinstance(r, dict)],
        "identifiers": sorted({i.get("canonical") or i.get("value") for i in item.get("identifiers") or []
                               if isinstance(i, dict)} - {None}),
    }


def _load(data: bytes | None) -> dict[str, Any]:
    if not data:
        return {}
    try:
        obj = json.loads(data)
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


def render(*, request: dict[str, Any], snapshots: list[dict[str, Any]], custody: list[dict[str, Any]],
           exported_at: str, exported_by: str, exported_role: str | None, signed_by: str | None = None) -> bytes:
    return _template.render(request=request, snapshots=snapshots, custody=custody, exported_at=exported_at,
                            exported_by=exported_by, exported_role=exported_role, signed_by=signed_by).encode()
