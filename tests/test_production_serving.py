"""Served as in production: gunicorn, DEBUG off, static files from WhiteNoise, /health/ up."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def production(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "a-test-secret-that-is-long-enough-for-production-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "-v0"], ["collectstatic", "--no-input", "-v0"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True)  # noqa: S603
    port = free_port()
    gunicorn = [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2"]
    server = subprocess.Popen(  # noqa: S603 (our own command line)
        [*gunicorn, "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/health/", timeout=1)  # noqa: S310 (loopback)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_gunicorn_serves_pages_static_files_and_health_with_debug_off(production):
    health = urllib.request.urlopen(f"{production}/health/", timeout=5)  # noqa: S310
    assert health.status == 200 and b'"status": "ok"' in health.read()

    login = urllib.request.urlopen(f"{production}/accounts/login/", timeout=5)  # noqa: S310
    page = login.read().decode()
    assert login.status == 200 and "Content-Security-Policy" in login.headers
    css = page.split('rel="stylesheet" href="')[1].split('"')[0]
    assert ".css" in css and css != "/static/ror/app.css"  # hashed name from the manifest
    static = urllib.request.urlopen(f"{production}{css}", timeout=5)  # noqa: S310
    assert static.status == 200 and "max-age=315360000" in static.headers["Cache-Control"]
