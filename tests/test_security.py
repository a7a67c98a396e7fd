"""Hostile clients and forged requests: CSRF, security headers, sessions, failed logins, escaping."""

from __future__ import annotations

from app.reports import markdown


def test_markdown_escapes_a_clients_values() -> None:
    hostile = "<script>alert(1)</script> | ![x](http://evil.invalid/x.png) `code` a\\|b\nnext"
    text = markdown.cell(hostile)
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\n" not in text
    assert "](" not in text.replace("\\](", "") and "\\[x\\]" in text
    assert "\\`code\\`" in text
    # Every | is escaped, and a client's backslash cannot undo the escape.
    assert text.count("|") == text.count("\\|") == 2
    assert "a\\\\\\|b" in text
    assert markdown.cell(None) == "" and markdown.cell(0) == "0"
