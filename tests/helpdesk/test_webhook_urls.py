"""Which webhook URLs are accepted (SSRF guard, docs/webhooks.md): http(s) only, no credentials,
and, unless HELPDESK_WEBHOOK_ALLOW_PRIVATE, no local or private address, whether written in the
URL or answered by DNS when it is called."""

import socket

import pytest
from django.core.exceptions import ValidationError

from helpdesk import webhook_http
from helpdesk.webhook_http import address_is_public, validate_webhook_url


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://hooks.example.com:70/_x",
        "//hooks.example.com/x",
        "hooks.example.com/x",
        "https://",
        "https:///path",
        "https://user:pass@hooks.example.com/x",
        "https://token@hooks.example.com/x",
        "https://hooks.example.com:99999/x",
        "https://hooks.example.com:0/x",
        "https://hooks.example.com/a b",
        "https://hooks.example.com/\x00",
        "https://hooks.example.com/" + "a" * 500,
        "https://hooks.example.com/pāth",
        "https://münchen.example/hooks",
        "",
    ],
)
def test_malformed_and_non_http_urls_are_refused(url: str, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_WEBHOOK_ALLOW_PRIVATE = True  # refused for their form, not their address
    with pytest.raises(ValidationError):
        validate_webhook_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://127.1.2.3:8080/x",
        "http://localhost:9000/x",
        "http://api.localhost/x",
        "http://10.0.0.5/x",
        "http://172.16.0.1/x",
        "http://192.168.1.1/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/x",
        "http://0.0.0.0/x",
        "http://224.0.0.1/x",
        "http://[::1]/x",
        "http://[fe80::1]/x",
        "http://[fd00::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://[::ffff:10.0.0.1]/x",
        "http://[64:ff9b::7f00:1]/x",
        "http://[2002:7f00:1::]/x",
    ],
)
def test_local_and_private_addresses_are_refused(url: str, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError) as refused:
        validate_webhook_url(url)
    assert refused.value.code == "private"


def test_private_addresses_are_allowed_when_the_setting_says_so(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_WEBHOOK_ALLOW_PRIVATE = True
    validate_webhook_url("http://127.0.0.1:9000/hooks")
    validate_webhook_url("http://localhost:9000/hooks")


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/helpdesk?token=abc",
        "http://hooks.example.com:8080/",
        "HTTPS://Hooks.Example.com/x",
        "https://93.184.216.34/x",
        "https://[2606:4700::6810:84e5]/x",
    ],
)
def test_public_http_urls_are_accepted(url: str, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_WEBHOOK_ALLOW_PRIVATE = False
    validate_webhook_url(url)


def test_public_addresses() -> None:
    assert address_is_public("93.184.216.34")
    assert address_is_public("2606:4700::6810:84e5")
    assert not address_is_public("::ffff:192.168.0.1")


def _resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    def fake(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:  # type: ignore[type-arg]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(webhook_http.socket, "getaddrinfo", fake)


def test_a_name_resolving_to_a_private_address_is_refused_when_called(
    monkeypatch: pytest.MonkeyPatch, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.HELPDESK_WEBHOOK_ALLOW_PRIVATE = False
    _resolving_to(monkeypatch, "93.184.216.34", "169.254.169.254")
    connected: list[object] = []
    monkeypatch.setattr(webhook_http.socket, "create_connection", connected.append)

    result = webhook_http.post(
        url="https://rebind.example.com/x", body=b"{}", headers={}, timeout=1
    )

    assert not result.ok and result.permanent
    assert "private address" in result.error
    assert connected == []  # nothing left the machine


def test_a_name_that_does_not_resolve_is_a_temporary_failure(monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    def fail(*args: object, **kwargs: object) -> None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(webhook_http.socket, "getaddrinfo", fail)
    result = webhook_http.post(
        url="https://nowhere.example.com/", body=b"{}", headers={}, timeout=1
    )
    assert not result.ok and not result.permanent
    assert "cannot resolve" in result.error
