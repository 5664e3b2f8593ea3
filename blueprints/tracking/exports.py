"""Every report as a spreadsheet: CSV (UTF-8, semicolons, what French Excel opens) or XLSX, the same rows."""

from __future__ import annotations

import io

from flask import Response

from blueprints.shared.cells import safe_cell, write_csv

FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx(header: list[str], rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append([safe_cell(h) for h in header])
    for row in rows:
        sheet.append([value if isinstance(value, int | float) else safe_cell(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def respond(name: str, header: list[str], rows, fmt: str) -> Response:
    rows = list(rows)
    if fmt == "xlsx":
        data, mimetype = xlsx(header, rows), XLSX
    else:
        data, mimetype = write_csv(header, rows), "text/csv"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
