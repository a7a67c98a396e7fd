"""A small, real PDF letter (PDF 1.4, Helvetica, WinAnsi so æ ø å print) with no dependencies."""

from __future__ import annotations

import textwrap
from datetime import datetime


def _pdf_text(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def render_letter(
    avsender: str, tittel: str, dato: datetime, referanser: list[str], linjer: list[str]
) -> bytes:
    """Render a one-page A4 letter; deterministic for the same input (no timestamps inside)."""
    wrapped: list[str] = []
    for line in linjer:
        wrapped.extend(textwrap.wrap(line, 90) or [""])
    content = [b"BT", b"/F1 11 Tf", b"14 TL", b"56 780 Td", b"(" + _pdf_text(avsender) + b") Tj"]
    content += [b"T*", b"(" + _pdf_text(f"Dato: {dato:%d.%m.%Y}") + b") Tj"]
    for ref in referanser:
        content += [b"T*", b"(" + _pdf_text(ref) + b") Tj"]
    content += [b"T*", b"T*", b"/F2 14 Tf", b"(" + _pdf_text(tittel) + b") Tj", b"/F1 11 Tf", b"T*"]
    for line in wrapped[:45]:
        content += [b"T*", b"(" + _pdf_text(line) + b") Tj"]
    content.append(b"ET")
    stream = b"\n".join(content)
    font = b"/Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
        b"<< " + font % b"Helvetica" + b" >>",
        b"<< " + font % b"Helvetica-Bold" + b" >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Title (" + _pdf_text(tittel) + b") /Producer (byggesak-sandbox) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe6\xf8\xe5\xc6\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (
        len(objects) + 1,
        len(objects),
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
