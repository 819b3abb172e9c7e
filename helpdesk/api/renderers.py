"""JSON for every API answer, including answers that quote what the client sent."""

from typing import Any

from rest_framework.renderers import JSONRenderer


class _AsciiJSONRenderer(JSONRenderer):
    ensure_ascii = True


class SafeJSONRenderer(JSONRenderer):
    """DRF's renderer writes UTF-8, which cannot encode a lone surrogate ("\\ud800" is valid
    JSON input): an error quoting such input would turn a 400 into a 500. Those rare answers
    are written with ASCII escapes instead, which every JSON client reads back the same."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return _AsciiJSONRenderer().render(data, accepted_media_type, renderer_context)
