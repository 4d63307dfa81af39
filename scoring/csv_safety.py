"""CSV cells a spreadsheet will not run (OWASP "CSV injection").

Excel, LibreOffice and Google Sheets treat a cell starting with `=`, `+`, `-` or `@` (and, in some,
a tab or carriage return before one) as a formula: `=HYPERLINK("http://x.io","open")` in a store
code becomes a live link in a lead's spreadsheet. Every CSV we write goes through `safe_row`, which
puts a single quote before such text; spreadsheets show the text as it was. Numbers, negative ones
too (-3.2), are written as they are. An importer reading our files back strips one leading `'`
from text that starts with it followed by one of those characters (`unquote_cell`).
"""

from collections.abc import Iterable
from decimal import Decimal

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text.lower().lstrip("+-") not in {"inf", "infinity", "nan"}


def safe_cell(value):
    """The value as a spreadsheet will show it and never run it."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(DANGEROUS) and not _is_number(text):
        return "'" + text
    return text


def safe_row(row: Iterable) -> list:
    return [safe_cell(value) for value in row]


def unquote_cell(text: str) -> str:
    """What `safe_cell` was given, for text read back from one of our CSV files."""
    if text.startswith("'") and text[1:].startswith(DANGEROUS):
        return text[1:]
    return text
