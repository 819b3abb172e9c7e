"""Which websites may embed the widget (HELPDESK_WIDGET_ORIGINS), read at call time."""

import pytest

from helpdesk.origins import is_widget_origin


@pytest.fixture(autouse=True)
def _origins(settings) -> None:
    settings.HELPDESK_WIDGET_ORIGINS = ["https://shop.example.com", "http://localhost:3000/"]


@pytest.mark.parametrize(
    "origin",
    [
        "https://shop.example.com",
        "https://shop.example.com/",
        "HTTPS://Shop.Example.Com",
        "http://localhost:3000",
    ],
)
def test_listed_origins(origin: str) -> None:
    assert is_widget_origin(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "",
        "null",
        "http://shop.example.com",
        "https://shop.example.com:443x",
        "https://shop.example.com:8443",
        "https://evil.shop.example.com",
        "https://shop.example.com.evil.net",
        "http://localhost:3001",
        "http://localhost",
        "https://shop.example.com/path",
    ],
)
def test_anything_else(origin: str) -> None:
    assert not is_widget_origin(origin)


def test_the_setting_is_read_at_call_time(settings) -> None:
    assert not is_widget_origin("https://new.example.com")
    settings.HELPDESK_WIDGET_ORIGINS = ["https://new.example.com"]
    assert is_widget_origin("https://new.example.com")
