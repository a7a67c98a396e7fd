"""The documentation decorator: each view carries its own OpenAPI operation.

As with flask-smorest's ``@blp.doc``/``@blp.response``, the document is attached to the
view and ``app.openapi`` assembles ``/openapi.json`` by walking the url map. We use apispec
directly, not flask-smorest, because the simulated API must answer DiBK-style problems
(400/415 with rule, field and message), not flask-smorest's 422 envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

ASSUMPTION = "x-sandbox-assumption"
ATTRIBUTE = "__openapi__"

F = TypeVar("F", bound=Callable[..., Any])
Responses = Mapping[str, "str | dict[str, Any]"]

UNKNOWN_RUN = "Unknown run"
FINISHED = "The run is finished (it can be read, not changed), or many changed it at once"
BODY_ERRORS: dict[str, str | dict[str, Any]] = {
    "413": "Body over SANDBOX_MAX_BODY_BYTES",
    "415": "Not application/json",
}


def json_content(schema: str) -> dict[str, Any]:
    """A JSON content map whose schema is the component ``schema``."""
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def problem(description: str) -> dict[str, Any]:
    """A response carrying the sandbox's problem JSON."""
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def query(
    name: str,
    description: str,
    schema: dict[str, Any] | None = None,
    *,
    required: bool = False,
) -> dict[str, Any]:
    """A query parameter."""
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema or {"type": "string"},
        "description": description,
    }


def _response(status: str, value: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    # A bare description: an error is a problem body, a success says only what it is.
    return problem(value) if int(status) >= 400 else {"description": value}


@dataclass(frozen=True)
class Operation:
    """One documented operation; used as a decorator, it attaches itself to the view."""

    summary: str
    responses: Responses
    description: str | None = None
    tags: Sequence[str] = ()
    parameters: Sequence[dict[str, Any]] = ()
    body: str | None = None
    body_required: bool = True
    assumption: bool = False
    creates: str | None = None
    # Named JSON request examples, and DiBK's XML form of the body with its example.
    examples: Mapping[str, Any] | None = None
    xml_example: str | None = None

    def __call__(self, view: F) -> F:
        """Attach this operation to ``view`` and return the view unchanged."""
        setattr(view, ATTRIBUTE, self)
        return view

    def to_dict(self) -> dict[str, Any]:
        """The operation object, without path parameters and security (the url map adds them)."""
        out: dict[str, Any] = {"summary": self.summary}
        if self.tags:
            out["tags"] = list(self.tags)
        if self.description:
            out["description"] = self.description
        if self.assumption:
            out[ASSUMPTION] = True
        if self.parameters:
            out["parameters"] = [dict(p) for p in self.parameters]
        if self.body:
            content = json_content(self.body)
            if self.examples:
                content["application/json"]["examples"] = {
                    name: {"value": value} for name, value in self.examples.items()
                }
            if self.xml_example is not None:
                content["application/xml"] = {
                    "schema": {"type": "string"},
                    "example": self.xml_example,
                }
            out["requestBody"] = {"required": self.body_required, "content": content}
        out["responses"] = {s: _response(s, v) for s, v in self.responses.items()}
        return out


def doc(
    summary: str,
    *,
    responses: Responses,
    description: str | None = None,
    tags: Sequence[str] = (),
    parameters: Sequence[dict[str, Any]] = (),
    body: str | None = None,
    body_required: bool = True,
    assumption: bool = False,
    creates: str | None = None,
    examples: Mapping[str, Any] | None = None,
    xml_example: str | None = None,
) -> Operation:
    """Document a view: ``@doc("One run", responses={"200": "The run", "404": "…"})``.

    A response given as a string is its description; for a 4xx/5xx it is a problem body.
    ``body`` names the component schema of the JSON request body. ``assumption`` marks a
    sandbox choice where DiBK's documentation is silent. ``creates`` names the path
    parameter (e.g. ``runId``) that the ``id`` of the success body fills in: the document
    links this operation to every operation with that parameter, for stateful fuzzing.
    ``examples`` are named JSON request bodies; ``xml_example`` adds ``application/xml``.
    """
    return Operation(
        summary=summary,
        responses=responses,
        description=description,
        tags=tags,
        parameters=parameters,
        body=body,
        body_required=body_required,
        assumption=assumption,
        creates=creates,
        examples=examples,
        xml_example=xml_example,
    )


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """The operation attached to ``view``, if any."""
    found = getattr(view, ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None
