"""Every shipped workbook opens in a real office suite: LibreOffice converts it to PDF."""

from __future__ import annotations

from .conftest import SAMPLES, TEMPLATES, convert_to_pdf


def test_templates_and_samples_convert_to_pdf(soffice, tmp_path):
    files = sorted(TEMPLATES.glob("*.xlsx")) + sorted(SAMPLES.rglob("*.xlsx"))
    assert len(files) == 11
    # plain ASCII copies: the conversion is about the content, not the shell's file-name encoding
    copies = []
    for i, f in enumerate(files):
        copy = tmp_path / f"book{i:02d}.xlsx"
        copy.write_bytes(f.read_bytes())
        copies.append(copy)
    result = convert_to_pdf(soffice, copies, tmp_path)
    for f, copy in zip(files, copies):
        pdf = copy.with_suffix(".pdf")
        assert pdf.exists(), f"LibreOffice could not convert {f.name}: {result.stderr[-500:]}"
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF") and data.count(b"/Type /Page") + data.count(b"/Type/Page") >= 2, f.name
