"""The tenants file (SANDBOX_TENANTS_FILE): tenants a deployment declares, read at start.

For a Docker deployment: a YAML list of tenants, each as ``POST /sandbox/tenants`` takes
it, except that the password comes from the file (``password``) or, better, from an
environment variable it names (``password_env``), never generated (nobody would see it).
A tenant the file names is created, or brought in line with the file when it exists; a
tenant the file does not name is left alone. A file that cannot be used stops the start
with one line naming the tenant and the field.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from marshmallow import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import tenants
from app.engine.credentials import hash_secret, secret_matches
from app.errors import ConfigError, SandboxError
from app.store.models import Tenant
from app.wire.inputs import TenantCreateSchema

SETTING = "SANDBOX_TENANTS_FILE"


def read(path: str) -> list[dict[str, Any]]:
    """The file's tenants as ``TenantCreateSchema`` loads them; ConfigError for any flaw."""
    try:
        root = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{SETTING} {path}: cannot read it: {exc.strerror}") from None
    except YAMLError as exc:
        raise ConfigError(f"{SETTING} {path}: not YAML: {str(exc).splitlines()[0]}") from None
    items = root.get("tenants") if isinstance(root, dict) else root
    if not isinstance(items, list):
        raise ConfigError(f"{SETTING} {path}: expected a list of tenants (or tenants: [...])")
    loaded = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ConfigError(f"{SETTING} {path}: tenant {index + 1} is not a mapping")
        fields = dict(item)
        where = f"{SETTING} {path}: tenant {fields.get('name', index + 1)}"
        variable = fields.pop("password_env", None)
        if variable is not None:
            if str(variable) not in os.environ:
                raise ConfigError(f"{where}: password_env {variable} is not set")
            fields["password"] = os.environ[str(variable)]
        if not fields.get("password"):
            raise ConfigError(f"{where}: give password_env (or password)")
        try:
            loaded.append(TenantCreateSchema().load(fields))
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
            field, message = next(iter(messages.items()))
            raise ConfigError(f"{where}: {field}: {_first(message)}") from None
    return loaded


def apply(session: Session, declared: list[dict[str, Any]], known: Any) -> None:
    """Create each declared tenant, or bring an existing one in line with the file."""
    for data in declared:
        tenant = session.get(Tenant, data["name"])
        try:
            if tenant is None:
                tenants.create_tenant(session, data, known)
                continue
            _update(session, tenant, data, known)
        except SandboxError as exc:
            session.rollback()
            raise ConfigError(f"{SETTING}: tenant {data['name']}: {exc.detail}") from None


def _update(session: Session, tenant: Tenant, data: dict[str, Any], known: Any) -> None:
    for rule in data["rules"]:
        tenants.known_scenario(rule["scenario"], known, "rules")
    if data["scenario"] is not None:
        tenants.known_scenario(data["scenario"], known, "scenario")
    if data["username"] != tenant.username:
        other = session.scalar(select(Tenant.name).where(Tenant.username == data["username"]))
        if other is not None:
            raise ConfigError(f"{SETTING}: username {data['username']} is taken by {other}")
        tenant.username = data["username"]
    if not secret_matches(tenant.password_hash, data["password"]):
        tenant.password_hash = hash_secret(data["password"])
    tenant.scenario = data["scenario"]
    tenant.rules = list(data["rules"])
    tenant.clock = dict(data["clock"] or {})
    tenant.retention = data["retention"]
    session.commit()


def _first(messages: Any) -> str:
    while isinstance(messages, (list, dict)):
        messages = next(iter(messages.values() if isinstance(messages, dict) else messages))
    return str(messages)


def init_app(app: Flask) -> None:
    """Read TENANTS_FILE, when it is set, and apply it to the database."""
    path = app.config.get("TENANTS_FILE")
    if not path:
        return
    declared = read(str(path))
    with app.app_context():
        known = app.extensions["sandbox.scenarios"].catalogue().entries
        session = app.extensions["sandbox.db"]()
        try:
            apply(session, declared, known)
        finally:
            session.close()
