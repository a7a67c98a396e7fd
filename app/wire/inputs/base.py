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

from app.wire.dates import iso, parse_iso

DIGITS = re.compile(r"^\d+$")


def one_of(choices: Iterable[str], field_name: str) -> validate.OneOf:
    """Allow only ``choices``, with DiBK's message for an invalid code value."""
    allowed = list(choices)
    return validate.OneOf(
        allowed,
        error=f"'{{input}}' er en ugyldig kodeverdi for '{field_name}'. "
        f"Gyldige kodeverdier er: {', '.join(allowed)}.",
    )


class UtcDateTime(fields.Field[datetime]):
    """An ISO-8601 date-time with an explicit offset, normalised to UTC."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise ValidationError("Må være en dato-tid som tekst (ISO-8601).")
        try:
            return parse_iso(value)
        except ValueError as exc:
            raise ValidationError(
                f"'{value}' er ikke en gyldig ISO-8601 dato-tid med tidssone ({exc})."
            ) from exc

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return iso(value) if value is not None else None


class DigitString(fields.String):
    """A number carried as a string on the wire, as DiBK does (saksaar, dokumentStorrelse)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError('Må være en tekst med bare siffer, f.eks. "2024".')
        if not DIGITS.match(value):
            raise ValidationError(f"'{value}' skal bare inneholde siffer.")
        return value


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
