"""Kommune events: each changes the case and yields the kvittering or oppdatering DiBK describes.

An event is a small dataclass with ``apply(sak, ctx)`` (see :mod:`app.domain.events.base`).
The kinds are grouped by what they do: ``journalforing`` (kvittering, saksnummer),
``saksbehandling`` (caseworker, frist, søknadstype, komplett, letters), ``mangel``
(mangelbrev and supplering) and ``vedtak``. ``EVENT_TYPES`` maps each kind to its class.
"""

from __future__ import annotations

from app.domain.events.base import EVENT_TYPES, Event, EventContext
from app.domain.events.journalforing import EndreSaksnummer, Journalfor
from app.domain.events.mangel import DEFAULT_SVARFRIST, Mangelbrev, MangelInput, MottaSupplering
from app.domain.events.saksbehandling import (
    EndreSoknadstype,
    Komplett,
    PubliserDokument,
    SettFrist,
    TildelSaksbehandler,
)
from app.domain.events.vedtak import FattVedtak, VedtakspunktInput

__all__ = [
    "DEFAULT_SVARFRIST",
    "EVENT_TYPES",
    "EndreSaksnummer",
    "EndreSoknadstype",
    "Event",
    "EventContext",
    "FattVedtak",
    "Journalfor",
    "Komplett",
    "MangelInput",
    "Mangelbrev",
    "MottaSupplering",
    "PubliserDokument",
    "SettFrist",
    "TildelSaksbehandler",
    "VedtakspunktInput",
]
