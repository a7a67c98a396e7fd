"""A søknad sent with a tenant's credentials: it starts a run of its own, then goes in as usual
(or, sent again within the window, gets its first answer back); a follow-up on a case of
one of the tenant's runs goes into that run, and so does a supplering naming its case."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, after_this_request, current_app, g, request

from app.api.auth import TENANT_RUN, authenticated_tenant
from app.api.tenant_auth import request_reference, tenant_write_head
from app.api.tenant_resend import TenantResend
from app.config import engine_config
from app.engine import tenant_soknader, tenants
from app.engine.snapshots import head_by_id, head_by_username
from app.errors import Conflict, Problem, ValidationFailed
from app.http import FormBody
from app.scenarios.registry import get_registry
from app.store.db import get_session

FORM_TITLE = "metadata.prosjektnavn"  # the element form_innsending reads the tittel from


def route_if_tenant(read: Callable[[], FormBody]) -> FormBody | None:
    """For a tenant's write that names no reference: read its form and send it to the
    tenant's run of the case its ``kommunensSaksnummer`` names (as DiBK's Supplering av
    søknad names it). None for a run's credentials, or when a reference names the run."""
    auth = request.authorization
    engine = current_app.extensions["sandbox.engine"]
    if auth is None or not auth.username or head_by_username(engine, auth.username) is not None:
        return None
    login = authenticated_tenant()
    if login is None or request_reference() is not None:
        return None  # a reference names the run, as on every request (404 if not the tenant's)
    form = read()
    head = tenant_write_head(engine, login.name, form.loaded)
    if head is not None:
        g.setdefault(TENANT_RUN, head)
    return form


def start_if_tenant(
    read: Callable[[], FormBody],
) -> tuple[FormBody | None, str | None, Response | None]:
    """For a tenant's credentials: read the søknad, start its run and return the søknad with
    its reserved reference, or the first answer when it is a søknad sent again
    (``app.api.tenant_resend``); ``(None, None, None)`` for a run's credentials."""
    auth = request.authorization
    engine = current_app.extensions["sandbox.engine"]
    if auth is None or not auth.username or head_by_username(engine, auth.username) is not None:
        return None, None, None
    login = authenticated_tenant()
    if login is None:
        return None, None, None
    form = read()
    data = form.loaded = tenants.as_played(form.loaded)
    follows = tenant_write_head(engine, login.name, data)
    if follows is not None:
        # A follow-up on a case of one of the tenant's runs (an IG on its rammetillatelse)
        # goes into that run, as it would on the run's own credentials.
        g.setdefault(TENANT_RUN, follows)
        return form, None, None
    session = get_session()
    tenant = tenants.tenant_or_404(session, login.name)
    known = get_registry().catalogue().entries
    resend = TenantResend(tenant.name)
    for _attempt in range(2):  # a copy that lost the claim takes the winner's answer
        earlier = resend.earlier()
        if earlier is not None:
            return form, None, earlier
        try:
            scenario_id = tenants.choose_scenario(tenant, data, known)
        except ValidationFailed as exc:
            raise _in_form(form, exc) from exc
        scenario = known[scenario_id].scenario if scenario_id is not None else None
        run, referanse = tenants.start_tenant_run(session, engine_config(), tenant, scenario, data)
        if resend.claim(run.id):
            break
        tenants.discard_run(session, run.id)
    else:
        message = "Den samme søknaden er fortsatt under behandling; send den igjen om litt."
        raise Conflict(message, [Problem("innsending.under_behandling", "$", message)])
    g.setdefault(TENANT_RUN, head_by_id(engine, run.id))

    @after_this_request
    def _discard_refused(response: Response) -> Response:
        # A søknad the sandbox refused starts nothing; one a scenario fault hit keeps its
        # run, so the fault stays in a journal, but not its claim: a copy sent again is
        # taken in afresh.
        if response.status_code >= 400 and not g.get("journal_fault"):
            tenants.discard_run(get_session(), run.id)
            g.journal_run_id = None
        elif response.status_code >= 400:
            tenant_soknader.release(get_session(), run.id)
        return response

    return form, referanse, None


def _in_form(form: FormBody, exc: ValidationFailed) -> ValidationFailed:
    """A marker refused in a DiBK XML form names the element it stands in (prosjektnavn)."""
    if form.form is None:
        return exc
    problems = [
        Problem(p.rule, FORM_TITLE, p.message, p.messagetype) if p.field == "tittel" else p
        for p in exc.problems
    ]
    return form.located(ValidationFailed(str(exc), problems))
