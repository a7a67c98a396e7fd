"""Tenants: fixed credentials a staging system is configured with once; a run per søknad."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.store.db import get_session
from app.store.models import JournalEntry, Run, Tenant, TenantAuthFailureTally
from tests.conftest import INNSENDING, LiveServer, basic
from tests.dibk_forms import FIXTURES, filled
from tests.vendor import Vendor

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
FAST = {"mode": "accelerated", "factor": 2_000_000}  # three weeks in about a second
PASSWORD = "acme-staging-secret-1"


def tenant_body(**extra: Any) -> dict[str, Any]:
    """The issue's example body, with ``extra`` on top."""
    body = {
        "name": "acme",
        "username": "acme-staging",
        "password": PASSWORD,
        "scenario": "happy-path",
        "clock": FAST,
    }
    return {**body, **extra}


def make_tenant(client: FlaskClient, **extra: Any) -> dict[str, Any]:
    """Create a tenant and return the control plane's answer."""
    response = client.post("/sandbox/tenants", json=tenant_body(**extra))
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def submit(client: FlaskClient, username: str, password: str, **fields: Any) -> Any:
    """POST /api/v1/innsending with these credentials."""
    return client.post(
        "/api/v1/innsending", json={**INNSENDING, **fields}, headers=basic(username, password)
    )


def test_create_list_get_rotate_delete(app: Flask, client: FlaskClient) -> None:
    created = make_tenant(client)
    assert created["credentials"] == {"username": "acme-staging", "password": PASSWORD}
    assert created["retention"] == "P30D"
    assert created["clock"]["mode"] == "accelerated"
    with app.app_context():
        stored = get_session().get(Tenant, "acme")
        assert PASSWORD not in stored.password_hash
        assert stored.password_hash.startswith("pbkdf2_sha256$")
    generated = client.post("/sandbox/tenants", json={"name": "beta", "scenario": "happy-path"})
    assert generated.status_code == 201
    assert generated.get_json()["credentials"]["username"] == "beta"
    assert len(generated.get_json()["credentials"]["password"]) >= 24
    listed = client.get("/sandbox/tenants").get_json()["tenants"]
    assert [t["name"] for t in listed] == ["acme", "beta"]
    assert all("password" not in t and "credentials" not in t for t in listed)
    one = client.get("/sandbox/tenants/acme").get_json()
    assert one["runCount"] == 0 and "credentials" not in one
    assert submit(client, "acme-staging", PASSWORD).status_code == 201
    rotated = client.post("/sandbox/tenants/acme/password", json={})
    assert rotated.status_code == 200
    new = rotated.get_json()["credentials"]["password"]
    assert new != PASSWORD
    assert submit(client, "acme-staging", PASSWORD).status_code == 401
    assert submit(client, "acme-staging", new, tittel="Etter rotering").status_code == 201
    assert client.get("/sandbox/tenants/acme").get_json()["runCount"] == 2
    assert client.delete("/sandbox/tenants/acme").status_code == 204
    assert client.get("/sandbox/tenants/acme").status_code == 404
    with app.app_context():
        assert get_session().scalars(select(Run)).all() == []


def test_refusals(client: FlaskClient) -> None:
    make_tenant(client)
    assert client.post("/sandbox/tenants", json=tenant_body()).status_code == 409
    taken = client.post("/sandbox/tenants", json=tenant_body(name="other"))
    assert taken.status_code == 409
    assert taken.get_json()["errors"][0]["field"] == "username"
    run = client.post("/sandbox/runs", json={}).get_json()
    clash = client.post(
        "/sandbox/tenants", json=tenant_body(name="third", username=run["username"])
    )
    assert clash.status_code == 409
    unknown = client.post(
        "/sandbox/tenants", json=tenant_body(name="fourth", username="u4", scenario="nope")
    )
    assert unknown.status_code == 400
    assert "happy-path" in unknown.get_json()["errors"][0]["message"]
    short = client.post(
        "/sandbox/tenants", json=tenant_body(name="fifth", username="u5", password="short")
    )
    assert short.status_code == 400
    assert client.post("/sandbox/tenants/nobody/password", json={}).status_code == 404
    assert client.delete("/sandbox/tenants/nobody").status_code == 404


