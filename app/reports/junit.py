"""JUnit XML (the Ant/Jenkins subset): one testsuite per scenario, one testcase per expectation.

Properties come first in each suite; names are unique per suite; explanations are in the
element bodies (GitLab has ignored ``message=``); characters XML 1.0 forbids are removed,
since captured HTTP bodies may hold them. A ``must`` left undecided (PENDING, INCOMPLETE,
or SKIPPED without ``optional``) keeps the run from passing, so it is a ``failure`` whose
type is its state; an undecided verdict that does not block is ``skipped``.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from typing import Any

from app.scoring.tally import blocks

ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: Any) -> str:
    """Text safe for XML 1.0."""
    return ILLEGAL.sub("", str(text))


def _evidence(run: dict[str, Any], verdict: dict[str, Any]) -> str:
    lines = []
    for entry_id in verdict["evidence"]:
        entry = run["evidence"].get(str(entry_id))
        if entry is None:
            continue
        request, response = entry["request"], entry["response"]
        query = f"?{request['query']}" if request["query"] else ""
        lines.append(
            f"[{entry_id}] {entry['virtualTime']} {request['method']} {request['path']}{query} → {response['status']}"
        )
    return "\n".join(lines)


def outcome(verdict: dict[str, Any]) -> str:
    """``failure``, ``skipped`` or ``passed``: what the verdict is as a JUnit test case."""
    if blocks(verdict):
        return "failure"
    if verdict["status"] in ("PASSED", "WARNING"):
        return "passed"
    return "skipped"


def _tally(runs: list[dict[str, Any]], kind: str) -> int:
    return sum(outcome(v) == kind for run in runs for v in run["verdicts"])


def _errors(runs: list[dict[str, Any]]) -> int:
    return sum(1 for r in runs if r.get("error"))


def render(document: dict[str, Any]) -> str:
    """The whole result as a JUnit XML document."""
    counts = document["counts"]
    runs = document["runs"]
    root = ET.Element(
        "testsuites",
        {
            "name": "byggesak-sandbox",
            # A run that ended in error has one test case more: "run", with the error.
            "tests": str(sum(counts.values()) + _errors(runs)),
            "failures": str(_tally(runs, "failure")),
            "errors": str(_errors(runs)),
            "skipped": str(_tally(runs, "skipped")),
            "time": f"{sum(r.get('client', {}).get('seconds', 0) for r in document['runs']):.3f}",
        },
    )
    hostname = socket.gethostname()
    for run in document["runs"]:
        scenario = run["scenario"]["id"]
        verdicts = run["verdicts"]
        suite = ET.SubElement(
            root,
            "testsuite",
            {
                "name": clean(scenario),
                "tests": str(len(verdicts) + _errors([run])),
                "failures": str(_tally([run], "failure")),
                "errors": str(_errors([run])),
                "skipped": str(_tally([run], "skipped")),
                "time": f"{run.get('client', {}).get('seconds', 0):.3f}",
                "timestamp": document["generatedAt"][:19],
                "hostname": clean(hostname),
            },
        )
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("sandbox.version", document["sandboxVersion"]),
            ("result.schema", document["schemaVersion"]),
            ("target", document["target"]),
            ("scenario.version", run["scenario"]["version"]),
            ("run.id", run["run"]["id"]),
            ("run.seed", run["run"]["seed"]),
            ("final", run.get("final")),
            ("score", run["score"]),
            ("coverage", run["coverage"]),
            ("client.exitCode", run.get("client", {}).get("exitCode")),
        ):
            ET.SubElement(
                properties,
                "property",
                {"name": name, "value": clean("" if value is None else value)},
            )
        seen: set[str] = set()
        for verdict in verdicts:
            name = clean(f"{verdict['id']}: {verdict['title']}")
            while name in seen:
                name += " (again)"
            seen.add(name)
            case = ET.SubElement(
                suite,
                "testcase",
                {"classname": clean(f"byggesak-sandbox.{scenario}"), "name": name, "time": "0"},
            )
            detail = "\n".join(
                x
                for x in (verdict["reason"], verdict["firstDivergence"], _evidence(run, verdict))
                if x
            )
            kind = outcome(verdict)
            if kind == "failure":
                failure = ET.SubElement(
                    case,
                    "failure",
                    {
                        "message": clean(verdict["firstDivergence"] or verdict["reason"]),
                        "type": verdict["status"],
                    },
                )
                failure.text = clean(detail)
            elif kind == "skipped":
                ET.SubElement(
                    case, "skipped", {"message": clean(f"{verdict['status']}: {verdict['reason']}")}
                )
            out = ET.SubElement(case, "system-out")
            prefix = "WARNING: " if verdict["status"] == "WARNING" else ""
            out.text = clean(prefix + detail)
        if run.get("error"):
            error = ET.SubElement(
                ET.SubElement(
                    suite,
                    "testcase",
                    {"classname": f"byggesak-sandbox.{scenario}", "name": "run", "time": "0"},
                ),
                "error",
                {"message": clean(run["error"]), "type": "ERROR"},
            )
            error.text = clean(run["error"])
        system_out = ET.SubElement(suite, "system-out")
        system_out.text = clean(run.get("client", {}).get("outputTail", ""))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
