"""The simulated API's query names as DiBK spells them, and the question a query asks.

ASP.NET binds query names whatever their casing (sandbox assumption: DiBK's routes look
like ASP.NET's), so ``InnsendingReferanse=`` and ``Etter=`` are the API's own names.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote_plus

from app.vocabulary import QUERY_NAMES

_SPELLED = {name.lower(): name for name in QUERY_NAMES}


def dibk_query_names(query: str) -> str:
    """``query`` with each of the API's query names in DiBK's spelling; values untouched."""
    spelled = [part.partition("=") for part in query.split("&")]
    renamed = [
        (_SPELLED.get(unquote_plus(name).lower(), name), eq, value) for name, eq, value in spelled
    ]
    if renamed == spelled:
        return query
    return "&".join(name + eq + value for name, eq, value in renamed)


def question(query: str) -> str:
    """What a query asks the API: the names it reads, each with its first value, in one
    order; a parameter it does not read (a cache-buster such as ``_=1733059200``) is no
    part of it."""
    first: dict[str, str] = {}
    for name, value in parse_qsl(dibk_query_names(query), keep_blank_values=True):
        if name in QUERY_NAMES:
            first.setdefault(name, value)
    return "&".join(f"{name}={first[name]}" for name in QUERY_NAMES if name in first)
