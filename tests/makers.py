"""Real files of the formats we read, made in the test: PDF (plain and encrypted), DOCX, HTML;
and raw HTTP requests, for probing our servers with exactly the bytes an attacker would send."""

from __future__ import annotations

import http.client
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path


def _pdf_string(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(pages: Sequence[str]) -> bytes:
    """A valid PDF with one text page per item (Helvetica, one line per text line)."""
    streams = []
    for text in pages:
        lines = " ".join(f"({_pdf_string(line)}) Tj T*" for line in text.split("\n"))
        streams.append(f"BT /F1 11 Tf 14 TL 50 760 Td {lines} ET")
    return pdf_from_content(streams)


def pdf_text_op(text: str, x: float, y: float, size: float = 11, ops: str = "0 0 0 rg 0 Tr") -> str:
    """Content-stream operators that draw one line of Helvetica (`ops`: colour, render mode)."""
    return f"BT {ops} /F1 {size} Tf {x} {y} Td ({_pdf_string(text)}) Tj ET "


def pdf_from_content(streams: Sequence[str]) -> bytes:
    """A valid PDF with one page per raw content stream (font /F1 is Helvetica)."""
    objects: list[bytes] = []
    n_pages = len(streams)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, content in enumerate(streams):
        stream = content.encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def encrypted_pdf_bytes(pages: Sequence[str], password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(pages))))
    writer.encrypt(user_password=password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_docx(path: Path, heading: str, paragraphs: Sequence[str]) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def docx_with_notes(document, kind: str, notes: dict[str, str]) -> bytes:
    """`document` saved with a notes part added by hand (python-docx writes none): `kind`
    "footnote" or "endnote", `notes` each note's XML runs by id, after Word's separator
    note. The body cites them with `<w:footnoteReference w:id=…/>` runs of its own."""
    out = io.BytesIO()
    document.save(out)
    plural = kind + "s"
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:{plural} {ns}>'
        f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>'
        + "".join(
            f'<w:{kind} w:id="{i}"><w:p><w:r><w:{kind}Ref/></w:r>{runs}</w:p></w:{kind}>'
            for i, runs in notes.items()
        )
        + f"</w:{plural}>"
    )
    kinds = "application/vnd.openxmlformats-officedocument.wordprocessingml"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    added = {
        "[Content_Types].xml": (
            b"</Types>",
            f'<Override PartName="/word/{plural}.xml" ContentType="{kinds}.{plural}+xml"/>',
        ),
        "word/_rels/document.xml.rels": (
            b"</Relationships>",
            f'<Relationship Id="rIdNotes" Type="{rel}/{plural}" Target="{plural}.xml"/>',
        ),
    }
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w") as package:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename in added:
                end, entry = added[item.filename]
                data = data.replace(end, entry.encode() + end)
            package.writestr(item, data)
        package.writestr(f"word/{plural}.xml", xml)
    return result.getvalue()


def fetch(
    port: int, path: str, method: str = "GET", headers: dict | None = None, body: bytes = b""
) -> tuple[int, dict[str, str], str]:
    """Raw HTTP: http.client sends the path byte for byte (no `..` or %-normalization) and
    exactly the headers given (a Host of our choosing)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host="Host" in (headers or {}))
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        if body or method != "GET":
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text
    finally:
        conn.close()
