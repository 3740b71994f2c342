"""The identity graph as GraphML (Gephi, Cytoscape, yEd): account and identifier nodes, one edge per
account that posts or shows an identifier, and an edge from an identifier to the account it is."""

from __future__ import annotations

from pathlib import Path

from plugwatch.network.accounts import AccountStats
from plugwatch.network.identity import IdentityGraph, _split


def write_graphml(accounts: dict[str, AccountStats], graph: IdentityGraph, path: Path, all_accounts: bool = False) -> int:
    """Write the graph; by default only accounts in a network and the identifiers they hold.
    Returns the number of nodes written. Nodes and edges are added in sorted order, so the file does
    not depend on the order the accounts came in (one pass, or shards of a cluster run): the same
    graph gives the same bytes."""
    import networkx as nx

    g = nx.Graph()
    keep = sorted(k for k in accounts if all_accounts or k in graph.member_of)
    for key in keep:
        acct = accounts[key]
        g.add_node(key, kind="account", platform=acct.platform, label=key, score=acct.score,
                   items=acct.items, flagged=acct.flagged, network=graph.member_of.get(key, ""))
    for key in keep:
        for node in sorted(accounts[key].links):
            if node in graph.dropped or node == key:
                continue
            if node not in g:
                kind, canonical = _split(node)
                g.add_node(node, kind="identifier", type=kind, label=canonical, score=0.0, items=0, flagged=0,
                           network=graph.member_of.get(node, ""), platform="")
            g.add_edge(key, node, relation="shows")
    nx.write_graphml(g, path)
    return g.number_of_nodes()
