"""The architecture contracts (import-linter, in pyproject.toml) hold, and a contract
broken on purpose fails: the check can fail."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def run_contracts(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
    )


def copy_of_the_project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("accounts", "messaging", "cruddur"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_every_contract_is_kept():
    result = run_contracts(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "4 kept, 0 broken" in result.stdout


def test_django_in_the_gateway_breaks_its_contract(tmp_path):
    copy = copy_of_the_project(tmp_path)
    keys = copy / "messaging" / "dynamo" / "keys.py"
    keys.write_text("from django.conf import settings  # noqa\n" + keys.read_text())

    result = run_contracts(copy)

    assert result.returncode != 0
    assert "Gateway, stream core and event publishing are free of Django BROKEN" in result.stdout


def test_accounts_importing_messaging_breaks_its_contract(tmp_path):
    copy = copy_of_the_project(tmp_path)
    admin = copy / "accounts" / "admin.py"
    admin.write_text(admin.read_text() + "\nfrom messaging import selectors  # noqa\n")

    result = run_contracts(copy)

    assert result.returncode != 0
    assert "accounts does not depend on messaging BROKEN" in result.stdout


def test_a_view_reaching_past_the_services_into_boto3_breaks_its_contract(tmp_path):
    copy = copy_of_the_project(tmp_path)
    views = copy / "messaging" / "views.py"
    views.write_text(views.read_text() + "\nimport boto3  # noqa\n")

    result = run_contracts(copy)

    assert result.returncode != 0
    assert "Only the gateway calls boto3 BROKEN" in result.stdout
