"""With DJANGO_DEBUG off the process refuses to start on laptop settings, through
manage.py and through the ASGI/WSGI entry points, and check --deploy is clean once
production sets its variables."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "cruddur.example.com",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_HSTS_SECONDS": "31536000",
    "DJANGO_HSTS_PRELOAD": "1",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}
VARIABLES = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "REDIS_URL")


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "REDIS_URL", "DATABASE_URL"))
    }
    base.update({"DJANGO_SETTINGS_MODULE": "cruddur.settings", **env})
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("missing", VARIABLES)
def test_manage_py_check_refuses_production_without_each_variable_naming_it(missing):
    env = {name: value for name, value in PRODUCTION.items() if name != missing}

    result = run("manage.py", "check", **env)

    assert result.returncode != 0
    reasons = [line for line in result.stderr.splitlines() if "cruddur.E" in line]
    assert len(reasons) == 1
    assert missing in reasons[0]


@pytest.mark.parametrize(
    "key", ["too-short", "django-insecure-" + "x1y2z3" * 10, "dev-only-insecure-" + "a" * 60]
)
def test_a_weak_or_public_secret_key_is_refused_when_debug_is_off(key):
    result = run("manage.py", "check", **{**PRODUCTION, "DJANGO_SECRET_KEY": key})

    assert result.returncode != 0
    assert "cruddur.E001" in result.stderr


@pytest.mark.parametrize("module", ["cruddur.asgi", "cruddur.wsgi"])
def test_server_entry_points_refuse_to_start_with_debug_off_and_nothing_set(module):
    result = run("-c", f"import {module}", DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    for variable in VARIABLES:
        assert variable in result.stderr


@pytest.mark.parametrize("module", ["cruddur.asgi", "cruddur.wsgi"])
def test_server_entry_points_start_with_production_settings(module):
    result = run("-c", f"import {module}", **PRODUCTION)

    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_debug_needs_none_of_the_production_variables():
    result = run("manage.py", "check")

    assert result.returncode == 0, result.stderr
