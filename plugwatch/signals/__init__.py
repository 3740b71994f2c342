"""Cost-ordered evidence signals. Importing this package registers them all."""

from plugwatch.signals import commerce, cues, drug_terms, identifiers  # noqa: F401  (registration)
from plugwatch.signals.base import REGISTRY, Context, Hit, Signal, ordered

_ORDER: list[Signal] = []


def run_signals(ctx: Context) -> list[Hit]:
    if len(_ORDER) != len(REGISTRY):  # sorted once, again only if a signal was registered later
        _ORDER[:] = ordered()
    for signal in _ORDER:
        ctx.hits.extend(signal.run(ctx))
    return ctx.hits


__all__ = ["REGISTRY", "Context", "Hit", "Signal", "ordered", "run_signals"]
