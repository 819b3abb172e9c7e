"""Typed readers for configuration from the environment, and DATABASE_URL."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from helpdesk.env import SQLITE_OPTIONS, database_from_url, env_bool, env_int, env_list, env_str

NAME = "HELPDESK_TEST_SETTING"


@pytest.fixture(autouse=True)
def _unset(monkeypatch) -> None:
    monkeypatch.delenv(NAME, raising=False)


def test_env_str(monkeypatch) -> None:
    assert env_str(NAME) == ""
    assert env_str(NAME, "fallback") == "fallback"
    monkeypatch.setenv(NAME, "  value with spaces ")
    assert env_str(NAME, "fallback") == "  value with spaces "
    monkeypatch.setenv(NAME, "")
    assert env_str(NAME, "fallback") == ""  # set but empty is a value


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "True", "yes", "on", " true ", "On\n"])
def test_env_bool_true(monkeypatch, raw: str) -> None:
    monkeypatch.setenv(NAME, raw)
    assert env_bool(NAME, False) is True


@pytest.mark.parametrize("raw", ["0", "false", "FALSE", "no", "off", "", "  "])
def test_env_bool_false(monkeypatch, raw: str) -> None:
    monkeypatch.setenv(NAME, raw)
    assert env_bool(NAME, True) is False


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_default_when_unset(default: bool) -> None:
    assert env_bool(NAME, default) is default


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "y", "enabled", "-1"])
def test_env_bool_refuses_anything_else(monkeypatch, raw: str) -> None:
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ImproperlyConfigured, match=NAME):
        env_bool(NAME, False)


@pytest.mark.parametrize(("raw", "value"), [("42", 42), ("0", 0), ("-3", -3), (" 7 ", 7)])
def test_env_int(monkeypatch, raw: str, value: int) -> None:
    monkeypatch.setenv(NAME, raw)
    assert env_int(NAME, 99) == value


@pytest.mark.parametrize("raw", ["", "   "])
def test_env_int_blank_is_the_default(monkeypatch, raw: str) -> None:
    assert env_int(NAME, 99) == 99
    monkeypatch.setenv(NAME, raw)
    assert env_int(NAME, 99) == 99


@pytest.mark.parametrize("raw", ["ten", "1.5", "1e3", "0x10", "12abc"])
def test_env_int_refuses_non_integers(monkeypatch, raw: str) -> None:
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ImproperlyConfigured, match=NAME):
        env_int(NAME, 1)


def test_env_list(monkeypatch) -> None:
    assert env_list(NAME) == []
    default = ["a"]
    result = env_list(NAME, default)
    assert result == ["a"] and result is not default  # callers may mutate their copy
    monkeypatch.setenv(NAME, " a.example.com, b.example.com ,,c ")
    assert env_list(NAME, ["x"]) == ["a.example.com", "b.example.com", "c"]
    monkeypatch.setenv(NAME, "")
    assert env_list(NAME, ["x"]) == []


# --- DATABASE_URL ------------------------------------------------------------------------------


def test_a_full_postgres_url() -> None:
    assert database_from_url("postgres://helpdesk:s3cret@db.example.com:6543/chats") == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "chats",
        "USER": "helpdesk",
        "PASSWORD": "s3cret",
        "HOST": "db.example.com",
        "PORT": "6543",
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_postgres_scheme_aliases(scheme: str) -> None:
    assert database_from_url(f"{scheme}://u@h/n")["ENGINE"] == "django.db.backends.postgresql"


def test_a_minimal_postgres_url_uses_defaults() -> None:
    config = database_from_url("postgres://localhost")
    assert (config["NAME"], config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "helpdesk",
        "",
        "",
        "localhost",
        "",
    )


def test_the_local_test_url_of_this_project() -> None:
    config = database_from_url("postgres://postgres@127.0.0.1:5432/helpdesk")
    assert (config["USER"], config["HOST"], config["PORT"], config["NAME"]) == (
        "postgres",
        "127.0.0.1",
        "5432",
        "helpdesk",
    )


def test_percent_encoded_credentials_are_decoded() -> None:
    config = database_from_url("postgres://us%40er:p%40ss%3Aw%2Frd@h:5432/my%20db")
    assert (config["USER"], config["PASSWORD"], config["NAME"]) == ("us@er", "p@ss:w/rd", "my db")


def test_an_ipv6_host() -> None:
    config = database_from_url("postgres://u@[::1]:5432/n")
    assert (config["HOST"], config["PORT"]) == ("::1", "5432")


def test_a_sqlite_url() -> None:
    config = database_from_url("sqlite:///srv/helpdesk/db.sqlite3")
    assert config == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/srv/helpdesk/db.sqlite3",
        "OPTIONS": SQLITE_OPTIONS,
    }


def test_a_sqlite_path_is_percent_decoded() -> None:
    assert database_from_url("sqlite:///srv/my%20db.sqlite3")["NAME"] == "/srv/my db.sqlite3"


def test_sqlite_waits_for_the_write_lock_instead_of_failing() -> None:
    options = database_from_url("sqlite:///x.db")["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] > 0
    assert "journal_mode=WAL" in options["init_command"]


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:p@h/n",
        "redis://127.0.0.1:6379/0",
        "http://example.com/db",
        "not a url",
        "",
        "/var/db.sqlite3",
    ],
)
def test_unsupported_urls_are_improperly_configured(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url(url)


@pytest.mark.parametrize(
    "url", ["postgres://u@h:notaport/n", "postgres://u@h:99999/n", "postgres://u@h:-1/n"]
)
def test_a_bad_port_is_improperly_configured(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url(url)
