"""Migration scripts, one per revision: 0001_review, 0002_evidence, 0003_sharing, ..."""
