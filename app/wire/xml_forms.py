"""DiBK's forms as XML, read safely into the JSON shape their schemas load.

The parser is defusedxml's expat reader with DTDs, entities and external references
forbidden, so no entity bomb or external entity can be expanded; a size, depth and element
limit bounds the rest. Elements become keys (DiBK's names are camelCase already), a repeated
element a list, an empty one (``<x/>``, ``<x xsi:nil="true"/>``) None, and attributes are
dropped. Every element's XPath and line/column is kept, so a problem found later in the
JSON shape can name where it stands in the XML.
"""

from __future__ import annotations

import io
import re
import xml.sax
from dataclasses import dataclass, field
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser
from marshmallow import Schema, fields

from app.errors import Problem

XSI_NIL = ("http://www.w3.org/2001/XMLSchema-instance", "nil")
MAX_BYTES = 1_000_000
MAX_DEPTH = 40
MAX_ELEMENTS = 50_000


@dataclass(frozen=True)
class FormKind:
    """One DiBK form the sandbox reads: its root element, namespace and short name."""

    code: str
    root: str
    namespace: str
    title: str

    @property
    def label(self) -> str:
        """``suppleringAvSoeknad (https://…/v2)``, as an accepted-list entry."""
        return f"{self.root} ({self.namespace})"


SUPPLERING = FormKind(
    "SU",
    "suppleringAvSoeknad",
    "https://skjema.ft.dibk.no/suppleringavsoeknad/v2",
    "Supplering av søknad v2",
)


class XmlProblem(Exception):
    """The body is not XML the sandbox can read: malformed, forbidden or too large."""

    def __init__(self, message: str, problem: Problem) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass
