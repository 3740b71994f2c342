"""Policy rules as code: YAML files with a CEL condition over one typed object per item
(plugwatch.rules.schema), an action and a mode (active, shadow, off).

- model: one rule file, checked (syntax, fields, types, effects) with file, line and rule in errors
- ruleset: the default rules overlaid with a site's folder; book: the set a store uses, reloads, audit
- facts: the condition's object for a batch of items; routing: the store's router and after-ingest hook
- effects: holds, automatic actions, dry-run sends; stats: shadow statistics; backtest: past decisions
- terms: new slang suggested from decisions (weighted log-odds), the site vocabulary
"""
