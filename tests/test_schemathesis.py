"""Schemathesis against the sandbox's own /openapi.json: every phase, stateful included.

Fixed seed, a time budget of under a minute, and the checks that hold the document to
what the sandbox answers: no 5xx, only documented statuses, bodies and content types as
documented. Any failure or schema error fails the test with Schemathesis's own report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app import create_app
from tests.conftest import INNSENDING, LiveServer, Sandbox

ST = Path(sys.executable).with_name("st")
SEED = 20261201
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
)


def _known_ids(sandbox: Sandbox) -> tuple[dict[str, str], str]:
    """A run with a kvittering and a mangel letter: ids for the operations that need one."""
    run = sandbox.create_run(innsending=INNSENDING, clock={"mode": "manual"})
    sandbox.event(run["id"], {"type": "journalfor"})
    mangel = {"sjekkpunktId": "1.73", "utfall": "MSL", "tittel": "Situasjonsplan mangler"}
    sent = sandbox.event(run["id"], {"type": "mangel", "mangler": [mangel]})
    letter = sent["oppdateringer"][0]["utgaaendeDokument"][0]["dokumentUrl"]
    ids = {
        "query.innsendingReferanse": run["innsendingReferanser"][0],
        "path.dokumentId": letter.rsplit("/", 1)[1],
        "path.scenarioId": "happy-path",
    }
    credentials = run["credentials"]
    return ids, f"{credentials['username']}:{credentials['password']}"


def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}",
            "SCENARIO_RELOAD": False,
        }
    )
    try:
        with LiveServer(app) as server:
            ids, auth = _known_ids(Sandbox(server.url))
            config = tmp_path / "schemathesis.toml"
            config.write_text(
                "[parameters]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in ids.items())
            )
            done = subprocess.run(
                [
                    str(ST),
                    "--no-color",
                    "--config-file",
                    str(config),
                    "run",
                    f"{server.url}/openapi.json",
                    "--seed",
                    str(SEED),
                    "--phases",
                    "examples,coverage,fuzzing,stateful",
                    "--checks",
                    ",".join(CHECKS),
                    "--max-examples",
                    "25",
                    "--max-time",
                    "50",
                    "--workers",
                    "2",
                    "--auth",
                    auth,
                    "--request-timeout",
                    "20",
                    "--suppress-health-check",
                    "all",
                ],
                capture_output=True,
                text=True,
                cwd=tmp_path,
                timeout=240,
                check=False,
            )
    finally:
        app.extensions["sandbox.engine"].dispose()
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-8000:]
    summary = report[report.rindex("SUMMARY") :]
    assert "Failures:" not in summary and "Errors:" not in summary, summary
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in summary, summary
