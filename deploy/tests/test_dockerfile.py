"""The Dockerfile, checked without a base-image registry: hadolint clean, a non-root final
stage that holds no build tooling, the static-collecting step runs as written, and the
.dockerignore keeps local state and tests out of the image."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


@pytest.fixture(scope="module")
def stages() -> dict[str, list[str]]:
    """Each stage's instructions (continuation lines joined), by stage name."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found, current = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("FROM "):
            current = line.split(" AS ")[-1].strip()
            found[current] = []
        if current is not None:
            found[current].append(line)
    return found


def test_hadolint_finds_nothing():
    hadolint = Path(sys.executable).with_name("hadolint")
    completed = subprocess.run(
        [str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, cwd=ROOT
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_final_stage_runs_as_a_non_root_user_in_exec_form(stages):
    runtime = stages["runtime"]
    (user,) = [line for line in runtime if line.startswith("USER ")]
    (cmd,) = [line for line in runtime if line.startswith("CMD ")]

    assert user.split()[1].split(":")[0] not in {"0", "root"}
    assert json.loads(cmd.removeprefix("CMD "))[0] == "gunicorn"
    assert list(stages) == ["build", "runtime"]


def test_final_stage_copies_only_the_venv_and_the_app_and_installs_nothing(stages):
    runtime = stages["runtime"]

    assert not [line for line in runtime if re.search(r"\bpip\b|apt-get|uv ", line)]
    assert [line.split()[-1] for line in runtime if line.startswith("COPY ")] == ["/venv", "/app"]


def test_build_installs_exactly_the_hashed_image_lock(stages):
    (install,) = [line for line in stages["build"] if "pip install" in line]

    assert "--require-hashes" in install
    assert "-r /tmp/requirements.lock" in install


def test_collectstatic_step_runs_as_written(stages, tmp_path):
    (step,) = [line for line in stages["build"] if "collectstatic" in line]
    words = shlex.split(step.removeprefix("RUN "))
    env = dict(word.split("=", 1) for word in words if re.fullmatch(r"[A-Z_]+=.*", word))
    command = [word for word in words if not re.fullmatch(r"[A-Z_]+=.*", word)]
    env["CRUDDUR_VAR_DIR"] = str(tmp_path)
    assert command[:2] == ["/venv/bin/python", "manage.py"]

    completed = subprocess.run(
        [sys.executable, *command[1:]],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert completed.returncode == 0, completed.stderr
    assert list((tmp_path / "staticfiles").rglob("*.css.gz"))


def test_dockerignore_keeps_out_local_state_and_tests():
    ignored = (ROOT / ".dockerignore").read_text().split()

    for entry in (".git", ".venv", "node_modules", "var", "db.sqlite3", "**/tests"):
        assert entry in ignored
