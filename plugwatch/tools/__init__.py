"""Build tools, apart from the data path: rebuilding the vocabulary, generating evasions for training
and evaluation. Nothing that scores, links or stores an item imports this package (import-linter checks)."""