class _Node:
    name: str
    namespace: str
    line: int
    column: int
    nil: bool = False
    children: list[_Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


@dataclass
class XmlForm:
    """A parsed form: its root, the JSON-shaped data and where each element stands."""

    namespace: str
    root: str
    data: dict[str, Any]
    positions: dict[str, tuple[str, int, int]]  # JSON path → (XPath, line, column)

    def where(self, json_path: str) -> tuple[str, int, int]:
        """The XPath, line and column of a JSON path (of its nearest element that exists)."""
        path = json_path
        missing: list[str] = []
        while path:
            for candidate in (path, re.sub(r"\[0\]", "", path)):
                if candidate in self.positions:
                    xpath, line, column = self.positions[candidate]
                    tail = "/".join(re.sub(r"\[(\d+)\]", _xpath_index, m) for m in missing)
                    return (f"{xpath}/{tail}" if tail else xpath), line, column
            head, _, last = path.rpartition(".")
            missing.insert(0, last)
            path = head
        return self.positions[""]

    def located(self, problem: Problem) -> Problem:
        """``problem`` (with a JSON path) renamed to its element's XPath, line and column."""
        xpath, line, column = self.where("" if problem.field == "$" else problem.field)
        message = f"{problem.message} (linje {line}, kolonne {column})"
        return Problem(problem.rule, xpath, message, problem.messagetype)


def _xpath_index(match: re.Match[str]) -> str:
    return f"[{int(match[1]) + 1}]"


class _Handler(xml.sax.handler.ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[_Node] = []
        self.root: _Node | None = None
        self.count = 0
        self.locator: Any = None

    def setDocumentLocator(self, locator: Any) -> None:  # noqa: N802 (SAX's name)
        self.locator = locator

    def position(self) -> tuple[int, int]:
        if self.locator is None:
            return 1, 1
        return self.locator.getLineNumber() or 1, (self.locator.getColumnNumber() or 0) + 1

    def startElementNS(self, name: tuple[str | None, str], qname: Any, attrs: Any) -> None:  # noqa: N802
        self.count += 1
        line, column = self.position()
        if self.count > MAX_ELEMENTS or len(self.stack) >= MAX_DEPTH:
            raise _Limit(f"Skjemaet har for mange elementer eller for dyp nesting ({line}).")
        namespace, local = name[0] or "", name[1]
        parent = self.stack[-1] if self.stack else None
        nil = str(attrs.get(XSI_NIL, "")).strip() == "true"
        node = _Node(local, namespace, line, column, nil)
        if parent is None:
            self.root = node
        else:
            parent.children.append(node)
        self.stack.append(node)

    def endElementNS(self, name: Any, qname: Any) -> None:  # noqa: N802
        self.stack.pop()

    def characters(self, content: str) -> None:
        if self.stack:
            self.stack[-1].text.append(content)


class _Limit(Exception):
    pass


def parse(raw: bytes) -> XmlForm:
    """Read ``raw`` as a DiBK form; raise :class:`XmlProblem` naming line and column."""
    if len(raw) > MAX_BYTES:
        message = f"XML-skjemaet er {len(raw)} byte; grensen er {MAX_BYTES} byte."
        raise XmlProblem(message, Problem("xml.for_stor", "$", message))
    handler = _Handler()
    parser = DefusedExpatParser(
        namespaceHandling=1, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    parser.setContentHandler(handler)
    try:
        parser.parse(io.BytesIO(raw))
    except xml.sax.SAXParseException as exc:
        line, column = exc.getLineNumber() or 1, (exc.getColumnNumber() or 0) + 1
        message = f"Ugyldig XML på linje {line}, kolonne {column}: {exc.getMessage()}."
        raise XmlProblem(message, Problem("xml.ugyldig", "$", message)) from exc
    except (DefusedXmlException, _Limit) as exc:
        line, column = handler.position()
        what = (
            "DTD, entiteter og eksterne referanser er ikke tillatt"
            if isinstance(exc, DefusedXmlException)
            else str(exc)
        )
        message = f"XML-skjemaet kan ikke leses på linje {line}, kolonne {column}: {what}."
        raise XmlProblem(message, Problem("xml.forbudt", "$", message)) from exc
    root = handler.root
    if root is None:  # expat reports an empty document itself; kept for the type checker
        message = "XML-skjemaet har ikke noe rotelement."
        raise XmlProblem(message, Problem("xml.ugyldig", "$", message))
    positions: dict[str, tuple[str, int, int]] = {"": (f"/{root.name}", root.line, root.column)}
    data = _value(root, "", f"/{root.name}", positions)
    return XmlForm(root.namespace, root.name, data if isinstance(data, dict) else {}, positions)


def _value(node: _Node, path: str, xpath: str, positions: dict[str, tuple[str, int, int]]) -> Any:
    if node.nil:
        return None
    if not node.children:
        text = "".join(node.text).strip()
        return text or None
    counts: dict[str, int] = {}
    for child in node.children:
        counts[child.name] = counts.get(child.name, 0) + 1
    out: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for child in node.children:
        index = seen.get(child.name, 0)
        seen[child.name] = index + 1
        repeated = counts[child.name] > 1
        key = f"{path}.{child.name}" if path else child.name
        child_path = f"{key}[{index}]" if repeated else key
        child_xpath = f"{xpath}/{child.name}" + (f"[{index + 1}]" if repeated else "")
        positions[child_path] = (child_xpath, child.line, child.column)
        value = _value(child, child_path, child_xpath, positions)
        if repeated:
            out.setdefault(child.name, []).append(value)
        else:
            out[child.name] = value
    return out


def prune(
    data: Any, schema: Schema, path: str = "", unread: frozenset[str] = frozenset()
) -> tuple[Any, list[str]]:
    """``data`` without the keys ``schema`` does not know, and the JSON paths left out.

    DiBK's forms carry more than the sandbox reads (and their XSD is not published): a block
    on the form's ``unread`` list (:mod:`app.wire.inputs.form_blocks`) is left out silently,
    any other unknown element with an advarsel, never refused. An element is found in the
    schema in camelCase or PascalCase, as the JSON keys are.
    """
    if not isinstance(data, dict):
        return data, []
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in data.items():
        where = f"{path}.{key}" if path else key
        found = schema.fields.get(key) or schema.fields.get(key[:1].lower() + key[1:])
        if found is None:
            if _INDEX.sub("", where) not in unread:
                dropped.append(where)
            continue
        inner = found.inner if isinstance(found, fields.List) else found
        if isinstance(inner, fields.Nested) and isinstance(inner.schema, Schema):
            if isinstance(value, list):
                items = [
                    prune(v, inner.schema, f"{where}[{i}]", unread) for i, v in enumerate(value)
                ]
                kept[key] = [v for v, _ in items]
                dropped += [d for _, ds in items for d in ds]
            else:
                kept[key], more = prune(value, inner.schema, where, unread)
                dropped += more
        else:
            kept[key] = value
    return kept, dropped


_INDEX = re.compile(r"\[\d+\]")
