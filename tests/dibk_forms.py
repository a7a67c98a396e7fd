"""The DiBK-shaped fixtures in tests/fixtures/dibk/, filled in with a run's ids and saksnummer.

The fixtures are the sandbox's own, written from ../shared/domain/dibk-forms-and-utfall.md.
They carry placeholders: ``UTFALL-<n>`` for the n-th outcome's utfallId, ``1111`` for the
saksaar and ``2222`` for the sakssekvensnummer (numbers, so the JSON stays valid with
integers), ``9999`` is DiBK's test kommunenummer and stays.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "dibk"


def filled(name: str, utfall_ids: list[str], saksnummer: dict[str, str] | None = None) -> str:
    """The fixture's text with the run's utfallIds and saksnummer in place of the placeholders."""
    text = (FIXTURES / name).read_text("utf-8")
    # The saksnummer first: a random utfallId may hold "1111" or "2222" itself.
    if saksnummer is not None:
        text = text.replace("1111", saksnummer["saksaar"])
        text = text.replace("2222", saksnummer["sakssekvensnummer"])
    return re.sub(r"UTFALL-(\d+)", lambda m: utfall_ids[int(m[1]) - 1], text)


def filled_json(name: str, utfall_ids: list[str], saksnummer: dict[str, str]) -> Any:
    """A JSON fixture, filled in and parsed."""
    return json.loads(filled(name, utfall_ids, saksnummer))


def pascal(value: Any) -> Any:
    """``value`` with every key in PascalCase, as some søknadssystemer spell DiBK's JSON."""
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value
