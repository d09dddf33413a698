"""What a report shows, as tables, and its CSV/XLSX export.

A report is a list of blocks (Table, or Chart whose data table is shown under it). The
screen renders every block's table and the export writes exactly those tables, cell by
cell through the same `format_cell`, so the export cannot drift from the screen.
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field

from django.http import HttpResponse
from django.utils.text import slugify

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell starting with one of these is a formula to spreadsheet programs (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Column:
    label: str
    kind: str = "text"  # text | int | pct | float | date


def format_cell(kind, value):
    """How a value is shown on screen and written to CSV."""
    if value is None or value == "":
        return "–" if kind in ("pct", "float") else ""
    if kind == "int":
        return str(int(value))
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "float":
        return f"{value:.2f}"
    if kind == "date" and isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


@dataclass
class Table:
    title: str
    columns: list
    rows: list = field(default_factory=list)
    empty_message: str = "No data for these filters."
    note: str = ""
    key: str = ""
    # Per row, an optional on-screen action {"url", "label", "permission"} (never exported).
    actions: list = field(default_factory=list)
    is_chart = False

    def __post_init__(self):
        self.columns = [c if isinstance(c, Column) else Column(c) for c in self.columns]
        self.key = self.key or slugify(self.title)

    @property
    def headings(self):
        return [str(c.label) for c in self.columns]

    def display_rows(self):
        return [
            [format_cell(c.kind, v) for c, v in zip(self.columns, row, strict=True)]
            for row in self.rows
        ]

    def cells(self):
        """Rows of (display text, kind) for the template (numbers are right-aligned)."""
        return [
            [(format_cell(c.kind, v), c.kind) for c, v in zip(self.columns, row, strict=True)]
            for row in self.rows
        ]

    def cells_and_actions(self):
        """(cells, action or None) per row, for a table with an action column on screen."""
        actions = list(self.actions) + [None] * (len(self.rows) - len(self.actions))
        return list(zip(self.cells(), actions, strict=True))


@dataclass
class Report:
    title: str
    slug: str
    filters: object
    blocks: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def tables(self):
        """Every table on screen, in screen order (charts contribute their data table)."""
        return [getattr(b, "table", b) for b in self.blocks]

    def export_filename(self, extension):
        f = self.filters
        return f"{self.slug}_{f.start_date:%Y%m%d}-{f.end_date:%Y%m%d}.{extension}"


def _safe_text(text):
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(report):
    """The report as CSV: title, filters, then per table its title, headings and rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([report.title])
    writer.writerow([report.filters.describe()])
    for table in report.tables():
        writer.writerow([])
        writer.writerow([_safe_text(table.title)])
        writer.writerow(table.headings)
        for row in table.display_rows():
            writer.writerow([_safe_text(cell) for cell in row])
    return out.getvalue()


def _sheet_title(title, used):
    base = re.sub(r"[\[\]\*\?/\\:]", " ", title).strip()[:28] or "Table"
    name, n = base, 2
    while name.lower() in used:
        name = f"{base[:25]} {n}"
        n += 1
    used.add(name.lower())
    return name


def to_xlsx(report):
    """The report as an XLSX workbook: a summary sheet, then one sheet per table.
    Numbers are stored as numbers (rates as fractions formatted as %), text as text."""
    # openpyxl is loaded only when someone exports to Excel.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    summary = workbook.active
    summary.title = "Report"
    summary.append([report.title])
    summary["A1"].font = Font(bold=True)
    summary.append([report.filters.describe()])
    summary.append([])
    summary.append(["Sheet", "Table"])
    used = {"report"}
    for table in report.tables():
        sheet = workbook.create_sheet(_sheet_title(table.title, used))
        summary.append([sheet.title, table.title])
        sheet.append(table.headings)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([None] * len(table.columns))
            for col, (column, value) in enumerate(zip(table.columns, row, strict=True), 1):
                cell = sheet.cell(row=sheet.max_row, column=col)
                if value is None or value == "":
                    continue
                if column.kind in ("int", "pct", "float"):
                    cell.value = value
                    if column.kind == "pct":
                        cell.number_format = "0.0%"
                elif column.kind == "date" and isinstance(value, datetime.date):
                    cell.value = value
                    cell.number_format = "yyyy-mm-dd"
                else:
                    cell.value = str(value)
                    cell.data_type = "s"  # never a formula, whatever the text starts with
        for col, heading in enumerate(table.headings, 1):
            letter = sheet.cell(row=1, column=col).column_letter
            sheet.column_dimensions[letter].width = max(12, min(60, len(heading) + 4))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(report, fmt):
    if fmt == "xlsx":
        response = HttpResponse(to_xlsx(report), content_type=XLSX_CONTENT_TYPE)
    else:
        response = HttpResponse(to_csv(report), content_type=CSV_CONTENT_TYPE)
        fmt = "csv"
    response["Content-Disposition"] = f'attachment; filename="{report.export_filename(fmt)}"'
    return response
