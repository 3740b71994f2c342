"""The review and enforcement service: FastAPI app, JSON API, sign-in, roles and redaction."""
