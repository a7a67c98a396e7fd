"""A client must have fetched an oppdatering before it uses what it carries: one that
answers the mangel from the status view and fetches the oppdateringer once, at the end,
fails ``picks_up_all_oppdateringer`` (the status view is no substitute)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import basic


class Client:
    """A søknadssystem on mangel-then-vedtak, the kommune moved past the mangelbrev."""

    def __init__(self, http: FlaskClient, scenario: str = "mangel-then-vedtak") -> None:
        self.http = http
        run = http.post(
            "/sandbox/runs", json={"scenario": scenario, "clock": {"mode": "manual"}}
        ).json
        assert run is not None
        self.id, self.ref = run["id"], run["innsendingReferanser"][0]
        self.auth = basic(run["credentials"]["username"], run["credentials"]["password"])
        self.advance("P10D")  # journalført, then the mangelbrev

    def advance(self, duration: str) -> None:
        moved = self.http.post(f"/sandbox/runs/{self.id}/clock", json={"advance": duration})
        assert moved.status_code == 200, moved.json

    def get(self, api: str, **query: Any) -> Any:
        for _ in range(20):  # a scenario's 429 and 503 faults: this client asks again
            answer = self.http.get(
                f"/api/v1/{api}",
                query_string={"innsendingReferanse": self.ref, **query},
                headers=self.auth,
            )
            if answer.status_code not in (429, 503):
                break
        assert answer.status_code == 200, answer.json
        return answer.json

    def answer(self, mangel_ids: list[str], *, later: bool = False) -> None:
        saksnummer = self.get("status")["saksnummer"]
        flags = {"erUtfallBesvart": not later, "erUtfallBesvaresSenere": later}
        body = {
            "innsendingReferanse": self.ref,
            "kommunensSaksnummer": saksnummer,
            "utfallBesvarelse": {
                "utfallSvar": [
                    {"utfallId": m, **flags, "kommentar": "Vedlagt."} for m in mangel_ids
                ]
            },
        }
        sent = self.http.post("/api/v1/supplering", json=body, headers=self.auth)
        assert sent.status_code == 201, sent.json

    def verdict(self, verdict_id: str) -> dict[str, Any]:
        self.http.post(f"/sandbox/runs/{self.id}/finish")
        result = self.http.get(f"/sandbox/runs/{self.id}/result").json
        assert result is not None
        return next(v for v in result["verdicts"] if v["id"] == verdict_id)


def _mangel_ids(items: list[dict[str, Any]]) -> list[str]:
    return [u["mangelID"] for item in items for u in item.get("utfall", []) if "mangelID" in u]


@pytest.mark.parametrize("via", ["status", "oppdatering"])
def test_answering_a_mangel_before_fetching_its_oppdatering_fails(
    client: FlaskClient, via: str
) -> None:
    me = Client(client)
    if via == "status":
        ids = [m["mangelID"] for m in me.get("status")["mangler"]]
        me.answer(ids)
        me.advance("P10D")  # the vedtak
        everything = me.get("oppdatering", etter=0)  # once, at the end: it "has" them all
        assert set(_mangel_ids(everything)) == set(ids)
    else:
        ids = _mangel_ids(me.get("oppdatering", etter=0))
        me.answer(ids)
        me.advance("P10D")
        me.get("oppdatering", etter=1)  # the søknad complete, then the vedtak
    verdict = me.verdict("henter-oppdateringer")
    if via == "status":
        assert verdict["status"] == "FAILED", verdict
        assert "before it fetched it" in verdict["reason"]
        assert "expected oppdatering 1 for " in verdict["firstDivergence"]
        assert f"used {ids[0]} first" in verdict["firstDivergence"]
    else:
        assert verdict["status"] == "PASSED", verdict
