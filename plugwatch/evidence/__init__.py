"""Evidence: frozen snapshots, legal holds, retention, law-enforcement disclosure packages.

Importing this package registers the snapshot hook on plugwatch.store.hooks.after_decision, so
every remove / warn / suspend / refer decision freezes its item in the same transaction.
"""

from __future__ import annotations


def install() -> None:
    from plugwatch.evidence.snapshot import on_decision
    from plugwatch.store import hooks

    if on_decision not in hooks.after_decision:
        hooks.after_decision.append(on_decision)


install()
