"""Every shipped scenario, end to end over real HTTP with the manual clock.

For each scenario the kommune side must fire every step at the virtual time worked out
here by hand from the YAML (working days skip weekends and Norwegian holidays), and the
client must see the right payloads at each step. Every payload the client receives must
pass DiBK's rules and the published output schema.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from app.wire import outputs, rules
from tests.conftest import LiveServer
from tests.vendor import Vendor, play

FIRED_AT: dict[str, dict[str, str]] = {
    "fordelingssak-renumbering": {
        "journalfor": "2025-03-03T10:00:00.000Z",
        "egen-sak": "2025-03-05T10:00:00.000Z",  # 2 virkedager: Tue, Wed
        "mangel": "2025-03-06T10:00:00.000Z",
        "vedtak": "2025-03-11T10:00:00.000Z",  # answered Thu 6; Fri, Mon, Tue
    },
    "late-caseworker": {
        "journalfor": "2025-04-16T08:00:00.000Z",
        # Skjærtorsdag, langfredag and 2. påskedag are no virkedager: Tue 22, Wed 23.
        "saksbehandler": "2025-04-23T08:00:00.000Z",
        "ny-saksbehandler": "2025-04-30T08:00:00.000Z",
        "mangel": "2025-05-02T08:00:00.000Z",  # 1 May is a holiday: Fri 2
        "vedtak": "2025-05-06T08:00:00.000Z",  # answered at once; Mon 5, Tue 6
    },
    "mangel-then-vedtak": {
        "journalfor": "2025-03-03T10:00:00.000Z",
        "mangel": "2025-03-06T10:00:00.000Z",
        "vedtak": "2025-03-13T10:00:00.000Z",
    },
    "samling": {
        "journalfor-ramme": "2025-03-03T10:00:00.000Z",
        "journalfor-disp": "2025-03-03T11:00:00.000Z",
        "samling": "2025-03-04T11:00:00.000Z",
        "mangel": "2025-03-11T11:00:00.000Z",
        "vedtak": "2025-03-18T11:00:00.000Z",
        "vedtak-dispensasjon": "2025-03-18T12:00:00.000Z",
    },
    "splitting": {
        "journalfor": "2025-03-03T09:00:00.000Z",
        "splitting": "2025-03-05T09:00:00.000Z",
        "saksbehandler": "2025-03-06T09:00:00.000Z",
        "vedtak": "2025-03-20T09:00:00.000Z",
    },
    "incomplete-application": {
        "journalfor": "2025-03-03T10:00:00.000Z",
        "mangel": "2025-03-04T10:00:00.000Z",
        "ny-frist": "2025-03-18T10:00:00.000Z",
        "vedtak": "2025-04-08T10:00:00.000Z",
    },
    "soknadstype-change": {
        "journalfor": "2025-03-03T09:00:00.000Z",
        "soknadstype": "2025-03-10T09:00:00.000Z",
        "tiltakstype": "2025-03-17T09:00:00.000Z",
        "vedtak": "2025-03-24T09:00:00.000Z",
    },
    "avslag-and-avvisning": {
        "journalfor-carport": "2025-03-03T09:00:00.000Z",
        "journalfor-brygge": "2025-03-03T10:00:00.000Z",
        "avslag": "2025-03-17T09:00:00.000Z",
        "avvisning": "2025-03-10T10:00:00.000Z",
    },
    "happy-path": {
        "journalfor": "2025-03-03T09:00:00.000Z",
        "vedtak": "2025-03-24T08:00:00.000Z",
    },
    "long-case": {
        "journalfor-ramme": "2025-03-03T10:00:00.000Z",
        "rammetillatelse": "2025-03-31T10:00:00.000Z",
        "journalfor-ig": "2025-03-31T14:00:00.000Z",  # the client submits when it sees the vedtak
        "igangsettingstillatelse": "2025-04-21T14:00:00.000Z",
    },
    "mangel-answered-later": {
        "journalfor": "2025-03-03T10:00:00.000Z",
        "mangel": "2025-03-06T10:00:00.000Z",
        "vedtak": "2025-03-13T10:00:00.000Z",
    },
    "rough-day": {
        "journalfor": "2025-03-03T10:00:00.000Z",
        "mangel": "2025-03-06T10:00:00.000Z",
        "vedtak": "2025-03-13T10:00:00.000Z",
    },
}

IG_SOKNAD = {
    "soknadstype": "IG",
    "tiltakstype": ["nyttbyggboligformal"],
    "tittel": "Boligblokk, igangsettingstillatelse",
    "dokumenter": [
        {"dokumentNavn": "Skjema.pdf", "mimeType": "application/pdf", "dokumentStorrelse": "90000"}
    ],
}


def _submit_ig_after_rammetillatelse(vendor: Vendor) -> None:
    """The IG as the JSON innsending: the case by its saksnummer, its vilkår answered."""
    if len(vendor.refs) > 1:
        return
    ramme = vendor.refs[0]
    vedtak = [o for o in vendor.seen.oppdateringer.get(ramme, []) if o["hendelse"] == "vedtak"]
    if not vedtak:
        return
    saksnummer = vendor.seen.kvitteringer[ramme]["saksnummer"]
    svar = [
        {"utfallId": u["utfallId"], "utfallType": u["utfallType"], "erUtfallBesvart": True}
        for u in vedtak[0]["utfall"]
        if "utfallType" in u
    ]
    vendor.submit(
        {
            **IG_SOKNAD,
            "kommunensSaksnummer": {k: saksnummer[k] for k in ("saksaar", "sakssekvensnummer")},
            "utfallBesvarelse": {"utfallSvar": svar},
        }
    )


HOOKS: dict[str, Callable[[Vendor], None]] = {"long-case": _submit_ig_after_rammetillatelse}


def _by_event(vendor: Vendor, ref: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for item in vendor.seen.oppdateringer.get(ref, []):
        out.setdefault(item["hendelse"], []).append(item)
    return out


def _sak(value: dict[str, Any]) -> str:
    return f"{value['saksaar']}/{value['sakssekvensnummer']}"


def check_fordelingssak(vendor: Vendor, refs: list[str]) -> None:
    [ref] = refs
    kvittering = vendor.seen.kvitteringer[ref]
    events = _by_event(vendor, ref)
    [endring] = events["endre_saksnummer"]
    info = endring["nokkelinfo"]["endringAvSaksnummer"]
    assert info["typeOppdatering"] == "endring"
    assert [_sak(s) for s in info["opprinneligSaksnummer"]] == [_sak(kvittering["saksnummer"])]
    new = _sak(endring["nokkelinfo"]["saksnummer"])
    assert new != _sak(kvittering["saksnummer"])
    assert endring["melding"] == ["Saken er flyttet fra fordelingssak til egen sak."]
    [answer] = vendor.seen.suppleringer
    assert _sak(answer["request"]["kommunensSaksnummer"]) == new
    assert answer["response"]["advarsler"] == []
    assert _sak(vendor.seen.status[ref]["saksnummer"]) == new
    assert vendor.seen.status[ref]["milepæl"] == "VF"


def check_late_caseworker(vendor: Vendor, refs: list[str]) -> None:
    [ref] = refs
    kvittering = vendor.seen.kvitteringer[ref]
    assert "avsenderKontaktpunkt" not in kvittering
    # Tiltak uten ansvarsrett: three weeks from receipt.
    assert kvittering["saksbehandlingsfrist"] == "2025-05-07T07:00:00.000Z"
    first, second = _by_event(vendor, ref)["tildel_saksbehandler"]
    assert "nyttFeltFraDiBK" in first  # the unknown_field fault
    assert first["nokkelinfo"]["saksbehandler"]["epost"].endswith("@asker.kommune.invalid")
    assert second["nokkelinfo"]["saksbehandler"]["navn"] == "Ingrid Bakke"
    assert first["nokkelinfo"]["saksbehandler"]["navn"] != "Ingrid Bakke"
    assert vendor.seen.status[ref]["avsenderKontaktpunkt"]["navn"] == "Ingrid Bakke"
    # The mangel the client must act on carries the unknown field too.
    [mangel] = _by_event(vendor, ref)["mangel"]
    assert "nyttFeltFraDiBK" in mangel
    [answer] = vendor.seen.suppleringer
    assert answer["request"]["mangelbesvarelse"][0]["mangelID"] == mangel["utfall"][0]["mangelID"]


def check_mangel_then_vedtak(vendor: Vendor, refs: list[str]) -> None:
    [ref] = refs
    assert vendor.seen.kvitteringer[ref]["saksbehandlingsfrist"] == "2025-05-26T08:00:00.000Z"
    events = _by_event(vendor, ref)
    [mangel] = events["mangel"]
    assert [u["utfall"]["kodeverdi"] for u in mangel["utfall"]] == ["MSL", "MG"]
    assert mangel["nokkelinfo"]["saksbehandlingsfristStatus"] == "pauset"
    assert all(u["svarfrist"] == "2025-03-27T10:00:00.000Z" for u in mangel["utfall"])
    [komplett] = events["supplering"]
    assert komplett["soknadStatus"] == "KS"
    # Paused and resumed at the same virtual moment: the frist is where it was.
    assert komplett["nokkelinfo"]["saksbehandlingsfrist"] == "2025-05-26T08:00:00.000Z"
    [vedtak] = events["vedtak"]
    assert [u["utfall"]["kodeverdi"] for u in vedtak["utfall"]] == ["FV", "SVV", "MKV"]
    assert vedtak["vedtak"] == {"resultat": "innvilget", "vedtaksdato": "2025-03-13T10:00:00.000Z"}
    assert len(vendor.seen.documents) == 2
    assert all(content.startswith(b"%PDF") for content in vendor.seen.documents.values())


def check_samling(vendor: Vendor, refs: list[str]) -> None:
    a, b = refs
    [samling] = _by_event(vendor, a)["endre_saksnummer"]
    assert samling == _by_event(vendor, b)["endre_saksnummer"][0]
    assert samling["metadata"]["innsendingReferanse"] == [a, b]
    assert len(samling["metadata"]["ftBID"]) == 2
    info = samling["nokkelinfo"]["endringAvSaksnummer"]
    assert len(info["opprinneligSaksnummer"]) == 2 and len(info["tilSaksnummer"]) == 1
    assert _sak(vendor.seen.status[a]["saksnummer"]) == _sak(vendor.seen.status[b]["saksnummer"])
    assert _sak(vendor.seen.status[a]["saksnummer"]) == _sak(info["tilSaksnummer"][0])
    # The mangel on the merged case carries the unknown field; the answer, the merged number.
    [mangel] = _by_event(vendor, a)["mangel"]
    assert "nyttFeltFraDiBK" in mangel and "nyttFeltFraDiBK" in samling
    [answer] = vendor.seen.suppleringer
    assert _sak(answer["request"]["kommunensSaksnummer"]) == _sak(info["tilSaksnummer"][0])
    assert _by_event(vendor, a)["vedtak"][0]["oppdatertDato"] == "2025-03-18T11:00:00.000Z"
    assert _by_event(vendor, b)["vedtak"][0]["oppdatertDato"] == "2025-03-18T12:00:00.000Z"


def check_splitting(vendor: Vendor, refs: list[str]) -> None:
    [ref] = refs
    [split] = _by_event(vendor, ref)["endre_saksnummer"]
    info = split["nokkelinfo"]["endringAvSaksnummer"]
    assert info["typeOppdatering"] == "splitting"
    assert len(info["opprinneligSaksnummer"]) == 1 and len(info["tilSaksnummer"]) == 2
    status = vendor.seen.status[ref]
    assert _sak(status["saksnummer"]) == _sak(info["tilSaksnummer"][0])
    assert [_sak(s) for s in status["relaterteSaksnummer"]] == [_sak(info["tilSaksnummer"][1])]


def check_incomplete(vendor: Vendor, refs: list[str]) -> None:
    [ref] = refs
    assert "saksbehandlingsfrist" not in vendor.seen.kvitteringer[ref]
    events = _by_event(vendor, ref)
    assert events["mangel"][0]["nokkelinfo"]["saksbehandlingsfristStatus"] == "ikke_startet"
    # Complete on Tue 4 March at 10:00: a fresh 12-week frist.
    assert (
        events["supplering"][0]["nokkelinfo"]["saksbehandlingsfrist"] == "2025-05-27T10:00:00.000Z"
    )
    assert (
        events["sett_frist"][0]["nokkelinfo"]["saksbehandlingsfrist"] == "2025-06-24T10:00:00.000Z"
    )


def check_soknadstype(vendor: Vendor, refs: list[str]) -> None:
    [ref] = refs
    first, second = _by_event(vendor, ref)["endre_soknadstype"]
    assert first["nokkelinfo"]["soknadstype"] == {
        "kodeverdi": "ET",
        "kodebeskrivelse": "Søknad om tillatelse i ett trinn",
    }
    assert first["utgaaendeDokument"][0]["dokumentTittel"] == "Endring av søknadstype"
    assert [t["kodeverdi"] for t in second["nokkelinfo"]["tiltakstype"]] == [
        "tilbyggunder50m2",
        "fasade",
    ]
    assert "utgaaendeDokument" not in second
    assert vendor.seen.status[ref]["soknadstype"]["kodeverdi"] == "ET"


def check_avslag_avvisning(vendor: Vendor, refs: list[str]) -> None:
    carport, brygge = refs
    [avslag] = _by_event(vendor, carport)["vedtak"]
    [avvisning] = _by_event(vendor, brygge)["vedtak"]
    assert (
        avslag["vedtak"]["resultat"] == "avslag"
        and avslag["utfall"][0]["utfall"]["kodeverdi"] == "AVS"
    )
    assert avvisning["vedtak"]["resultat"] == "avvisning"
    assert avvisning["utfall"][0]["utfall"]["kodeverdi"] == "AVV"
    assert avvisning["melding"][0].startswith("Søker har ikke godtgjort")
    assert len(vendor.seen.documents) == 2


def check_happy_path(vendor: Vendor, refs: list[str]) -> None:
    [ref] = refs
    kvittering = vendor.seen.kvitteringer[ref]
    assert kvittering["avsenderKontaktpunkt"]["navn"] == "Ola Nordmann"
    assert kvittering["metadata"]["avsenderNavn"] == "Bærum kommune"
    assert kvittering["saksbehandlingsfrist"] == "2025-03-24T08:00:00.000Z"
    [vedtak] = _by_event(vendor, ref)["vedtak"]
    assert vedtak["oppdatertDato"] == "2025-03-24T08:00:00.000Z"


def check_long_case(vendor: Vendor, refs: list[str]) -> None:
    ramme, ig = refs
    rs_kvittering, ig_kvittering = vendor.seen.kvitteringer[ramme], vendor.seen.kvitteringer[ig]
    assert _sak(ig_kvittering["saksnummer"]) == _sak(rs_kvittering["saksnummer"])
    assert (
        ig_kvittering["saksnummer"]["journalpostnummer"]
        != rs_kvittering["saksnummer"]["journalpostnummer"]
    )
    assert ig_kvittering["mottattDato"] == "2025-03-31T10:00:00.000Z"
    assert ig_kvittering["saksbehandlingsfrist"] == "2025-04-21T10:00:00.000Z"  # IG: 3 weeks
    assert _by_event(vendor, ig)["vedtak"][0]["vedtak"]["resultat"] == "innvilget"
    # The IG answered the rammetillatelse's vilkår and oppfølgingspunkt by their utfallId.
    states = [u["status"] for u in vendor.seen.status[ramme]["utfall"]]
    assert states == ["besvart", "besvart"]


def check_mangel_answered_later(vendor: Vendor, refs: list[str]) -> None:
    [ref] = refs
    [mangel] = _by_event(vendor, ref)["mangel"]
    assert [u["tema"]["kodeverdi"] for u in mangel["utfall"]] == ["generelt", "nabovarsel"]
    [komplett] = _by_event(vendor, ref)["supplering"]
    assert komplett["soknadStatus"] == "KS"


def check_rough_day(vendor: Vendor, refs: list[str]) -> None:
    [ref] = refs
    too_many = [r for r in vendor.seen.retried if r[1] == 429]
    assert too_many == [("/api/v1/kvittering", 429, "2")] * 2
    assert vendor.seen.slowest_seconds >= 0.3
    mangel_seq = _by_event(vendor, ref)["mangel"][0]["sekvensnummer"]
    delivered = [o["sekvensnummer"] for items in vendor.seen.raw_oppdatering_lists for o in items]
    assert delivered.count(mangel_seq) >= 2  # the duplicate arrived ...
    assert len(vendor.seen.suppleringer) == 1  # ... and was answered once
    assert "vedtak" in _by_event(vendor, ref)


CHECKS: dict[str, Callable[[Vendor, list[str]], None]] = {
    "fordelingssak-renumbering": check_fordelingssak,
    "late-caseworker": check_late_caseworker,
    "mangel-then-vedtak": check_mangel_then_vedtak,
    "samling": check_samling,
    "splitting": check_splitting,
    "incomplete-application": check_incomplete,
    "soknadstype-change": check_soknadstype,
    "avslag-and-avvisning": check_avslag_avvisning,
    "happy-path": check_happy_path,
    "long-case": check_long_case,
    "mangel-answered-later": check_mangel_answered_later,
    "rough-day": check_rough_day,
}


def _valid_everything(vendor: Vendor) -> None:
    now = datetime.now(UTC).replace(year=2100)
    for payload in vendor.seen.kvitteringer.values():
        assert rules.check("kvittering", payload, now) == []
        outputs.KvitteringOut().load(payload)
    for items in vendor.seen.oppdateringer.values():
        for payload in items:
            # The unknown_field fault adds a field on purpose; the rest must be as published.
            payload = {k: v for k, v in payload.items() if k != "nyttFeltFraDiBK"}
            assert rules.check("oppdatering", payload, now) == []
            outputs.OppdateringOut().load(payload)
            _every_outcome_has_its_id(payload.get("utfall") or [])
    for payload in vendor.seen.status.values():
        assert rules.check("status", payload, now) == []
        outputs.StatusOut().load(payload)
        _every_outcome_has_its_id(payload.get("mangler") or [])
        _every_outcome_has_its_id(payload.get("utfall") or [])


def _every_outcome_has_its_id(items: list[dict[str, Any]]) -> None:
    """Each outcome carries utfallId and tema; a mangel its mangelID with the same value, and a
    mangel, vilkår or oppfølgingspunkt its utfallType and utloestFraSjekkpunkt."""
    for item in items:
        assert isinstance(item["utfallId"], str) and item["utfallId"], item
        assert item["tema"]["kodeverdi"], item
        code = item["utfall"]["kodeverdi"]
        if code in {"DOK", "MG", "MSL", "MSI", "OTI"}:
            assert item["mangelID"] == item["utfallId"]
        if code in {"DOK", "MG", "MSL", "MSI", "OTI", "SVV", "MKV"}:
            assert item["utfallType"]["kodeverdi"] in {"MG", "SVV", "MKV"}
            assert item["utloestFraSjekkpunkt"] == {
                "sjekkpunktId": item["sjekkpunktId"],
                "sjekkpunktEier": "dibk",
            }


def start(base: str, scenario: str, seed: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"scenario": scenario, "clock": {"mode": "manual"}}
    if seed is not None:
        body["seed"] = seed
    response = requests.post(f"{base}/sandbox/runs", json=body, timeout=15)
    assert response.status_code == 201, response.text
    run: dict[str, Any] = response.json()
    return run


def test_library_is_covered() -> None:
    from pathlib import Path

    shipped = {p.stem for p in Path(__file__).parents[1].joinpath("scenarios").glob("*.yaml")}
    assert shipped == set(FIRED_AT) == set(CHECKS)


@pytest.mark.parametrize("scenario", sorted(FIRED_AT))
def test_scenario_plays_out(live_server: LiveServer, scenario: str) -> None:
    base = live_server.url
    run = start(base, scenario)
    assert run["scenario"] == scenario and run["clock"]["mode"] == "manual"
    vendor = Vendor(base, run["credentials"], run["innsendingReferanser"])
    timeline = play(requests.Session(), base, run, vendor, HOOKS.get(scenario))
    fired = {s["id"]: s.get("firedAt") for s in timeline["steps"]}
    statuses = {s["id"]: s["status"] for s in timeline["steps"]}
    assert statuses == dict.fromkeys(FIRED_AT[scenario], "fired")
    assert fired == FIRED_AT[scenario]
    _valid_everything(vendor)
    CHECKS[scenario](vendor, vendor.refs)


def test_two_runs_of_one_scenario_at_once_do_not_cross_talk(live_server: LiveServer) -> None:
    base = live_server.url
    runs = [start(base, "mangel-then-vedtak", seed) for seed in (1, 2)]
    vendors = [Vendor(base, r["credentials"], r["innsendingReferanser"]) for r in runs]
    timelines: list[dict[str, Any]] = [{}, {}]
    errors: list[BaseException] = []

    def drive(index: int) -> None:
        try:
            timelines[index] = play(requests.Session(), base, runs[index], vendors[index])
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=drive, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    for index, (run, vendor) in enumerate(zip(runs, vendors, strict=True)):
        assert {s["firedAt"] for s in timelines[index]["steps"]} == set(
            FIRED_AT["mangel-then-vedtak"].values()
        )
        check_mangel_then_vedtak(vendor, vendor.refs)
        # Each run's journal holds only its own client's requests.
        journal = requests.get(f"{base}/sandbox/runs/{run['id']}/journal", timeout=15).json()[
            "entries"
        ]
        users = {e["request"]["headers"]["Authorization"].split(":")[0] for e in journal}
        assert users == {f"Basic {run['credentials']['username']}"}
    first, second = vendors
    assert set(first.refs).isdisjoint(second.refs)
    assert _sak(first.seen.status[first.refs[0]]["saksnummer"]) != _sak(
        second.seen.status[second.refs[0]]["saksnummer"]
    )
    # The other run's reference is unknown to this run's credentials.
    other = first.http.get(
        f"{base}/api/v1/status", params={"innsendingReferanse": second.refs[0]}, timeout=15
    )
    assert other.status_code == 404
