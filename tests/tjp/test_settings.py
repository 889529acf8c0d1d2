"""The settings module refuses insecure production configurations."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROD = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "-a-long-random-production-like-secret-key-value-0123456789",
    "ALLOWED_HOSTS": "tjp.example.org",
}


def _run(args, **env):
    full = {
        k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
    }
    full.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True
    )


def test_missing_secret_key_is_an_error_when_debug_is_off():
    result = _run(["check"], **{**PROD, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_missing_allowed_hosts_is_an_error_when_debug_is_off():
    result = _run(["check"], **{**PROD, "ALLOWED_HOSTS": ""})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_check_deploy_is_clean_with_production_env():
    result = _run(["check", "--deploy", "--fail-level", "WARNING"], **PROD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_on_needs_nothing():
    result = _run(["check"], DEBUG="1")
    assert result.returncode == 0, result.stderr
