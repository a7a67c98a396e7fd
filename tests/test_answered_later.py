"""A supplering that declares a mangel answered later answers nothing: the library's
request expectations on answers ("answers the mangelbrev", "answers it once") count
only suppleringer that answer it."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.test_first_told import Client, _mangel_ids


def test_declaring_the_mangler_answered_later_is_no_structured_answer(
    client: FlaskClient,
) -> None:
    me = Client(client)
    ids = _mangel_ids(me.get("oppdatering", etter=0))
    me.answer(ids, later=True)
    verdict = me.verdict("svarer-strukturert")
    assert verdict["status"] == "FAILED", verdict
    assert "erUtfallBesvart=False" in verdict["firstDivergence"]


def test_answered_later_then_answered_is_answering_once(client: FlaskClient) -> None:
    # rough-day's "answers the (duplicated) mangel once": the declaration is no answer.
    me = Client(client, "rough-day")
    ids = _mangel_ids(me.get("oppdatering", etter=0))
    me.answer(ids, later=True)
    me.answer(ids)
    verdict = me.verdict("svarer-en-gang")
    assert verdict["status"] == "PASSED", verdict
    assert verdict["reason"].startswith("1 × POST /api/v1/supplering")
