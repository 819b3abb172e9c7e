"""Optional filters of list reads (the integrators' API): a filter the caller left out (None)
narrows nothing. Floor 1, so every app's selectors may use it."""

from datetime import datetime
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def filter_given(queryset: QuerySet[M], **lookups: Any) -> QuerySet[M]:
    """`queryset` narrowed by each lookup whose value is not None, one `filter()` per lookup in
    the order given: the same SQL as the `if value is not None: qs = qs.filter(…)` chain it
    replaces (which matters for lookups across multi-valued relations)."""
    for lookup, value in lookups.items():
        if value is not None:
            queryset = queryset.filter(**{lookup: value})
    return queryset


def created_between(
    queryset: QuerySet[M],
    *,
    after: datetime | None,
    before: datetime | None,
    field: str = "created_at",
) -> QuerySet[M]:
    """The API's `created_after` (included) and `created_before` (excluded), as validated by
    helpdesk.api.integrator_serializers.DateRangeQuery; either may be None."""
    return filter_given(queryset, **{f"{field}__gte": after, f"{field}__lt": before})