def test_marker_rules_and_default_pick_the_scenario(app: Flask, client: FlaskClient) -> None:
    make_tenant(
        client,
        rules=[
            {"soknadstype": "ET", "scenario": "splitting"},
            {"tiltakstype": "pabygg", "scenario": "late-caseworker"},
        ],
    )
    cases = [
        ({"tittel": "Garasje [SANDBOX:Soknadstype-Change] nr. 1"}, "soknadstype-change"),
        ({"soknadstype": "ET"}, "splitting"),
        ({"tiltakstype": ["pabygg"]}, "late-caseworker"),
        ({}, "happy-path"),
        ({"tittel": "Enebolig nr. 2"}, "happy-path"),  # another søknad (the same is a resend)
    ]
    refs = []
    for fields, scenario in cases:
        response = submit(client, "acme-staging", PASSWORD, **fields)
        assert response.status_code == 201, response.get_data(as_text=True)
        refs.append(response.get_json()["innsendingReferanse"])
        with app.app_context():
            session = get_session()
            run = session.scalars(select(Run).order_by(Run.created_at.desc())).first()
            assert run.scenario_id == scenario and run.tenant == "acme"
    assert len(set(refs)) == len(refs)  # the same scenario twice: two references
    unknown = submit(client, "acme-staging", PASSWORD, tittel="[sandbox:no-such-thing]")
    assert unknown.status_code == 400
    message = unknown.get_json()["errors"][0]["message"]
    assert "no-such-thing" in message and "mangel-then-vedtak" in message
    with app.app_context():
        assert len(get_session().scalars(select(Run)).all()) == len(cases)


def test_the_marker_in_a_dibk_xml_forms_prosjektnavn(app: Flask, client: FlaskClient) -> None:
    make_tenant(client)
    form = (FIXTURES / "rs-v4.xml").read_text("utf-8")
    headers = {**basic("acme-staging", PASSWORD), "Content-Type": "application/xml"}

    def send(prosjektnavn: str) -> Any:
        text = form.replace("Boligblokk Prøvevegen", prosjektnavn)
        return client.post("/api/v1/innsending", data=text.encode(), headers=headers)

    marked = send("Boligblokk [SANDBOX:Mangel-Then-Vedtak] Prøvevegen")
    assert marked.status_code == 201, marked.get_data(as_text=True)
    unknown = send("Boligblokk [sandbox:no-such-thing]")
    assert unknown.status_code == 400
    problem = unknown.get_json()["errors"][0]
    assert problem["field"] == "/ramme/metadata/prosjektnavn"  # not the JSON's tittel
    assert "no-such-thing" in problem["message"] and "mangel-then-vedtak" in problem["message"]
    assert "linje 27" in problem["message"]
    with app.app_context():
        runs = get_session().scalars(select(Run)).all()
        assert [r.scenario_id for r in runs] == ["mangel-then-vedtak"]  # the refused one: none


def test_the_case_takes_the_soknads_kommune(client: FlaskClient) -> None:
    make_tenant(client)
    ref = submit(client, "acme-staging", PASSWORD, kommunenummer="0301").get_json()
    status = client.get(
        f"/api/v1/status?innsendingReferanse={ref['innsendingReferanse']}",
        headers=basic("acme-staging", PASSWORD),
    )
    assert status.status_code == 200, status.get_data(as_text=True)
    run = client.get("/sandbox/runs").get_json()["runs"][0]
    assert run["kommune"]["kommunenummer"] == "0301"
    assert run["innsendingReferanser"] == [ref["innsendingReferanse"]]


