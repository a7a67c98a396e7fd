"""The blocks DiBK's forms share (Supplering av søknad v2, ET v4, RS v4, IG v5, MB v5, FA v5).

Element names are DiBK's, in camelCase as in the XML, so the JSON body and the XML form load
through the same schemas. A block that repeats in the XML (``utfallSvar``, ``vedlegg``,
``ettersending``, ``eiendom``, ``kode``) may be one object or a list; an empty element
(``<x/>``, ``<x xsi:nil="true"/>``) reads as absent. Numbers the forms carry as integers
(``saksaar``, ``sakssekvensnummer``) may be integers or digit strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from marshmallow import ValidationError, fields, post_load, pre_load, validate

from app import limits
from app.domain import codelists
from app.domain.answers import UtfallSvar
from app.domain.case import Saksnummer
from app.wire.inputs.base import DIGITS, BoundedList, WireSchema, digits, text

# ftbId as seen: BYGG-3001 (saksbehandlingsdata), FTB-12345 and FTB123 and 98765 (the forms).
FTB_ID = r"^(BYGG-|FTB-?)?\d{1,12}$"
FTB_ID_ERROR = "ftbId har en av formene BYGG-3001, FTB-12345, FTB123 eller 98765."


class Number(fields.Field[str]):
    """A number as DiBK's forms carry it: an integer or a digit string, kept as a string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError("Må være et heltall eller en tekst med bare siffer.")
        text = str(value).strip()
        if not DIGITS.match(text):
            raise ValidationError(f"'{value}' skal bare inneholde siffer.")
        return digits(text)


