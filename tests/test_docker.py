"""The container recipe, tested without a Docker engine (there is none on these machines):
compose.yaml against the Compose Specification's JSON Schema (tests/compose-spec.json, its
source in tests/compose-spec.source.txt), the Dockerfile's HEALTHCHECK run against a live
sandbox, and the warning ``serve`` gives when the control plane is open beyond loopback."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from app import tenants_file
from app.cli.serve import exposure_warning
from tests.conftest import LiveServer

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = YAML(typ="safe").load((ROOT / "compose.yaml").read_text("utf-8"))
    return loaded


def _instruction(name: str) -> str:
    """One Dockerfile instruction, its continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text("utf-8").replace("\\\n", " ")
    found = re.findall(rf"^{name} (.+)$", text, flags=re.MULTILINE)
    assert len(found) == 1, f"one {name} expected, found {found}"
    return str(found[0])


def test_compose_file_is_valid_and_runs_the_sandbox_on_postgresql() -> None:
    schema = json.loads((Path(__file__).parent / "compose-spec.json").read_text("utf-8"))
    compose = _compose()
    jsonschema.validate(compose, schema, cls=jsonschema.Draft7Validator)
    postgres, sandbox = compose["services"]["postgres"], compose["services"]["sandbox"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert postgres["volumes"][0].split(":")[0] in compose["volumes"]
    assert sandbox["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert sandbox["environment"]["SANDBOX_DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in sandbox["environment"]["SANDBOX_DATABASE_URL"]
    assert sandbox["ports"] == ["127.0.0.1:8080:8080"]


def test_a_broken_compose_file_is_refused_by_the_schema() -> None:
    schema = json.loads((Path(__file__).parent / "compose-spec.json").read_text("utf-8"))
    compose = _compose()
    compose["services"]["sandbox"]["depends_on"]["postgres"]["condition"] = "when_ready"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(compose, schema, cls=jsonschema.Draft7Validator)


def test_the_healthcheck_passes_on_a_live_sandbox_and_fails_without_one(
    live_server: LiveServer,
) -> None:
    healthcheck = _instruction("HEALTHCHECK")
    assert "--interval=" in healthcheck and "--timeout=" in healthcheck
    argv = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert argv[0] == "python"
    port = live_server.url.rsplit(":", 1)[1]
    here = [sys.executable, *(a.replace("127.0.0.1:8080", f"127.0.0.1:{port}") for a in argv[1:])]
    assert subprocess.run(here, capture_output=True, timeout=30, check=False).returncode == 0
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = str(closed.getsockname()[1])
    gone = [sys.executable, *(a.replace("127.0.0.1:8080", f"127.0.0.1:{nobody}") for a in argv[1:])]
    assert subprocess.run(gone, capture_output=True, timeout=30, check=False).returncode != 0


def test_the_image_serves_on_all_interfaces_as_serve_runs_it() -> None:
    argv = json.loads(_instruction("CMD"))
    assert argv[:2] == ["byggesak-sandbox", "serve"]
    assert shlex.join(argv[2:]) == "--host 0.0.0.0 --port 8080"


@pytest.mark.parametrize(
    ("host", "token", "warns"),
    [
        ("0.0.0.0", None, True),
        ("::", "", True),
        ("sandbox.example", None, True),
        ("0.0.0.0", "secret", False),
        ("127.0.0.1", None, False),
        ("localhost", None, False),
        ("::1", None, False),
    ],
)
def test_an_open_control_plane_beyond_loopback_is_warned_about(
    host: str, token: str | None, warns: bool
) -> None:
    assert (exposure_warning(host, token) is not None) is warns


def test_serve_prints_the_warning_before_it_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:  # the warning, then a clean stop instead of a server
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = {**os.environ, "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}"}
        env.pop("SANDBOX_ADMIN_TOKEN", None)
        argv = [str(BIN / "byggesak-sandbox"), "serve", "--host", "0.0.0.0", "--port", port]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        guarded = subprocess.run(
            argv,
            env={**env, "SANDBOX_ADMIN_TOKEN": "t"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("warning: listening on 0.0.0.0 with SANDBOX_ADMIN_TOKEN unset")
    assert lines[1].startswith(f"Error: cannot listen on 0.0.0.0:{port}")
    assert guarded.stderr.strip().splitlines()[0].startswith("Error: cannot listen")


def _readme_blocks(section: str, language: str) -> list[str]:
    """The ``language`` code blocks of the README's ``section``, unindented."""
    text = (ROOT / "README.md").read_text("utf-8")
    start = text.index(f"## {section}")
    body = text[start : text.index("\n## ", start + 3)]
    blocks = re.findall(rf"^( *)```{language}\n(.*?)^\1```", body, flags=re.MULTILINE | re.DOTALL)
    return [
        "\n".join(line[len(indent) :] for line in block.splitlines()) for indent, block in blocks
    ]


def test_the_readmes_tenants_file_and_compose_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenants_yaml, override_yaml = _readme_blocks("Point your staging system at the sandbox", "yaml")
    path = tmp_path / "tenants.yaml"
    path.write_text(tenants_yaml, "utf-8")
    monkeypatch.setenv("ACME_PASSWORD", "a-password-from-the-environment")
    (acme,) = tenants_file.read(str(path))
    assert acme["username"] == "acme-staging" and acme["clock"]["factor"] == 8640
    schema = json.loads((Path(__file__).parent / "compose-spec.json").read_text("utf-8"))
    override = YAML(typ="safe").load(override_yaml)
    jsonschema.validate(override, schema, cls=jsonschema.Draft7Validator)
    (name,) = override["services"]
    assert name in _compose()["services"]
    sandbox = override["services"][name]
    mounted = {v.split(":")[1]: v.split(":")[0] for v in sandbox["volumes"]}
    assert mounted[sandbox["environment"]["SANDBOX_TENANTS_FILE"]] == "./tenants.yaml"
    assert "ACME_PASSWORD" in sandbox["environment"]
