"""What the API accepted, in its canonical form: the body as its schema loaded it.

A client may spell keys in camelCase or PascalCase and ``mangelID`` as ``mangelId``; the
schema loads each spelling to the same data. Dumping that data again gives one canonical
spelling, which the journal keeps beside the raw body so scoring reads one form only.
"""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, ValidationError

from app.wire.inputs.soeknad import SoeknadSchema
from app.wire.inputs.supplering import SuppleringSchema

# The client bodies the simulated API loads, by method and lower-cased path.
SCHEMAS: dict[tuple[str, str], type[Schema]] = {
    ("POST", "/api/v1/innsending"): SoeknadSchema,
    ("POST", "/api/v1/supplering"): SuppleringSchema,
}


def canonical(method: str, path: str, body: Any) -> dict[str, Any] | None:
    """``body`` as the API's schema loads it, canonically keyed; None when it does not load."""
    schema_class = SCHEMAS.get((method, path.lower()))
    if schema_class is None or not isinstance(body, dict):
        return None
    schema = schema_class()
    try:
        loaded = schema.load(body)
    except ValidationError:
        return None
    return _dumped(schema, loaded)


def accepted_text(schema: Schema, loaded: Any) -> str | None:
    """The canonical text of a body a client-API schema has already loaded (the view's own
    reading, so the journal never loads it a second time); None for other schemas."""
    if type(schema) not in SCHEMAS.values():
        return None
    return json.dumps(_dumped(schema, loaded), ensure_ascii=False, sort_keys=True)


def _dumped(schema: Schema, loaded: Any) -> dict[str, Any]:
    """A schema that reads several bodies into one gives its own canonical form."""
    own = getattr(schema, "canonical", None)
    dumped: dict[str, Any] = own(loaded) if own is not None else schema.dump(loaded)
    return dumped
