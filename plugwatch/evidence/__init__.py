"""Evidence: frozen snapshots, legal holds, retention, law-enforcement disclosure packages.

`snapshot.on_decision` freezes an item when a decision acts against a person; the composition root
(`plugwatch.wiring`) runs it as an after-decision hook, in the deciding transaction.
"""
