"""DiBK code lists used by the simulated kommune (values from the domain reference)."""

from __future__ import annotations

from app.domain import codelists

# SUA's expansion is not published; the label here is the sandbox's reading of the data.
MILEPAEL: dict[str, str] = {
    "MS": "Mottatt søknad",
    "KS": "Komplett søknad",
    "MB": "Mangelbrev",
    "SUA": "Uttalelse fra annen myndighet",
    "VF": "Vedtak fattet",
}

SOKNADSTYPE: dict[str, str] = {
    "RS": "Søknad om rammetillatelse",
    "ET": "Søknad om tillatelse i ett trinn",
    "TA": "Søknad om tiltak uten ansvarsrett",
    "IG": "Søknad om igangsettingstillatelse",
    "MB": "Søknad om midlertidig brukstillatelse",
    "FA": "Søknad om ferdigattest",
    "ES": "Søknad om endring av tillatelse",
}

# Statutory processing deadline in weeks per søknadstype (pbl § 21-7, SAK10 ch. 7):
# 3 weeks for the simpler applications, 12 weeks for the rest.
FRIST_UKER: dict[str, int] = {
    "RS": 12,
    "ET": 12,
    "ES": 12,
    "TA": 3,
    "IG": 3,
    "MB": 3,
    "FA": 3,
}

UTFALL: dict[str, str] = {
    "MG": "Mangel",
    "MSL": "Mangel/'pauser' løpende tidsfrist",
    "MSI": "Mangel/tidsfrist starter ikke",
    "DOK": "Be om dokumentasjon",
    "OTI": "Oppfordre til innsending",
    "SVV": "Vilkår i vedtak",
    "MKV": "Oppfølgingspunkt i vedtak",
    "AVS": "Avslå søknad",
    "AVV": "Avvise søknad",
    "FV": "Fatte vedtak",
    "VP": "Vedtakspunkt",
    "KV": "Kunngjør vedtaket",
    "RAS": "Retur av søknad",
    "OS": "Oversend saken",
    "OTV": "Oversend til vegmyndighet",
}

# DiBK's test kommunenumre (not in SSB's list; DiBK's test forms use them): a søknad
# carrying one is for the run's kommune (sandbox assumption).
TEST_KOMMUNENUMRE = ("9996", "9997", "9998", "9999")
MANGEL_UTFALL = ("DOK", "MG", "MSL", "MSI", "OTI")
VILKAAR_UTFALL = "SVV"
OPPFOLGING_UTFALL = "MKV"

TYPE_ENDRING_SAKSNUMMER = ("endring", "samling", "splitting")

VEDTAK_RESULTAT: dict[str, str] = {
    "innvilget": "FV",
    "avslag": "AVS",
    "avvisning": "AVV",
}

DISTRIBUSJONSMETODE: dict[str, str] = {
    "fellestjenesterBygg": "Fellestjenester BYGG",
    "eInnsyn": "eInnsyn",
    "offentligPostjournal": "Offentlig postjournal",
    "svarUt": "SvarUt",
    "altinn": "Altinn",
    "digipost": "Digipost",
    "brev": "Brev",
    "annet": "Annet",
}

# Tema of an ettersending and of every outcome: one list (app/domain/codelists/).
ETTERSENDING_TEMA: dict[str, str] = codelists.TEMA.koder
DEFAULT_TEMA = "generelt"
# The checklist's owner of DiBK's national sjekkpunkter (its ``Eier``).
SJEKKPUNKT_EIER = "dibk"


def utfall_type(utfall: str) -> str | None:
    """The utfallType a søker answers an outcome by: MG for every mangel, SVV, MKV; else None."""
    if utfall in MANGEL_UTFALL:
        return "MG"
    return utfall if utfall in (VILKAAR_UTFALL, OPPFOLGING_UTFALL) else None


