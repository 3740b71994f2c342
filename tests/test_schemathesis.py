"""Standing check: Schemathesis generates requests from the OpenAPI document of a running server
(a temporary SQLite database, one signed-in user per role, a TAXII partner) and no request may
answer 500. Fixed seed (derandomized), bounded to a few dozen examples per operation so it runs in
CI in well under 90 seconds."""

from __future__ import annotations

import base64

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

EXAMPLES_PER_OPERATION = 30
ROLES = (("rev", "reviewer"), ("lead", "lead"), ("adm", "admin"), ("law", "legal"), ("bot", "ingest"))


@pytest.fixture(scope="module")
def live(tmp_path_factory, detector):
    from plugwatch.service.ingest import ingest_paths
    from plugwatch.share import partners
    from plugwatch.store import users
    from plugwatch.wiring import create_app
    from tests.servers import serving

    tmp = tmp_path_factory.mktemp("schemathesis")
    mp = pytest.MonkeyPatch()
    mp.setenv("PLUGWATCH_SESSION_KEY_FILE", str(tmp / "session.key"))
    app = create_app(f"sqlite:///{tmp / 'service.db'}", detector=detector)
    with app.state.store.session() as s:
        tokens = {name: users.add_user(s, name, role)[1] for name, role in ROLES}
        partner_secret = partners.add(s, "platform-b", "notify-only")[1]
    from pathlib import Path

    report = ingest_paths(app.state.store, detector, [str(Path(__file__).resolve().parents[1] / "examples")])
    known = {"item_id": report.ids[:3], "key": ["x:plugdirect", "telegram:user6120044871"]}
    basic = "Basic " + base64.b64encode(f"platform-b:{partner_secret}".encode()).decode()
    try:
        with serving(app) as base:
            yield base, tokens, basic, known
    finally:
        mp.undo()


def _credentials(path: str, method: str, tokens: dict[str, str], basic: str) -> dict[str, str]:
    """The caller most likely to get past the role check, so the route's own code is exercised."""
    if path.startswith("/taxii2"):
        return {"Authorization": basic}
    if path.startswith("/api/legal") or path.startswith("/api/export"):
        who = "law"
    elif path.startswith("/api/ingest"):
        who = "bot"
    elif path.endswith("/appeal"):
        who = "lead"
    elif path.startswith("/api/stats"):
        who = "adm"
    else:
        who = "rev"
    return {"Authorization": f"Bearer {tokens[who]}"}


def _strategy(operation, known: dict[str, list[str]]):
    """Valid and invalid requests, and for routes about one item or account also requests about
    ones that exist, so the route's code runs past its 404."""
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    try:
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    except Exception:  # noqa: BLE001 - nothing to make invalid in this operation
        pass
    names = {p.name for p in operation.path_parameters}
    for name, values in known.items():
        if name in names:
            strategies += [operation.as_strategy(GenerationMode.POSITIVE, path_parameters={name: v}) for v in values]
    return st.one_of(strategies)


def test_no_generated_request_gets_a_server_error(live):
    base, tokens, basic, known = live
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = 0
    def exercise(operation) -> None:
        headers = _credentials(operation.path, operation.method.upper(), tokens, basic)

        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=_strategy(operation, known))
        def call(case):
            response = case.call(base_url=base, headers=headers, timeout=30)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append(f"{operation.method.upper()} {operation.path}: {response.status_code} for "
                                f"{case.as_curl_command()}\n  {response.text[:300]}")

        call()

    for result in schema.get_all_operations():
        operations += 1
        exercise(result.ok())
    print(f"{operations} operations, answers: {dict(sorted(statuses.items()))}")
    assert operations >= 30, f"only {operations} operations in the OpenAPI document"
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:20])
