"""Formats for the metrics table: durations people read at a glance, shares as percentages."""

from django import template

register = template.Library()

# An en dash: the figure was not measured (no chat answered, none rated), unlike a zero.
NOT_MEASURED = "\u2013"


@register.filter
def duration(seconds: float | None) -> str:
    """12 s, 4 min 05 s, 2 h 03 min; a dash when nothing was measured."""
    if seconds is None:
        return NOT_MEASURED
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def percent(share: float | None) -> str:
    if share is None:
        return NOT_MEASURED
    return f"{share * 100:.0f} %"
