"""Accounts, seller networks, campaigns and displacement: what a set of scanned items says about who
sells, under how many names, and where the trade moves. `generic.is_generic` is the shared rule for
identifiers that must never link accounts."""

from plugwatch.network.generic import is_generic, is_linkable, node_key

__all__ = ["is_generic", "is_linkable", "node_key"]
