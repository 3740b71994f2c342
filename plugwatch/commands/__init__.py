"""Sub-commands grouped by stage; each module exposes `register(app)` and `cli.py` wires them."""
