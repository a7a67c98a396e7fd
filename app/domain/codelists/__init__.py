"""DiBK code lists the forms use, each from one committed, dated JSON file in this folder.

A file is named ``<liste>_<YYYY-MM>.json`` and holds the list's date, its sources and its
codes, each with DiBK's label verbatim where it was seen and a ``kilde`` saying where the
label comes from. Exactly one file per list: a newer copy replaces the older one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class CodeList:
    """One code list: its codes with their labels, the date of the copy and its sources."""

    name: str
    dato: str
    filename: str
    koder: dict[str, str]
    kilder: dict[str, str]  # per code: which source its label comes from

    def kode(self, kodeverdi: str) -> dict[str, str]:
        """DiBK's ``{kodeverdi, kodebeskrivelse}`` object for a listed code."""
        return {"kodeverdi": kodeverdi, "kodebeskrivelse": self.koder[kodeverdi]}


def load(name: str) -> CodeList:
    """The code list ``name`` from its one dated file."""
    folder = resources.files(__name__)
    found = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name.startswith(f"{name}_") and entry.name.endswith(".json")
    )
    if len(found) != 1:
        raise LookupError(f"code list {name}: expected one dated file, found {found}")
    data: dict[str, Any] = json.loads(folder.joinpath(found[0]).read_text("utf-8"))
    return CodeList(
        name=data["liste"],
        dato=data["dato"],
        filename=found[0],
        koder={k["kodeverdi"]: k["kodebeskrivelse"] for k in data["koder"]},
        kilder={k["kodeverdi"]: k["kilde"] for k in data["koder"]},
    )


TEMA = load("tema")
UTFALLTYPE = load("utfalltype")
VEDLEGGSTYPE = load("vedleggstype")
ALL = (TEMA, UTFALLTYPE, VEDLEGGSTYPE)