def test_a_dibk_test_kommunenummer_stands_for_the_scenarios_kommune(
    client: FlaskClient,
) -> None:
    make_tenant(client)
    plain = submit(client, "acme-staging", PASSWORD)
    assert plain.status_code == 201, plain.get_data(as_text=True)
    made = submit(client, "acme-staging", PASSWORD, kommunenummer="9998")
    assert made.status_code == 201, made.get_data(as_text=True)
    test_run, plain_run = client.get("/sandbox/runs").get_json()["runs"][:2]
    assert test_run["kommune"] == plain_run["kommune"]  # the scenario's, as with no number
    assert test_run["kommune"]["kommunenummer"] not in ("9996", "9997", "9998", "9999")


def test_two_runs_of_one_scenario_publish_letters_of_their_own(client: FlaskClient) -> None:
    make_tenant(client)
    mine = basic("acme-staging", PASSWORD)
    refs = [
        submit(client, "acme-staging", PASSWORD, tittel=tittel).get_json()["innsendingReferanse"]
        for tittel in ("Enebolig 1", "Enebolig 2")
    ]
    time.sleep(1.2)  # three virtual weeks: both vedtak letters are out
    letters = {}
    for ref in refs:
        items = client.get(f"/api/v1/oppdatering?innsendingReferanse={ref}", headers=mine)
        letters[ref] = [
            d["dokumentUrl"].removeprefix("http://localhost")
            for item in items.get_json()
            for d in item.get("utgaaendeDokument") or []
        ]
        assert letters[ref], ref
    assert not set(letters[refs[0]]) & set(letters[refs[1]])  # the seed alone made them one
    for ref in refs:
        letter = client.get(letters[ref][0], headers=mine)
        assert letter.status_code == 200
        assert f"Deres referanse: {ref}".encode() in letter.data


def test_a_scenarios_own_innsendinger_are_the_tenants_too(client: FlaskClient) -> None:
    make_tenant(client)
    mine = basic("acme-staging", PASSWORD)
    ref = submit(client, "acme-staging", PASSWORD, tittel="Garasje [sandbox:samling]")
    listed = client.get("/sandbox/tenants/acme/runs").get_json()["runs"][0]
    refs = listed["innsendingReferanser"]  # the scenario's own and the søknad's
    assert len(set(refs)) == 2 and ref.get_json()["innsendingReferanse"] in refs
    for each in refs:
        status = client.get(f"/api/v1/status?innsendingReferanse={each}", headers=mine)
        assert status.status_code == 200, (each, status.get_data(as_text=True))


def test_wrong_password_is_401_counted_and_never_journalled(
    app: Flask, client: FlaskClient
) -> None:
    make_tenant(client)
    ref = submit(client, "acme-staging", PASSWORD).get_json()["innsendingReferanse"]
    with app.app_context():
        session = get_session()
        before = len(session.scalars(select(JournalEntry)).all())
    wrong = basic("acme-staging", "not-the-password")
    assert submit(client, "acme-staging", "not-the-password").status_code == 401
    for path in ("kvittering", "status", "oppdatering"):
        answer = client.get(f"/api/v1/{path}?innsendingReferanse={ref}", headers=wrong)
        assert answer.status_code == 401
    assert client.get("/api/v1/nowhere", headers=wrong).status_code in (401, 404)
    app.extensions["sandbox.auth_failures"].flush()
    with app.app_context():
        session = get_session()
        assert len(session.scalars(select(JournalEntry)).all()) == before
        assert len(session.scalars(select(Run)).all()) == 1
        tally = session.get(TenantAuthFailureTally, "acme")
        assert tally is not None and tally.count == 5


