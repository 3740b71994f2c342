"""Acting on platforms: decisions become effects on connected platforms through a transactional outbox.

- `config`: the site configuration (TOML): connected platforms, credentials by reference, the mapping
  from plugwatch's effects (plugwatch.actions.EFFECTS) to each platform's operations.
- `outbox`: the after-decision hook that writes effects, notices and statements of reasons in the
  deciding transaction; appeals that overturn a decision enqueue the reverse.
- `worker`: delivers due effects with retries, backoff with jitter, a lease per effect, dead letters.
- back-ends, one module each: `dryrun`, `webhook` (httpx + HMAC), `mastodon` (Mastodon.py), `ozone`
  (the atproto SDK), `dsa` (the DSA Transparency Database API).
- `notices`, `dsa_statements`, `transparency`: what the affected account is told, statements of reasons,
  the transparency report.
"""
