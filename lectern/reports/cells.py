"""Report rows into CSV and XLSX bytes, a page of rows at a time.

A cell that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a tab or
a carriage return) is neutralised: prefixed with `'` in CSV, stored as plain text in XLSX.
"""

import csv
import io
import tempfile
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A spreadsheet reading the CSV then knows it is UTF-8.
BOM = "\ufeff"
XLSX_CHUNK = 64 * 1024

Row = Sequence[Any]
Pages = AsyncIterator[list[list[Any]]]


def neutralised(value: Any) -> Any:
    """The value, with text a spreadsheet would run as a formula made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return neutralised(value)


async def csv_stream(header: Row, pages: Pages) -> AsyncIterator[bytes]:
    """The CSV file: the header line, then one chunk of bytes per page of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(name) for name in header])
    yield (BOM + buffer.getvalue()).encode()
    async for page in pages:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([csv_cell(value) for value in row] for row in page)
        yield buffer.getvalue().encode()


def xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones; report times are UTC
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not text.startswith(FORMULA_STARTS):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # text, never a formula
    return cell


async def xlsx_stream(title: str, header: Row, pages: Pages) -> AsyncIterator[bytes]:
    """The XLSX file. openpyxl's write-only sheet keeps its rows in a temporary file, and the
    finished workbook is read back in chunks: memory holds one page of rows at a time."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append([xlsx_cell(sheet, name) for name in header])
    async for page in pages:
        for row in page:
            sheet.append([xlsx_cell(sheet, value) for value in row])
    with tempfile.TemporaryFile() as finished:
        workbook.save(finished)
        finished.seek(0)
        while chunk := finished.read(XLSX_CHUNK):
            yield chunk