def test_another_tenant_gets_404(client: FlaskClient) -> None:
    make_tenant(client)
    make_tenant(client, name="bravo", username="bravo-staging")
    ref = submit(client, "acme-staging", PASSWORD).get_json()["innsendingReferanse"]
    mine = basic("acme-staging", PASSWORD)
    theirs = basic("bravo-staging", PASSWORD)
    for path in ("kvittering", "status", "oppdatering"):
        url = f"/api/v1/{path}?innsendingReferanse={ref}"
        assert client.get(url, headers=theirs).status_code == 404, path
        assert client.get(url, headers=mine).status_code in (200, 404), path
    supplering = client.post(
        "/api/v1/supplering", json={"innsendingReferanse": ref}, headers=theirs
    )
    assert supplering.status_code == 404
    assert client.get("/api/v1/status", headers=mine).status_code == 400


class StagingClient:
    """A staging søknadssystem configured once: a base URL, a username and a password."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base = f"{base_url}/api/v1"
        self.http = requests.Session()
        self.http.auth = (username, password)

    def submit(self, **fields: Any) -> str:
        """Send a søknad; its innsendingReferanse."""
        response = self.http.post(f"{self.base}/innsending", json={**INNSENDING, **fields})
        assert response.status_code == 201, response.text
        return str(response.json()["innsendingReferanse"])

    def get(self, path: str, ref: str) -> requests.Response:
        """A poll for ``ref``."""
        return self.http.get(f"{self.base}/{path}", params={"innsendingReferanse": ref})

    def wait_for_vedtak(self, ref: str, seconds: float = 20.0) -> dict[str, Any]:
        """Poll kvittering and oppdatering until the vedtak is there."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.get("kvittering", ref)
            items = self.get("oppdatering", ref)
            if items.status_code == 200:
                for item in items.json():
                    if item["hendelse"] == "vedtak":
                        result: dict[str, Any] = item
                        return result
            time.sleep(0.2)
        raise AssertionError(f"no vedtak for {ref}")


def test_staging_client_over_http(live_server: LiveServer) -> None:
    admin = requests.Session()
    for name in ("acme", "bravo"):
        answer = admin.post(
            f"{live_server.url}/sandbox/tenants",
            json=tenant_body(name=name, username=f"{name}-staging"),
        )
        assert answer.status_code == 201, answer.text
    acme = StagingClient(live_server.url, "acme-staging", PASSWORD)
    plain = acme.submit()
    marked = acme.submit(tittel="Tilbygg [sandbox:soknadstype-change]")
    again = acme.submit(tittel="Enebolig nr. 2")  # the same body again would be a resend
    assert len({plain, marked, again}) == 3
    for ref in (plain, marked):
        vedtak = acme.wait_for_vedtak(ref)
        assert vedtak["vedtak"]["resultat"] == "innvilget"
        assert acme.get("status", ref).status_code == 200
    bravo = StagingClient(live_server.url, "bravo-staging", PASSWORD)
    for ref in (plain, marked, again):
        for path in ("kvittering", "oppdatering", "status"):
            assert bravo.get(path, ref).status_code == 404
    letters = [
        d["dokumentUrl"]
        for item in acme.get("oppdatering", plain).json()
        for d in item.get("utgaaendeDokument") or []
    ]
    assert letters, "the happy path's vedtak sends a letter"
    assert acme.http.get(letters[0]).status_code == 200
    assert bravo.http.get(letters[0]).status_code == 404
    runs = admin.get(f"{live_server.url}/sandbox/runs").json()["runs"]
    scenarios = sorted(r["scenario"] for r in runs)
    assert scenarios == ["happy-path", "happy-path", "soknadstype-change"]


