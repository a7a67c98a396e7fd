"""The building blocks of every input schema: DiBK's field types and the wire base schema.

Input keys may be camelCase (DiBK's JSON) or PascalCase (DiBK's documentation tables);
both load the same. Unknown keys are refused, so a vendor's typo is reported, not ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from app import limits
from app.domain.durations import parse_duration
from app.wire.dates import iso, parse_iso

DIGITS = re.compile(r"^\d+$")


def digits(text: str) -> str:
    """A digit string as one number: leading zeros dropped (``05713`` is case 5713).

    Sandbox assumption: DiBK's forms type these as integers (``xs:integer``), where
    ``05713`` and ``5713`` are one value; a client that pads a saksnummer is not wrong.
    """
    return text.lstrip("0") or "0"


def one_of(choices: Iterable[str], field_name: str) -> validate.OneOf:
    """Allow only ``choices``, with DiBK's message for an invalid code value."""
    allowed = list(choices)
    return validate.OneOf(
        allowed,
        error=f"'{{input}}' er en ugyldig kodeverdi for '{field_name}'. "
        f"Gyldige kodeverdier er: {', '.join(allowed)}.",
    )


TOO_LONG = "Teksten kan være høyst {max} tegn."
OUTSIDE_LENGTH = "Teksten må ha fra {min} til {max} tegn."
TOO_MANY = "Listen kan ha høyst {max} elementer."


def text(most: int = limits.TEXT, *, least: int = 0) -> validate.Length:
    """At most ``most`` characters (and at least ``least``), with a Norwegian message."""
    if least:
        return validate.Length(min=least, max=most, error=OUTSIDE_LENGTH)
    return validate.Length(max=most, error=TOO_LONG)


class BoundedList(fields.List[Any]):
    """A list of at most ``most`` items, refused before any item is loaded."""

    def __init__(self, inner: fields.Field[Any], *, most: int, **kwargs: Any) -> None:
        given = kwargs.pop("validate", None)
        validators = [given] if callable(given) else list(given or [])
        self.most = most
        super().__init__(
            inner, validate=[*validators, validate.Length(max=most, error=TOO_MANY)], **kwargs
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, list) and len(value) > self.most:
            raise ValidationError(TOO_MANY.format(max=self.most))
        return super()._deserialize(value, attr, data, **kwargs)


class Duration(fields.String):
    """An ISO-8601 duration from ``PT0S`` to ``P520W`` (limits.DURATION_MAX), kept as text."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "x-duration-min": "PT0S",
            "x-duration-max": limits.DURATION_MAX_TEXT,
            **kwargs.pop("metadata", {}),
        }
        super().__init__(
            validate=[
                validate.Length(max=DURATION_LENGTH, error=DURATION_ERROR),
                validate.Regexp(DURATION_PATTERN, error=DURATION_ERROR),
            ],
            metadata=metadata,
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        loaded = super()._deserialize(value, attr, data, **kwargs)
        if len(loaded) > DURATION_LENGTH:
            raise ValidationError(DURATION_ERROR)
        try:
            parse_duration(loaded)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        return loaded


# The grammar the duration parser takes; each part at most 6 digits (P520W is the limit).
DURATION_PATTERN = r"^P(\d{1,6}W)?(\d{1,6}D)?(T(\d{1,6}H)?(\d{1,6}M)?(\d{1,8}(\.\d{1,6})?S)?)?$"
DURATION_LENGTH = 40
DURATION_ERROR = (
    f"Skriv en ISO-8601-varighet fra PT0S til {limits.DURATION_MAX_TEXT}, f.eks. PT6H eller P2D."
)


class UtcDateTime(fields.Field[datetime]):
    """An ISO-8601 date-time with an explicit offset, normalised to UTC, before the horizon."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise ValidationError("Må være en dato-tid som tekst (ISO-8601).")
        try:
            moment = parse_iso(value)
        except (ValueError, OverflowError) as exc:
            raise ValidationError(
                f"'{value}' er ikke en gyldig ISO-8601 dato-tid med tidssone ({exc})."
            ) from exc
        if not limits.EARLIEST <= moment <= limits.HORIZON:
            raise ValidationError(
                f"'{value}' ligger utenfor sandkassens tid: fra {iso(limits.EARLIEST)} "
                f"til {limits.HORIZON_TEXT}."
            )
        return moment

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return iso(value) if value is not None else None


class DigitString(fields.String):
    """A number carried as a string on the wire, as DiBK does (saksaar, dokumentStorrelse)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError('Må være en tekst med bare siffer, f.eks. "2024".')
        if not DIGITS.match(value):
            raise ValidationError(f"'{value}' skal bare inneholde siffer.")
        return digits(value)


class WireSchema(Schema):
    """Base: refuse unknown keys and accept DiBK's PascalCase spelling of every key."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _camel_case_keys(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {
            (key[0].lower() + key[1:] if isinstance(key, str) and key else key): value
            for key, value in data.items()
        }
