"""The README's commands work as written: ``./dev run`` serves the demo, ``./dev`` alone explains itself."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import _free_port

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 60

# What would send ./dev run somewhere else than its SQLite files under EMARGE_INSTANCE.
FOREIGN_SETTINGS = ("DATABASE_URL", "REDIS_URL", "EMARGE_ENV", "SECRET_KEY", "PUBLIC_BASE_URL", "MAIL_SERVER")


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_SETTINGS}
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update(extra)
    return env


@pytest.fixture
def venv_is_current():
    stamp = ROOT / ".venv" / ".requirements.lock"
    lock = ROOT / "requirements.lock"
    if not stamp.exists() or stamp.read_bytes() != lock.read_bytes():
        pytest.fail(
            "the .venv is not stamped with requirements.lock: run `./dev test` (it installs, then stamps)"
        )


def _get(url: str, timeout: float = 2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_dev_run_serves_the_demo(tmp_path, venv_is_current):
    port = _free_port()
    instance = tmp_path / "instance"
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    base = f"http://127.0.0.1:{port}"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        process = subprocess.Popen(
            ["sh", "./dev", "run"],
            cwd=ROOT,
            env=_env(PORT=str(port), EMARGE_INSTANCE=str(instance)),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,  # its own process group, ended as a whole below
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        health = None
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(
                    f"./dev run exited with {process.returncode}\n"
                    f"stdout:\n{out.read_text()}\nstderr:\n{err.read_text()}"
                )
            try:
                status, body = _get(f"{base}/healthz")
            except OSError:
                time.sleep(0.2)
                continue
            if status == 200:
                health = json.loads(body)
                break
            time.sleep(0.2)
        else:
            pytest.fail(
                f"no 200 from {base}/healthz within {STARTUP_TIMEOUT}s\n"
                f"stdout:\n{out.read_text()}\nstderr:\n{err.read_text()}"
            )
        assert health["database"] == "ok"
        assert health["redis"].startswith("not configured")

        printed = out.read_text()
        assert "Installing dependencies" not in printed, "./dev run reinstalled a venv that was current"
        assert f"Serving on {base}" in printed
        assert f"{base}/demo/login" in printed
        assert "admin@emarge-demo.fr" in printed
        assert "formateur@emarge-demo.fr" in printed

        status, body = _get(f"{base}/demo/login")
        assert status == 200
        assert "Formations D" in body.decode()
        assert (instance / "platform.db").exists()
        assert (instance / "secret_key").exists()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_dev_without_a_command_prints_usage(venv_is_current):
    result = subprocess.run(
        ["sh", "./dev"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "usage: ./dev run | ./dev test" in result.stderr
    assert "Installing dependencies" not in result.stdout + result.stderr


def test_dev_with_an_unknown_command_prints_usage(venv_is_current):
    result = subprocess.run(
        ["sh", "./dev", "deploy"], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "usage:" in result.stderr