def test_a_tenant_answers_a_mangel_and_gets_its_vedtak(live_server: LiveServer) -> None:
    answer = requests.post(f"{live_server.url}/sandbox/tenants", json=tenant_body(), timeout=10)
    assert answer.status_code == 201, answer.text
    vendor = Vendor(live_server.url, {"username": "acme-staging", "password": PASSWORD}, [])
    ref = vendor.submit({**INNSENDING, "tittel": "Rekkehus [Sandbox:Mangel-Then-Vedtak]"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        vendor.poll()  # kvittering, oppdatering, status, letters; answers the mangler
        if any(o["hendelse"] == "vedtak" for o in vendor.seen.oppdateringer.get(ref, [])):
            break
        time.sleep(0.2)
    hendelser = [o["hendelse"] for o in vendor.seen.oppdateringer.get(ref, [])]
    assert "mangel" in hendelser and "vedtak" in hendelser, hendelser
    assert vendor.seen.suppleringer, "the mangel was answered with the tenant's credentials"
    assert len(vendor.seen.documents) >= 2  # the mangelbrev and the vedtak letter


def _runs_of(client: FlaskClient, tenant: str = "acme") -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = client.get(f"/sandbox/tenants/{tenant}/runs").get_json()["runs"]
    return runs


def test_dibks_supplering_naming_only_its_case_finds_the_tenants_run(
    client: FlaskClient,
) -> None:
    # Supplering av søknad v2 names its case by kommunensSaksnummer alone: with the
    # tenant's credentials it was a 400 "must name innsendingReferanse".
    make_tenant(client, scenario="mangel-then-vedtak", clock={"mode": "manual"})
    mine = basic("acme-staging", PASSWORD)
    ref = submit(client, "acme-staging", PASSWORD).get_json()["innsendingReferanse"]
    [run] = _runs_of(client)
    assert (
        client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": "P10D"}).status_code == 200
    )
    status = client.get(f"/api/v1/status?innsendingReferanse={ref}", headers=mine).get_json()
    saksnummer = {k: status["saksnummer"][k] for k in ("saksaar", "sakssekvensnummer")}
    mangler = [m["mangelID"] for m in status["mangler"]]
    form = filled("su-v2.xml", mangler, saksnummer).encode("utf-8")
    sent = client.post(
        "/api/v1/supplering", data=form, headers={**mine, "Content-Type": "application/xml"}
    )
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["innsendingReferanse"] == ref
    after = client.get(f"/api/v1/status?innsendingReferanse={ref}", headers=mine).get_json()
    assert after["komplett"] is True
    # A saksnummer none of the tenant's runs has: refused, and it names what it looked for.
    other = filled("su-v2.xml", mangler, {"saksaar": "1999", "sakssekvensnummer": "1"})
    refused = client.post(
        "/api/v1/supplering", data=other.encode(), headers={**mine, "Content-Type": "text/xml"}
    )
    assert refused.status_code == 400
    assert "kommunensSaksnummer" in refused.get_json()["detail"]


def test_a_follow_up_soknad_goes_into_the_tenants_run_of_its_case(client: FlaskClient) -> None:
    # long-case under `run --tenant`: the IG on the rammetillatelse's saksnummer, sent with
    # the tenant's credentials, started a run of its own and was refused there.
    make_tenant(client, scenario="happy-path")
    mine = basic("acme-staging", PASSWORD)
    created = client.post(
        "/sandbox/runs",
        json={"scenario": "long-case", "tenant": "acme", "clock": {"mode": "manual"}},
    )
    assert created.status_code == 201, created.get_json()
    run = created.get_json()
    [ramme] = run["innsendingReferanser"]
    assert (
        client.post(f"/sandbox/runs/{run['id']}/clock", json={"advance": "P5W"}).status_code == 200
    )
    status = client.get(f"/api/v1/status?innsendingReferanse={ramme}", headers=mine).get_json()
    assert status["milepæl"] == "VE" or "vedtak" in status, status
    ig = {
        **INNSENDING,
        "soknadstype": "IG",
        "kommunensSaksnummer": {
            k: status["saksnummer"][k] for k in ("saksaar", "sakssekvensnummer")
        },
    }
    sent = client.post("/api/v1/innsending", json=ig, headers=mine)
    assert sent.status_code == 201, sent.get_json()
    assert [r["id"] for r in _runs_of(client)] == [run["id"]]  # no run of its own
    case = client.get(f"/sandbox/runs/{run['id']}/case").get_json()["sak"]
    assert [i["soknadstype"] for i in case["innsendinger"]] == ["RS", "IG"]
