"""Bad input on every endpoint gets the documented status and a problem body; never a 500."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import INNSENDING, basic


@dataclass
class World:
    """Two runs, so one run's references can be tried with the other's credentials."""

    run: dict[str, Any]
    other: dict[str, Any]
    ref: str
    other_ref: str
    mangel_id: str
    dokument_id: str
    other_dokument_id: str
    auth: dict[str, str] = field(default_factory=dict)
    saksnummer: dict[str, str] = field(default_factory=dict)


def _run(client: FlaskClient) -> dict[str, Any]:
    r = client.post("/sandbox/runs", json={"innsending": INNSENDING, "kommunenummer": "0301"})
    assert r.status_code == 201, r.json
    body: dict[str, Any] = r.json  # type: ignore[assignment]
    return body


def _mangel(client: FlaskClient, run_id: str) -> dict[str, Any]:
    journalfort = client.post(f"/sandbox/runs/{run_id}/events", json={"type": "journalfor"})
    saksnummer = journalfort.json["kvitteringer"][0]["saksnummer"]  # type: ignore[index]
    r = client.post(
        f"/sandbox/runs/{run_id}/events",
        json={
            "type": "mangel",
            "mangler": [{"sjekkpunktId": "1.73", "utfall": "MSI", "tittel": "Situasjonsplan"}],
        },
    )
    assert r.status_code == 201, r.json
    oppdatering: dict[str, Any] = r.json["oppdateringer"][0]  # type: ignore[index]
    return {**oppdatering, "saksnummer": saksnummer}


@pytest.fixture
def world(client: FlaskClient) -> World:
    run, other = _run(client), _run(client)
    mine, theirs = _mangel(client, run["id"]), _mangel(client, other["id"])
    return World(
        run=run,
        other=other,
        ref=run["innsendingReferanser"][0],
        other_ref=other["innsendingReferanser"][0],
        mangel_id=mine["utfall"][0]["mangelID"],
        dokument_id=mine["utgaaendeDokument"][0]["dokumentUrl"].rsplit("/", 1)[1],
        other_dokument_id=theirs["utgaaendeDokument"][0]["dokumentUrl"].rsplit("/", 1)[1],
        auth=basic(run["credentials"]["username"], run["credentials"]["password"]),
        saksnummer={k: mine["saksnummer"][k] for k in ("saksaar", "sakssekvensnummer")},
    )


def _supplering(w: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "innsendingReferanse": w.ref,
        "kommunensSaksnummer": w.saksnummer,
        "mangelbesvarelse": [{"mangelID": w.mangel_id}],
    }
    body.update(overrides)
    return body


# (id, method, path, body-or-raw, headers-kind, expected status, expected rule, expected field)
# fmt: off
CASES: list[tuple[str, str, str, Any, str, int, str, str]] = [
    # credentials
    ("no-credentials", "GET", "/api/v1/kvittering?innsendingReferanse={ref}", None, "none", 401, "autentisering", "Authorization"),
    ("wrong-password", "GET", "/api/v1/kvittering?innsendingReferanse={ref}", None, "wrong", 401, "autentisering", "Authorization"),
    ("bearer-not-basic", "GET", "/api/v1/status?innsendingReferanse={ref}", None, "bearer", 401, "autentisering", "Authorization"),
    ("unknown-user", "GET", "/api/v1/oppdatering?innsendingReferanse={ref}", None, "unknown", 401, "autentisering", "Authorization"),
    ("no-credentials-dokument", "GET", "/api/v1/dokument/{dokument_id}", None, "none", 401, "autentisering", "Authorization"),
    ("no-credentials-innsending", "POST", "/api/v1/innsending", INNSENDING, "none", 401, "autentisering", "Authorization"),
    # references
    ("kvittering-missing-ref", "GET", "/api/v1/kvittering", None, "ok", 400, "innsendingReferanse.påkrevd", "innsendingReferanse"),
    ("kvittering-unknown-ref", "GET", "/api/v1/kvittering?innsendingReferanse=AR00000000", None, "ok", 404, "innsendingReferanse.ukjent", "innsendingReferanse"),
    ("kvittering-other-runs-ref", "GET", "/api/v1/kvittering?innsendingReferanse={other_ref}", None, "ok", 404, "innsendingReferanse.ukjent", "innsendingReferanse"),
    ("oppdatering-other-runs-ref", "GET", "/api/v1/oppdatering?innsendingReferanse={other_ref}", None, "ok", 404, "innsendingReferanse.ukjent", "innsendingReferanse"),
    ("oppdatering-bad-cursor", "GET", "/api/v1/oppdatering?innsendingReferanse={ref}&etter=-1", None, "ok", 400, "oppdatering.etter.format", "etter"),
    ("status-other-runs-ref", "GET", "/api/v1/status?innsendingReferanse={other_ref}", None, "ok", 404, "innsendingReferanse.ukjent", "innsendingReferanse"),
    ("dokument-unknown", "GET", "/api/v1/dokument/00000000-0000-4000-8000-000000000000", None, "ok", 404, "dokument.ukjent", "dokumentId"),
    ("dokument-other-runs", "GET", "/api/v1/dokument/{other_dokument_id}", None, "ok", 404, "dokument.ukjent", "dokumentId"),
    ("kvittering-wrong-method", "DELETE", "/api/v1/kvittering", None, "ok", 405, "http.405", "$"),
    ("unknown-path", "GET", "/api/v1/mangel?innsendingReferanse={ref}", None, "ok", 404, "http.404", "$"),
    # innsending bodies
    ("innsending-malformed-json", "POST", "/api/v1/innsending", b'{"soknadstype": "RS",', "ok", 400, "body.json", "$"),
    ("innsending-not-utf8", "POST", "/api/v1/innsending", b'{"tittel": "\xe6\xf8\xe5"}', "ok", 400, "body.utf8", "$"),
    ("innsending-form-encoded", "POST", "/api/v1/innsending", "form", "ok", 415, "body.innholdstype", "$"),
    ("innsending-empty", "POST", "/api/v1/innsending", b"", "ok", 400, "body.mangler", "$"),
    ("innsending-array", "POST", "/api/v1/innsending", [INNSENDING], "ok", 400, "innsending.body.type", "$"),
    ("innsending-oversized", "POST", "/api/v1/innsending", "huge", "ok", 413, "body.for_stor", "$"),
    ("innsending-wrong-type", "POST", "/api/v1/innsending", {**INNSENDING, "tiltakstype": "nyttbyggboligformal"}, "ok", 400, "innsending.tiltakstype.type", "tiltakstype"),
    ("innsending-size-as-number", "POST", "/api/v1/innsending", {**INNSENDING, "dokumenter": [{**INNSENDING["dokumenter"][0], "dokumentStorrelse": 123245}]}, "ok", 400, "innsending.dokumenter.dokumentStorrelse.ugyldig", "dokumenter[0].dokumentStorrelse"),
    ("innsending-missing-field", "POST", "/api/v1/innsending", {k: v for k, v in INNSENDING.items() if k != "soknadstype"}, "ok", 400, "innsending.soknadstype.påkrevd", "soknadstype"),
    ("innsending-bad-code", "POST", "/api/v1/innsending", {**INNSENDING, "soknadstype": "XX"}, "ok", 400, "innsending.soknadstype.kodeverdi", "soknadstype"),
    ("innsending-unknown-field", "POST", "/api/v1/innsending", {**INNSENDING, "soknadsType": "RS"}, "ok", 400, "innsending.soknadsType.ukjent_felt", "soknadsType"),
    ("innsending-other-kommune", "POST", "/api/v1/innsending", {**INNSENDING, "kommunenummer": "4601"}, "ok", 400, "innsending.kommunenummer.feil", "kommunenummer"),
    # supplering bodies
    ("supplering-unknown-mangel", "POST", "/api/v1/supplering", "supplering-unknown-mangel", "ok", 400, "supplering.mangelID.ukjent", "mangelbesvarelse[0].mangelID"),
    ("supplering-no-saksnummer", "POST", "/api/v1/supplering", "supplering-no-saksnummer", "ok", 400, "supplering.kommunensSaksnummer.ugyldig", "kommunensSaksnummer"),
    ("supplering-saksaar-number", "POST", "/api/v1/supplering", "supplering-saksaar-number", "ok", 400, "supplering.kommunensSaksnummer.saksaar.ugyldig", "kommunensSaksnummer.saksaar"),
    ("supplering-never-had-saksnummer", "POST", "/api/v1/supplering", "supplering-never-had-saksnummer", "ok", 400, "supplering.kommunensSaksnummer.ukjent", "kommunensSaksnummer"),
    ("supplering-unknown-utfall-id", "POST", "/api/v1/supplering", "supplering-unknown-utfall-id", "ok", 400, "supplering.utfallId.ukjent", "utfallBesvarelse.utfallSvar[0].utfallId"),
    ("supplering-other-runs-ref", "POST", "/api/v1/supplering", "supplering-other-runs-ref", "ok", 404, "innsendingReferanse.ukjent", "innsendingReferanse"),
    ("supplering-nothing", "POST", "/api/v1/supplering", {"innsendingReferanse": "{ref}"}, "ok", 400, "supplering.utfallBesvarelse.ugyldig", "utfallBesvarelse"),
    ("supplering-bad-tema", "POST", "/api/v1/supplering", {"innsendingReferanse": "{ref}", "ettersending": [{"tema": "x", "tittel": "t"}]}, "ok", 400, "supplering.ettersending.tema.kodeverdi", "ettersending[0].tema"),
    # control plane
    ("run-bad-seed", "POST", "/sandbox/runs", {"seed": "42"}, "none", 400, "run.seed.type", "seed"),
    ("run-unknown-kommune", "POST", "/sandbox/runs", {"kommunenummer": "0219"}, "none", 400, "run.kommunenummer.ukjent", "kommunenummer"),
    ("run-bad-profile", "POST", "/sandbox/runs", {"profile": "v9"}, "none", 400, "run.profile.kodeverdi", "profile"),
    ("run-malformed", "POST", "/sandbox/runs", b"{seed: 1}", "none", 400, "body.json", "$"),
    ("run-unknown", "GET", "/sandbox/runs/run-000000000000", None, "none", 404, "run.ukjent", "runId"),
    ("event-unknown-run", "POST", "/sandbox/runs/run-000000000000/events", {"type": "komplett"}, "none", 404, "run.ukjent", "runId"),
    ("event-unknown-type", "POST", "/sandbox/runs/{run_id}/events", {"type": "tildel"}, "none", 400, "hendelse.type.ugyldig", "type"),
    ("event-missing-type", "POST", "/sandbox/runs/{run_id}/events", {"resultat": "avslag"}, "none", 400, "hendelse.type.ugyldig", "type"),
    ("event-bad-utfall", "POST", "/sandbox/runs/{run_id}/events", {"type": "mangel", "mangler": [{"sjekkpunktId": "1.73", "utfall": "SVV", "tittel": "x"}]}, "none", 400, "hendelse.mangler.utfall.kodeverdi", "mangler[0].utfall"),
    ("event-naive-date", "POST", "/sandbox/runs/{run_id}/events", {"type": "sett_frist", "dato": "2030-01-01T00:00:00"}, "none", 400, "hendelse.dato.ugyldig", "dato"),
    ("event-second-journalforing", "POST", "/sandbox/runs/{run_id}/events", {"type": "journalfor"}, "none", 409, "kvittering.allerede_sendt", "innsendingReferanse"),
    ("event-samling-one-case", "POST", "/sandbox/runs/{run_id}/events", {"type": "endre_saksnummer", "typeOppdatering": "samling"}, "none", 400, "endretSaksnummer.opprinneligSaksnummer.antall", "opprinneligSaksnummer"),
    ("event-bad-type-endring", "POST", "/sandbox/runs/{run_id}/events", {"type": "endre_saksnummer", "typeOppdatering": "flytting"}, "none", 400, "hendelse.typeOppdatering.kodeverdi", "typeOppdatering"),
    ("event-unknown-innsending", "POST", "/sandbox/runs/{run_id}/events", {"type": "komplett", "innsendingReferanse": "{other_ref}"}, "none", 400, "hendelse.innsendingReferanse.ukjent", "innsendingReferanse"),
    ("clock-bad-duration", "POST", "/sandbox/runs/{run_id}/clock", {"advance": "2 days"}, "none", 400, "klokke.advance.format", "advance"),
    ("clock-not-json", "POST", "/sandbox/runs/{run_id}/clock", "form", "none", 415, "body.innholdstype", "$"),
    ("run-delete-unknown", "DELETE", "/sandbox/runs/run-000000000000", None, "none", 404, "run.ukjent", "runId"),
    ("case-unknown-run", "GET", "/sandbox/runs/run-000000000000/case", None, "none", 404, "run.ukjent", "runId"),
    ("journal-unknown-run", "GET", "/sandbox/runs/run-000000000000/journal", None, "none", 404, "run.ukjent", "runId"),
    ("runs-wrong-method", "PUT", "/sandbox/runs", {}, "none", 405, "http.405", "$"),
    ("status-missing-ref", "GET", "/api/v1/status", None, "ok", 400, "innsendingReferanse.påkrevd", "innsendingReferanse"),
    ("event-not-object", "POST", "/sandbox/runs/{run_id}/events", ["journalfor"], "none", 400, "hendelse.body.type", "$"),
    ("event-frist-both", "POST", "/sandbox/runs/{run_id}/events", {"type": "sett_frist", "uker": 3, "dato": "2099-01-01T00:00:00Z"}, "none", 400, "hendelse.dato.ugyldig", "dato"),
    ("event-vedtak-bad-resultat", "POST", "/sandbox/runs/{run_id}/events", {"type": "vedtak", "resultat": "ja"}, "none", 400, "hendelse.resultat.kodeverdi", "resultat"),
    ("event-kontakt-bad-epost", "POST", "/sandbox/runs/{run_id}/events", {"type": "tildel_saksbehandler", "saksbehandler": {"navn": "A", "epost": "ikke-epost"}}, "none", 400, "hendelse.saksbehandler.epost.format", "saksbehandler.epost"),
    ("journal-bad-limit", "GET", "/sandbox/runs/{run_id}/journal?limit=lots", None, "none", 400, "journal.limit.format", "limit"),
]
# fmt: on


def _fill(value: Any, w: World) -> Any:
    names = {
        "ref": w.ref,
        "other_ref": w.other_ref,
        "run_id": w.run["id"],
        "dokument_id": w.dokument_id,
        "other_dokument_id": w.other_dokument_id,
    }
    if isinstance(value, str):
        for key, replacement in names.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, w) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, w) for v in value]
    return value


def _request_args(body: Any, w: World, app: Flask) -> dict[str, Any]:
    if body is None:
        return {}
    if body == "form":
        return {"data": {"advance": "P1D"}}
    if body == "huge":
        limit = app.config["MAX_BODY_BYTES"]
        return {"data": b"{" + b" " * limit + b"}", "content_type": "application/json"}
    named = {
        "supplering-unknown-mangel": _supplering(w, mangelbesvarelse=[{"mangelID": "nope"}]),
        "supplering-no-saksnummer": {
            k: v for k, v in _supplering(w).items() if k != "kommunensSaksnummer"
        },
        "supplering-saksaar-number": _supplering(
            w, kommunensSaksnummer={"saksaar": 2024.5, "sakssekvensnummer": "1"}
        ),
        "supplering-never-had-saksnummer": _supplering(
            w, kommunensSaksnummer={"saksaar": "1999", "sakssekvensnummer": "1"}
        ),
        "supplering-unknown-utfall-id": {
            "kommunensSaksnummer": w.saksnummer,
            "utfallBesvarelse": {"utfallSvar": [{"utfallId": "nope", "erUtfallBesvart": True}]},
        },
        "supplering-other-runs-ref": _supplering(w, innsendingReferanse=w.other_ref),
    }
    if isinstance(body, str) and body in named:
        return {"json": named[body]}
    if isinstance(body, bytes):
        return {"data": body, "content_type": "application/json"}
    return {"json": _fill(body, w)}


def _headers(kind: str, w: World) -> dict[str, str]:
    user, password = w.run["credentials"]["username"], w.run["credentials"]["password"]
    return {
        "none": {},
        "ok": w.auth,
        "wrong": basic(user, password + "x"),
        "bearer": {"Authorization": f"Bearer {password}"},
        "unknown": basic("klient-nobody", password),
    }[kind]


@pytest.mark.parametrize(
    ("method", "path", "body", "auth", "status", "rule", "field_path"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_input_is_answered_precisely(
    app: Flask,
    client: FlaskClient,
    world: World,
    method: str,
    path: str,
    body: Any,
    auth: str,
    status: int,
    rule: str,
    field_path: str,
) -> None:
    response = client.open(
        _fill(path, world),
        method=method,
        headers=_headers(auth, world),
        **_request_args(body, world, app),
    )
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = json.loads(response.get_data(as_text=True))
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert {"rule": rule, "field": field_path} in [
        {"rule": e["rule"], "field": e["field"]} for e in problem["errors"]
    ], problem
    assert all(e["message"] and e["messagetype"] == "ERROR" for e in problem["errors"])
    if status == 401:
        assert "WWW-Authenticate" in response.headers


def test_bad_input_loses_nothing(client: FlaskClient, world: World) -> None:
    """After a refused supplering the case is exactly as before; the mangel is still open."""
    before = client.get(f"/sandbox/runs/{world.run['id']}/case").json["sak"]  # type: ignore[index]
    bad = _supplering(world, mangelbesvarelse=[{"mangelID": world.mangel_id}, {"mangelID": "nope"}])
    assert client.post("/api/v1/supplering", json=bad, headers=world.auth).status_code == 400
    after = client.get(f"/sandbox/runs/{world.run['id']}/case").json["sak"]  # type: ignore[index]
    assert after == before
    assert after["innsendinger"][0]["mangler"][0]["besvart"] is None


def test_admin_token_guards_the_control_plane(database_url: str) -> None:
    from app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "ADMIN_TOKEN": "s3cret"})
    client = app.test_client()
    try:
        missing = client.get("/sandbox/runs")
        wrong = client.get("/sandbox/runs", headers={"Authorization": "Bearer nope"})
        right = client.get("/sandbox/runs", headers={"Authorization": "Bearer s3cret"})
        assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
        assert missing.json["errors"][0]["rule"] == "admin.token.mangler"  # type: ignore[index]
        assert wrong.json["errors"][0]["rule"] == "admin.token.feil"  # type: ignore[index]
        # The simulated API keeps its own credentials; the admin token is not one of them.
        api = client.get("/api/v1/kvittering", headers={"Authorization": "Bearer s3cret"})
        assert api.status_code == 401
    finally:
        app.extensions["sandbox.engine"].dispose()
