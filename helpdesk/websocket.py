"""Origin checks for websockets, reading settings on every connection (not at import)."""

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from helpdesk.origins import is_widget_origin


def _origin(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin1")
    return None


def _host_allowed(origin: str) -> bool:
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    domain, _port = split_domain_port(parts.netloc)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return validate_host(domain, allowed)


class OriginValidator:
    """Refuse the handshake (HTTP 403) from pages we do not serve or trust.

    `require_origin`: the console authenticates by cookie, so it must prove it comes from our
    own pages (cross-site websocket hijacking). The customer socket authenticates by its token;
    a non-browser client without an Origin header may use it, a browser page must be ours or
    an allowed widget origin.
    """

    def __init__(
        self, application: Any, *, require_origin: bool, allow_widget_origins: bool
    ) -> None:
        self.application = application
        self.require_origin = require_origin
        self.allow_widget_origins = allow_widget_origins

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        origin = _origin(scope)
        if origin is None:
            allowed = not self.require_origin
        else:
            allowed = _host_allowed(origin) or (
                self.allow_widget_origins and is_widget_origin(origin)
            )
        if not allowed:
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
