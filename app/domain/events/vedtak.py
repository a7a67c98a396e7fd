"""The vedtak: innvilget with vilkår and oppfølgingspunkter, avslag or avvisning."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from app.domain import codes
from app.domain.case import Sak, Vedtak, Vedtakspunkt
from app.domain.events.base import Event, EventContext, conflict, new_oppdatering, target
from app.domain.messages import Melding, Utfall, VedtakInfo


@dataclass
class VedtakspunktInput:
    """A vilkår or oppfølgingspunkt as the kommune writes it."""

    sjekkpunktId: str
    tittel: str
    beskrivelse: str = ""
    tema: str = codes.DEFAULT_TEMA


@dataclass
class FattVedtak(Event):
    """Decide (milepæl VF): innvilget with vilkår/oppfølgingspunkt, avslag or avvisning."""

    kind: ClassVar[str] = "vedtak"
    resultat: str = "innvilget"
    vilkaar: list[VedtakspunktInput] = field(default_factory=list)
    oppfolgingspunkter: list[VedtakspunktInput] = field(default_factory=list)

    def apply(self, sak: Sak, ctx: EventContext) -> list[Melding]:
        """Record the vedtak, stop the frist and send the decision letter."""
        innsending = target(sak, self.innsendingReferanse)
        if innsending.vedtak is not None:
            raise conflict(
                "vedtak.allerede_fattet",
                "resultat",
                f"Det er allerede fattet vedtak for {innsending.innsendingReferanse}.",
            )
        vedtak_id = ctx.new_id()
        punkter = [
            Vedtakspunkt(
                p.sjekkpunktId,
                code,
                p.tittel,
                p.beskrivelse,
                innsending.soknadstype,
                utfallId=ctx.new_id(),
                tema=p.tema,
                sjekkpunktEier=codes.SJEKKPUNKT_EIER,
            )
            for code, items in (
                (codes.VILKAAR_UTFALL, self.vilkaar),
                (codes.OPPFOLGING_UTFALL, self.oppfolgingspunkter),
            )
            for p in items
        ]
        innsending.milepael = "VF"
        innsending.frist.stop()
        oppdatering = new_oppdatering(self.kind, [innsending], ctx.now)
        oppdatering.soknadStatus = "VF"
        oppdatering.fristStatus = "stoppet"
        vedtak_kode = codes.VEDTAK_RESULTAT[self.resultat]
        oppdatering.utfall = [
            Utfall(
                sjekkpunktId="",
                utfall=vedtak_kode,
                tittel=codes.UTFALL[vedtak_kode],
                beskrivelse=f"Søknaden er {self._resultat_tekst()}.",
                prosesskategori=innsending.soknadstype,
                utfallId=vedtak_id,
            )
        ] + [Utfall.from_vedtakspunkt(p) for p in punkter]
        linjer = [f"Søknaden er {self._resultat_tekst()}.", ""]
        linjer += [f"Vilkår {p.sjekkpunktId}: {p.tittel}" for p in punkter if p.utfall == "SVV"]
        linjer += [
            f"Oppfølgingspunkt {p.sjekkpunktId}: {p.tittel}" for p in punkter if p.utfall == "MKV"
        ]
        dokument = ctx.publish(
            innsending,
            f"Vedtak - {codes.SOKNADSTYPE[innsending.soknadstype]}",
            linjer,
            ["fellestjenesterBygg", "svarUt"],
        )
        oppdatering.utgaaendeDokument.append(dokument)
        innsending.vedtak = Vedtak(
            self.resultat, ctx.now, punkter, dokument.dokumentId, utfallId=vedtak_id
        )
        oppdatering.vedtak = VedtakInfo(self.resultat, ctx.now)
        oppdatering.melding = list(self.melding)
        return [oppdatering]

    def _resultat_tekst(self) -> str:
        return {"innvilget": "innvilget", "avslag": "avslått", "avvisning": "avvist"}[self.resultat]
