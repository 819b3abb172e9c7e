"""Pieces every app's admin actions share (floor 1: any app may import them): the one-line
summary of a bulk action and the CSV export."""

import csv
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

# Spreadsheets run a cell starting with one of these as a formula (a customer named
# "=HYPERLINK(...)" would become a link on the supervisor's machine); tab and carriage return
# start one too in some of them.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def action_summary(verb: str, done: int, skipped: Counter[str]) -> str:
    """ "3 closed, 1 skipped: already closed" (reasons most frequent first, then a to z)."""
    text = f"{done} {verb}"
    if skipped:
        reasons = ", ".join(
            reason if count == 1 else f"{reason} ({count})"
            for reason, count in sorted(skipped.items(), key=lambda item: (-item[1], item[0]))
        )
        text += f", {skipped.total()} skipped: {reasons}"
    return text


def csv_cell(value: Any) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    text = str(value)
    # A leading quote makes the spreadsheet show the text as typed instead of running it.
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


class _Echo:
    """csv.writer writes to a file; this one hands each line back to the response instead."""

    def write(self, value: str) -> str:
        return value


def csv_response(
    *, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """A CSV download streamed row by row (pass a queryset's .iterator(): nothing is held in
    memory), UTF-8 with a byte order mark so Excel reads accents right."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow([csv_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
