"""`manage.py check --deploy` with production settings from the environment.

The subprocesses start together (each takes 1.5-3 s) and each test reads its own result.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import Warning as CheckWarning

from helpdesk.checks import check_production_services

ROOT = Path(__file__).resolve().parents[2]
SECRET = "production-secret-" + "k7Qp2xVn9LmZr4Ts8WbYc3Hd6Jf1Ge5A"  # 50+ chars, varied
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": SECRET,
    "DJANGO_ALLOWED_HOSTS": "helpdesk.example.com",
    "DATABASE_URL": "postgres://helpdesk@127.0.0.1:5432/helpdesk",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}
SCENARIOS = {
    "production": PRODUCTION,
    "no-secret-key": {**PRODUCTION, "DJANGO_SECRET_KEY": ""},
    "development-services": {
        key: value for key, value in PRODUCTION.items() if key not in {"REDIS_URL", "DATABASE_URL"}
    },
}


def _clean_environment(tmp: Path) -> dict[str, str]:
    """The parent's environment without any setting of ours (the test run may set some)."""
    prefixes = ("DJANGO_", "HELPDESK_", "CELERY_", "EMAIL_", "DATABASE_URL", "REDIS_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["HELPDESK_VAR_DIR"] = str(tmp)
    return env


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, subprocess.CompletedProcess[str]]:
    tmp = tmp_path_factory.mktemp("deploy-check")
    base = _clean_environment(tmp)
    procs = {
        name: subprocess.Popen(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=ROOT,
            env={**base, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, env in SCENARIOS.items()
    }
    done = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=60)
        done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


def test_production_settings_pass_every_deployment_check(results) -> None:
    run = results["production"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "System check identified no issues" in run.stdout


def test_production_without_a_secret_key_fails_with_a_clear_message(results) -> None:
    run = results["no-secret-key"]
    assert run.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false" in run.stderr


def test_production_on_the_development_services_is_flagged(results) -> None:
    run = results["development-services"]
    assert run.returncode != 0
    output = run.stdout + run.stderr
    for check_id in ("helpdesk.W001", "helpdesk.W002", "helpdesk.W003"):
        assert check_id in output


# --- Our own checks, in process ----------------------------------------------------------------


def _ids(warnings: list[CheckWarning]) -> set[str]:
    return {w.id for w in warnings}


def test_our_checks_are_quiet_on_production_services(settings) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {}}
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    on_sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    assert _ids(check_production_services()) == ({"helpdesk.W003"} if on_sqlite else set())


def test_our_checks_flag_the_in_memory_layer_and_eager_celery(settings) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.CELERY_TASK_ALWAYS_EAGER = True
    warnings = check_production_services()
    assert {"helpdesk.W001", "helpdesk.W002"} <= _ids(warnings)
    assert all(w.hint for w in warnings)
