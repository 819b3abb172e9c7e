"""Path converters of the integrators' API (/api/v1/).

`<api_id:name>` is an id of ours: 1 to 18 digits. A longer number is no id of ours and would
overflow the database driver (a 500), so it is an ordinary 404 instead. The schema shows it as
a string of digits (drf-spectacular reads the converter's regex).
"""

from django.urls import register_converter

MAX_ID = 2**63 - 1


class ApiIdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


# Registered when this module is imported (the url modules of the API import it). Django keeps
# one registry for the whole project, so the name is ours alone.
register_converter(ApiIdConverter, "api_id")