# Codes are DiBK's (GeoNorge tiltaktype, as seen in the 2024 checklists). Descriptions are
# DiBK's verbatim where published: nyttbyggboligformal, pabygg, bruksendring, vatrom, fasade,
# and those DiBK's example forms (FtPB's test engine, altinn-studio-api-tools b134dcd9) name:
# anleggseiendom, berekonstruksjoner, bruksendringhoveddel, driftsbygningendringover1000m2,
# endringbyggannet, innhegning, mikrohus, nyttanlegg, nyttbyggover70m2 (its spacing too),
# nyttbyggunder70m2, parkeringsplass, plasseringmidlertidig, rehabiliteringSkorstein,
# rivingdelerbygg, rivinghelebygg. The others are the sandbox's short paraphrases, marked so
# in docs/.
TILTAKSTYPE: dict[str, str] = {
    "anleggseiendom": "Oppretting av matrikkelenhet - Anleggseiendom",
    "annet": "Annet",
    "antenneover5m": "Antennesystem med høyde over 5m",
    "arealoverføring": "Arealoverføring",
    "berekonstruksjoner": "Endring av bygg - innvendig - Bærekonstruksjoner i bygg",
    "boligoppdeling": "Oppdeling av boligenhet",
    "boligsammenslaing": "Sammenslåing av boligenheter",
    "brannskille": "Brannskille",
    "bruksendring": "Kun endring av bruk",
    "bruksendringhoveddel": "Bruksendring fra tilleggsdel til hoveddel",
    "driftsbygningendringover1000m2": "Endring av driftsbygning i landbruket over 1000 m2 (BRA)",
    "driftsbygningendringunder1000m2": "Endring av driftsbygning under 1000 m2",
    "driftsbygningtilbyggover1000m2": "Tilbygg driftsbygning over 1000 m2",
    "driftsbygningtilbyggunder1000m2": "Tilbygg driftsbygning under 1000 m2",
    "endringanlegg": "Endring av anlegg",
    "endringbyggannet": "Endring av bygg - Annet",
    "endringdrift": "Endring av driftsbygning",
    "endringVAanlegg": "Endring av VA-anlegg",
    "endringVeianlegg": "Endring av veianlegg",
    "fasade": "Endring av en eller flere fasader",
    "festegrunn": "Festegrunn",
    "fundamenter": "Fundamenter",
    "grunneiendom": "Grunneiendom",
    "hovedombygging": "Hovedombygging",
    "innhegning": "Innhegning",
    "installasjonernyttanlegg": "Installasjoner i nytt anlegg",
    "installasjonerreparasjon": "Reparasjon av installasjoner",
    "installasjonibygg": "Installasjon i bygg",
    "lydskille": "Lydskille",
    "mikrohus": "Mikrohus til boligformål - Inntil 30 m2 BRA",
    "nyttanlegg": "Nytt anlegg/konstruksjon",
    "nyttByggBlandetFormalNaringBolig": "Nytt bygg - blandet formål næring/bolig",
    "nyttbyggboligformal": "Nytt bygg - Boligformål",
    "nyttbyggdriftsbygningover1000m2": "Nytt bygg - driftsbygning over 1000 m2",
    "nyttbyggdriftsbygningunder1000m2": "Nytt bygg - driftsbygning under 1000 m2",
    "nyttbyggover70m2": "Nytt bygg - Over 70 m2 -Ikke boligformål",
    "nyttbyggunder70m2": "Nytt bygg - Under 70 m2 - ikke boligformål",
    "nyttOffVeianlegg": "Nytt offentlig veianlegg",
    "nyttVAanlegg": "Nytt VA-anlegg",
    "pabygg": "Endring av bygg - utvendig - Påbygg",
    "parkeringsplass": "Parkeringsplass",
    "plasseringmidlertidig": "Plassering av midlertidige bygninger, konstruksjoner og anlegg",
    "rehabiliteringSkorstein": "Rehabilitering av skorstein",
    "rivinganlegg": "Riving av anlegg",
    "rivingbygningunder70m2": "Riving av bygning under 70 m2",
    "rivingdelerbygg": "Riving av deler av bygget",
    "rivingdriftsbygninginntill1000m2": "Riving av driftsbygning inntil 1000 m2",
    "rivinghelebygg": "Riving av hele bygg",
    "rivingtilbygginntil50m2": "Riving av tilbygg inntil 50 m2",
    "skiltreklamefasadeliten": "Skilt/reklame på fasade, liten",
    "skiltreklamefasadestor": "Skilt/reklame på fasade, stor",
    "skiltreklamefrittstaendeliten": "Skilt/reklame frittstående, liten",
    "skiltreklamefrittstaendestor": "Skilt/reklame frittstående, stor",
    "terrenginngrep": "Vesentlig terrenginngrep",
    "tilbyggover50m2": "Tilbygg over 50 m2",
    "tilbyggunder50m2": "Tilbygg under 50 m2",
    "underbygg": "Underbygg",
    "utvendigeinstallasjoner": "Utvendige installasjoner",
    "vatrom": "Endring av våtrom i eksisterende bygning",
    "veg": "Veg",
}


def kode(kodeverdi: str, liste: dict[str, str]) -> dict[str, str]:
    """Return DiBK's ``{kodeverdi, kodebeskrivelse}`` object for a code."""
    return {"kodeverdi": kodeverdi, "kodebeskrivelse": liste[kodeverdi]}
