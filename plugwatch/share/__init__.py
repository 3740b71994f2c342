"""Signal sharing: STIX 2.1 bundles of indicators from confirmed decisions, salted-hash matching,
a watch list of partners' indicators, feedback as STIX opinions, and a TAXII 2.1 endpoint."""
