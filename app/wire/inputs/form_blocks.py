"""The blocks of DiBK's forms the sandbox accepts as sent without reading them: one list per form.

Sandbox assumption: each path below is a block (or an element) that DiBK's own example forms
carry (the FtPB test engine's forms, ``Arkitektum/altinn-studio-api-tools`` ``examples/forms``
at commit b134dcd9), that the sandbox has no use for. Such a block is taken as it stands,
with everything in it, and gives no advarsel; an advarsel on a form means something a
vendor should act on. An element on no list and not read by the form's schema is still
left out with an advarsel naming its path (a typo, or a block of another form).

Paths are dotted, relative to the form's root, without list indices: ``soeknadGjelder.bruk``
is every ``/ettrinn/soeknadGjelder/bruk``, ``eiendomByggested.eiendom.adresse`` the
``adresse`` of each ``eiendom``. docs/wire-contract.md lists the same, form by form.
"""

from __future__ import annotations

# Every søknad (ET v4, RS v4, IG v5, MB v5, FA v5): the parties, the general conditions, the
# checklist answers, and what of the metadata, byggested and soeknadGjelder is not read.
SOEKNAD = frozenset(
    {
        "generelleVilkaar",
        "ansvarligSoeker",
        "tiltakshaver",
        "ansvarForByggesaken",
        # seen in ET, IG and FA; assumed for RS and MB, which DiBK builds from the same parts
        "automatiseringskrav",
        "metadata.prosjektnr",
        "metadata.foretrukketSpraak",
        "soeknadGjelder.foelgebrev",
        "eiendomByggested.eiendom.adresse",
        "eiendomByggested.eiendom.bygningsnummer",
        "eiendomByggested.eiendom.bolignummer",
        "eiendomByggested.eiendom.kommunenavn",
        "eiendomByggested.eiendom.eiendomsidentifikasjon.gaardsnummer",
        "eiendomByggested.eiendom.eiendomsidentifikasjon.bruksnummer",
        "eiendomByggested.eiendom.eiendomsidentifikasjon.festenummer",
        "eiendomByggested.eiendom.eiendomsidentifikasjon.seksjonsnummer",
    }
)
# ET v4 and RS v4: the application itself (use, plans, framework conditions, neighbours).
TILLATELSE = SOEKNAD | {
    "metadata.samtykkeTilByggeplaner",
    "soeknadGjelder.bruk",
    "fakturamottaker",
    "varsling",
    "planer",
    "rammebetingelser",
    "dispensasjonOversikt",
    "ansvarsrettSoeker",
}
# IG v5 and MB v5: which part of the tiltak, and the earlier part-applications.
DELSOEKNAD = SOEKNAD | {
    "soeknadGjelder.gjelderHeleTiltaket",
    "soeknadGjelder.delAvTiltaket",
    "soeknadGjelder.delsoeknadsnummer",
    "delsoeknader",
}

UNREAD: dict[str, frozenset[str]] = {
    "ET": TILLATELSE,
    "RS": TILLATELSE,
    "IG": DELSOEKNAD,
    "MB": DELSOEKNAD | {"datoFerdigattest", "gjenstaaendeArbeider", "sikkerhetsnivaa"},
    "FA": SOEKNAD
    | {
        "kravFerdigattest",
        "foretattIkkeSoeknadspliktigeJusteringer",
        "tilstrekkeligDokumentasjonOverlevertEier",
        "varmesystem",
    },
    # Supplering av søknad v2 (XML and JSON alike): the søknad's blocks it repeats.
    "SU": frozenset(
        {
            "eiendomByggested",
            "generelleVilkaar",
            "soeknadGjelder",
            "ansvarligSoeker",
            "tiltakshaver",
            "ansvarForByggesaken",
        }
    ),
}


def unread(form: str) -> frozenset[str]:
    """The blocks of form ``form`` (ET, RS, IG, MB, FA or SU) accepted without being read."""
    return UNREAD.get(form, frozenset())


def top_level(form: str) -> frozenset[str]:
    """The root-level blocks of ``form`` accepted without being read."""
    return frozenset(p for p in unread(form) if "." not in p)
