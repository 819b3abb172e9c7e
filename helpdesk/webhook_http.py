"""Outbound HTTP for webhooks: which URLs are allowed, and one POST that never follows a
redirect, gives up after a timeout and reads at most a little of the answer.

SSRF guard (docs/webhooks.md): a subscription URL is chosen by a supervisor, but the request
leaves from inside our network, so unless HELPDESK_WEBHOOK_ALLOW_PRIVATE is true every address
the host name resolves to must be a public one (no loopback, private, link-local — cloud
metadata lives at 169.254.169.254 —, multicast, reserved or NAT64 ranges). The connection is
then made to the address that was checked, not to a second resolution of the name, so a DNS
answer that changes between the check and the connection (DNS rebinding) cannot slip through.
"""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

SCHEMES = ("http", "https")
URL_MAX_LENGTH = 500
# Of the receiver's answer we keep only a short excerpt for the delivery log.
RESPONSE_EXCERPT_BYTES = 512
# Ranges `is_global` lets through that still lead inside: NAT64 prefixes map IPv4 addresses
# (64:ff9b::7f00:1 is 127.0.0.1 behind a NAT64 gateway).
_EXTRA_BLOCKED = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
)
_LOCAL_NAMES = ("localhost", "localhost.localdomain")


class WebhookUrlRefused(Exception):
    """The URL may not be called (a permanent failure: retrying cannot help)."""


@dataclass(frozen=True)
class HttpResult:
    """What one attempt got: a status code (None when no answer came) and a short error."""

    status: int | None
    error: str = ""
    # True when trying again cannot help (a refused address, an invalid URL).
    permanent: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _allow_private() -> bool:
    return bool(getattr(settings, "HELPDESK_WEBHOOK_ALLOW_PRIVATE", False))


def address_is_public(address: str) -> bool:
    """True for an address anyone on the internet could reach: the only kind we call."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _EXTRA_BLOCKED):
            return False
        # An IPv6 spelling of an IPv4 address is judged as that IPv4 address.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return address_is_public(str(embedded))
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def validate_webhook_url(url: str) -> None:
    """What can be judged without the network: an absolute http(s) URL with a host, no
    credentials, a valid port, and (unless private addresses are allowed) not a local name or
    a private address literal. Raises ValidationError (the admin form shows it)."""
    if not isinstance(url, str) or not url:
        raise ValidationError("Enter the URL to send events to.", code="required")
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError(
            f"A URL can be at most {URL_MAX_LENGTH} characters long.", code="too_long"
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValidationError("A URL cannot contain spaces or control characters.", code="invalid")
    if not url.isascii():
        # The request line is ASCII: international names go in their xn-- form, paths encoded.
        raise ValidationError(
            "Write the URL in ASCII: the xn-- form of an international domain name, and "
            "%-encoded paths.",
            code="invalid",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError("This is not a valid URL.", code="invalid") from None
    if parts.scheme.lower() not in SCHEMES:
        raise ValidationError("Only http:// and https:// URLs can receive events.", code="scheme")
    host = parts.hostname
    if not host:
        raise ValidationError("The URL needs a host name.", code="invalid")
    if parts.username is not None or parts.password is not None:
        # They would be stored and shown in clear; receivers authenticate by the signature.
        raise ValidationError(
            "Leave user names and passwords out of the URL: deliveries are signed instead.",
            code="credentials",
        )
    if port == 0:
        raise ValidationError("This is not a valid port.", code="invalid")
    if _allow_private():
        return
    if host.lower() in _LOCAL_NAMES or host.lower().endswith(".localhost"):
        raise ValidationError(
            "Local addresses cannot receive events "
            "(HELPDESK_WEBHOOK_ALLOW_PRIVATE allows them, for development).",
            code="private",
        )
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return  # a name: its addresses are checked when it is called
    if not address_is_public(str(literal)):
        raise ValidationError(
            "Private and local addresses cannot receive events "
            "(HELPDESK_WEBHOOK_ALLOW_PRIVATE allows them, for development).",
            code="private",
        )


def _resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to; all must be public (unless allowed), or none is
    called: a name answering with one public and one private address is refused."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OSError(f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not _allow_private():
        refused = [a for a in addresses if not address_is_public(a)]
        if refused:
            raise WebhookUrlRefused(f"{host} resolves to a private address ({refused[0]})")
    return addresses


def _connection(
    scheme: str, host: str, port: int, address: str, timeout: float
) -> http.client.HTTPConnection:
    connection: http.client.HTTPConnection
    if scheme == "https":
        # Certificate and SNI use the host name; only the TCP connection goes to `address`.
        connection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)

    def connect_to_checked_address(
        _where: tuple[str, int], timeout: float, source: object = None
    ) -> socket.socket:
        return socket.create_connection((address, port), timeout)

    connection._create_connection = connect_to_checked_address  # type: ignore[attr-defined]
    return connection


def post(*, url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpResult:
    """POST `body` to `url` once. Never raises for network trouble: the result says what
    happened. A redirect is not followed (it counts as a failure: the receiver should give
    its final URL)."""
    try:
        validate_webhook_url(url)
    except ValidationError as exc:
        return HttpResult(status=None, error=f"URL refused: {exc.messages[0]}", permanent=True)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    port = parts.port or (443 if scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        addresses = _resolve(host, port)
    except WebhookUrlRefused as exc:
        return HttpResult(status=None, error=f"URL refused: {exc}", permanent=True)
    except OSError as exc:
        return HttpResult(status=None, error=str(exc))
    last_error = "no address to connect to"
    for address in addresses:
        connection = _connection(scheme, host, port, address, timeout)
        try:
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            excerpt = response.read(RESPONSE_EXCERPT_BYTES).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException, ValueError) as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            # A refused or unreachable address: the next one may answer. A timeout after
            # connecting is the receiver's answer, not the address's fault.
            if isinstance(exc, ConnectionRefusedError | socket.gaierror):
                continue
            return HttpResult(status=None, error=last_error)
        finally:
            connection.close()
        status = response.status
        if 200 <= status < 300:
            return HttpResult(status=status)
        if 300 <= status < 400:
            location = response.getheader("Location", "")[:200]
            return HttpResult(
                status=status, error=f"HTTP {status}: redirect to {location!r} not followed"
            )
        text = " ".join(excerpt.split())[:200]
        return HttpResult(status=status, error=f"HTTP {status}" + (f": {text}" if text else ""))
    return HttpResult(status=None, error=last_error)
