"""`byggesak-sandbox run` against a vendor's client written from the docs alone
(tests/adversary_client.py): requests that deliver nothing are not fetches, and the
spellings and habits the docs allow score 100 %."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.test_ci_verdicts import _results

CLIENT = f"{sys.executable} tests/adversary_client.py"


def _status(run: dict[str, Any], verdict_id: str) -> dict[str, Any]:
    [verdict] = [v for v in run["verdicts"] if v["id"] == verdict_id]
    return verdict


def test_oppdatering_polls_that_deliver_nothing_do_not_fetch_it(tmp_path: Path) -> None:
    # The client asks for oppdateringer with a cursor past them all and takes everything
    # from the status view: it answers, downloads and exits as it should, but it never
    # received the oppdatering with the vedtak, the new saksnummer or the new frist.
    runs = _results(
        tmp_path,
        f"{CLIENT} status-only",
        "happy-path",
        "fordelingssak-renumbering",
        "incomplete-application",
    )
    for scenario, expectation in (
        ("happy-path", "henter-vedtak"),
        ("fordelingssak-renumbering", "ser-nytt-saksnummer"),
        ("incomplete-application", "ser-ny-frist"),
    ):
        run = runs[scenario]
        assert run["passed"] is False, scenario
        verdict = _status(run, expectation)
        assert verdict["status"] == "FAILED", (scenario, verdict)
        if scenario != "happy-path":
            # (In happy-path the client may see the vedtak in the status view first and
            # exit before it polls oppdatering again: "sent none", failed just the same.)
            assert "delivered no oppdatering" in verdict["firstDivergence"], verdict


def test_a_client_that_reads_only_the_status_view_fails_where_it_never_got_an_oppdatering(
    tmp_path: Path,
) -> None:
    # The status view is the sandbox's own extension: a søknadssystem that learns of the
    # mangel and the vedtak there alone would learn nothing from a real kommune.
    scenarios = ("mangel-then-vedtak", "long-case", "mangel-answered-later", "avslag-and-avvisning")
    runs = _results(tmp_path, f"{CLIENT} status-only", *scenarios)
    for scenario in scenarios:
        run = runs[scenario]
        assert run["passed"] is False, scenario
        assert _status(run, "henter-oppdateringer")["status"] == "FAILED", scenario


def test_refused_polls_are_not_fetches(tmp_path: Path) -> None:
    # The same client polling oppdatering for a reference that does not exist (404).
    runs = _results(tmp_path, f"{CLIENT} status-only,bogus-ref", "happy-path", "long-case")
    happy = runs["happy-path"]
    assert happy["passed"] is False
    assert _status(happy, "henter-vedtak")["status"] == "FAILED"
    # long-case counts each innsending's kvittering fetches: the 404s before journalføring
    # are none of them, the real ones are.
    for fetched in ("henter-kvittering-ramme", "henter-kvittering-ig"):
        assert _status(runs["long-case"], fetched)["status"] == "PASSED"


def test_documented_variants_of_a_vendor_client_pass(tmp_path: Path) -> None:
    # Paths in DiBK's casing, lower-case header names, Supplering av søknad v2 in JSON,
    # each mangel in its own supplering, every write sent twice (a resend after a
    # timeout), and the same as DiBK's XML with mangelId in the older body elsewhere.
    scenarios = ("mangel-then-vedtak", "rough-day", "fordelingssak-renumbering")
    for modes in ("path-case,header-case,v2-body,split-answers,resend", "xml,resend"):
        runs = _results(tmp_path, f"{CLIENT} {modes}", *scenarios)
        for scenario in scenarios:
            run = runs[scenario]
            assert run["passed"] is True and run["score"] == 1.0, (modes, scenario, run["verdicts"])


def test_a_client_that_fails_in_the_grace_fails_the_run(tmp_path: Path) -> None:
    # It does everything right, polls once more (a repeated poll: its reaction is over,
    # the runner sees nothing left and gives it the grace), then exits 3.
    [run] = _results(tmp_path, f"{CLIENT} exit-late-nonzero", "happy-path").values()
    assert run["score"] == 1.0 and run["client"]["exitCode"] == 3
    assert run["passed"] is False
    assert run["error"].startswith("the client exited with code 3 after "), run["error"]
    assert run["error"].endswith(", after the last step"), run["error"]


def test_a_client_still_running_after_the_grace_is_stopped_and_not_failed(
    tmp_path: Path,
) -> None:
    # As the README says: every verdict was decided by what it did before.
    [run] = _results(tmp_path, f"{CLIENT} hang", "happy-path").values()
    assert run["client"]["exitCode"] < 0 and run["client"]["timedOut"] is False
    assert run["passed"] is True and "error" not in run
