"""`byggesak-sandbox run` against a vendor's client written from the docs alone
(tests/adversary_client.py): requests that deliver nothing are not fetches, and the
spellings and habits the docs allow score 100 %."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.test_ci_verdicts import _results

CLIENT = f"{sys.executable} tests/adversary_client.py"


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
