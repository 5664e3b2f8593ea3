"""Spreadsheet cells that a spreadsheet will not run: exports write them, imports refuse what would run."""

from __future__ import annotations

import csv
import io

# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """``value`` as text a spreadsheet shows as written: a leading formula character is quoted away."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(header: list[str], rows) -> bytes:
    """UTF-8 with a BOM, semicolons: what French Excel opens as it is. Every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")