class Ident(fields.Field[str]):
    """An identifier sent as a string or an integer (``utfallId`` is ``123456`` in some forms)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
            raise ValidationError("Må være en ikke-tom tekst.")
        return str(value).strip()


class Kode(fields.Field[str | None]):
    """A DiBK code ``{kodeverdi, kodebeskrivelse}``, loaded as its kodeverdi (None when empty).

    A bare code string is taken as the kodeverdi (the old ettersending's ``tema``). Given
    ``koder``, a kodeverdi that is one of them in another case is read as the listed one
    (sandbox assumption: DiBK's own lists mix ``Parkering`` with ``plan``).
    """

    def __init__(self, *, koder: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.koder = {code.casefold(): code for code in koder}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        code = self._kodeverdi(value)
        return self.koder.get(code.casefold(), code) if code is not None else None

    def _kodeverdi(self, value: Any) -> str | None:
        if isinstance(value, str):
            return value.strip() or None
        if not isinstance(value, dict):
            raise ValidationError("Må være et objekt med kodeverdi og kodebeskrivelse.")
        keys = {k[:1].lower() + k[1:] for k in value if isinstance(k, str)}
        if keys - {"kodeverdi", "kodebeskrivelse"}:
            raise ValidationError("Har bare kodeverdi og kodebeskrivelse.")
        code = value.get("kodeverdi", value.get("Kodeverdi"))
        if code is not None and not isinstance(code, str):
            raise ValidationError("kodeverdi må være en tekst.")
        return code.strip() or None if code is not None else None


class Kodeverdi(fields.String):
    """A bare kodeverdi; one of ``koder`` in another case is read as the listed one (as
    :class:`Kode` does)."""

    def __init__(self, *, koder: Iterable[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.koder = {code.casefold(): code for code in koder}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs)
        return self.koder.get(code.casefold(), code)


def located(utfall_svar: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each loaded utfallSvar with ``felt``: where its utfallId stands in the body."""
    return [
        {**svar, "felt": f"utfallBesvarelse.utfallSvar[{i}].utfallId"}
        for i, svar in enumerate(utfall_svar)
    ]


def as_list(value: Any) -> Any:
    """A repeated XML element: one object becomes a list of one; absent becomes empty."""
    if value is None or value == "":
        return []
    return [value] if isinstance(value, dict) else value


def kode_json(code: str | None, liste: codelists.CodeList) -> dict[str, str] | None:
    """The canonical ``{kodeverdi, kodebeskrivelse}`` of a loaded code (the label when listed)."""
    if code is None:
        return None
    out = {"kodeverdi": code}
    if code in liste.koder:
        out["kodebeskrivelse"] = liste.koder[code]
    return out


class FormSchema(WireSchema):
    """A form block: empty strings read as absent, and optional fields may be null.

    A block whose every element is empty (``<kommunensSaksnummer><saksaar/>
    <sakssekvensnummer></sakssekvensnummer></kommunensSaksnummer>``, as DiBK's minimum
    forms leave their unused blocks) reads as absent too.
    """

    @pre_load
    def _empty_is_absent(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if not blank(v)}


def blank(value: Any) -> bool:
    """None, an empty string, or a block (or list of blocks) with nothing but blanks in it."""
    if value is None or value == "":
        return True
    if isinstance(value, dict):
        return all(blank(v) for v in value.values())
    if isinstance(value, list):
        return all(blank(v) for v in value)
    return False


class KommunensSaksnummerSchema(FormSchema):
    """kommunensSaksnummer: saksaar and sakssekvensnummer, integers or digit strings."""

    saksaar = Number(required=True, validate=validate.Length(equal=4))
    sakssekvensnummer = Number(required=True, validate=validate.Length(min=1, max=10))
    journalpostnummer = Number(load_default=None)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> Saksnummer:
        return Saksnummer(**data)


class VedleggSchema(FormSchema):
    """vedlegg: versjonsnummer, vedleggstype, versjonsdato (YYYY-MM-DD) and filnavn.

    ``versjonsnummer`` is ``V1`` or a bare number (``1``, ``5``) in DiBK's forms, so a JSON
    body may send it as an integer too.
    """

    versjonsnummer = Ident(load_default=None, validate=text())
    vedleggstype = Kode(load_default=None)
    versjonsdato = fields.String(
        load_default=None,
        validate=validate.Regexp(
            r"^\d{4}-\d{2}-\d{2}", error="versjonsdato er en dato, ÅÅÅÅ-MM-DD."
        ),
    )
    filnavn = fields.String(load_default=None, validate=text())


class VedleggslisteSchema(FormSchema):
    """vedleggsliste: its vedlegg; an entry with every field empty is left out."""

    vedlegg = BoundedList(fields.Nested(VedleggSchema), most=limits.ITEMS, load_default=list)

    @pre_load
    def _repeated(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and "vedlegg" in data:
            return {**data, "vedlegg": as_list(data["vedlegg"])}
        return data

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
        return [v for v in data["vedlegg"] if any(x is not None for x in v.values())]


class UtloestFraSjekkpunktSchema(FormSchema):
    """utloestFraSjekkpunkt: the checklist point that raised the outcome, and its owner."""

    sjekkpunktId = fields.String(load_default=None, validate=text())
    sjekkpunktEier = fields.String(load_default=None, validate=text())


class UtfallSvarSchema(FormSchema):
    """utfallSvar: the søker's answer to one outcome, by its utfallId."""

    utfallId = Ident(required=True)
    utfallType = Kode(load_default=None)
    tema = Kode(load_default=None)
    tittel = fields.String(load_default=None, validate=text())
    beskrivelse = fields.String(load_default=None, validate=text())
    utloestFraSjekkpunkt = fields.Nested(UtloestFraSjekkpunktSchema, load_default=None)
    erUtfallBesvart = fields.Boolean(load_default=None)
    erUtfallBesvaresSenere = fields.Boolean(load_default=None)
    kommentar = fields.String(load_default=None, validate=text())
    vedleggsliste = fields.Nested(VedleggslisteSchema, load_default=list)


class UtfallBesvarelseSchema(FormSchema):
    """utfallBesvarelse: one utfallSvar per outcome answered."""

    utfallSvar = BoundedList(fields.Nested(UtfallSvarSchema), most=limits.ITEMS, load_default=list)

    @pre_load
    def _repeated(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and "utfallSvar" in data:
            return {**data, "utfallSvar": as_list(data["utfallSvar"])}
        return data

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
        return list(data["utfallSvar"])


def utfall_svar_json(svar: dict[str, Any]) -> dict[str, Any]:
    """One loaded utfallSvar in canonical form: its flags say what the sandbox read.

    ``erUtfallBesvaresSenere`` is true only for an outcome left open knowingly, both flags
    false for one that says it is not answered and gives nothing
    (:attr:`app.domain.answers.UtfallSvar.empty`); every other utfallSvar answers it
    (:attr:`app.domain.answers.UtfallSvar.later`).
    """
    read = UtfallSvar(
        utfallId=svar["utfallId"],
        erUtfallBesvart=svar["erUtfallBesvart"],
        erUtfallBesvaresSenere=svar["erUtfallBesvaresSenere"],
        kommentar=svar["kommentar"],
        vedlegg=len(svar["vedleggsliste"]),
    )
    later = read.later
    out: dict[str, Any] = {"utfallId": svar["utfallId"]}
    utfall_type = kode_json(svar["utfallType"], codelists.UTFALLTYPE)
    if utfall_type is not None:
        out["utfallType"] = utfall_type
    tema = kode_json(svar["tema"], codelists.TEMA)
    if tema is not None:
        out["tema"] = tema
    for key in ("tittel", "kommentar"):
        if svar[key] is not None:
            out[key] = svar[key]
    if svar["utloestFraSjekkpunkt"]:
        out["utloestFraSjekkpunkt"] = dict(svar["utloestFraSjekkpunkt"])
    out["erUtfallBesvart"] = not later and not read.empty
    out["erUtfallBesvaresSenere"] = later
    out["vedleggsliste"] = {"vedlegg": [vedlegg_json(v) for v in svar["vedleggsliste"]]}
    return out


def vedlegg_json(vedlegg: dict[str, Any]) -> dict[str, Any]:
    """One loaded vedlegg in canonical form."""
    out: dict[str, Any] = {k: v for k, v in vedlegg.items() if v is not None}
    if vedlegg.get("vedleggstype") is not None:
        out["vedleggstype"] = kode_json(vedlegg["vedleggstype"], codelists.VEDLEGGSTYPE)
    return out
