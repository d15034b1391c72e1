"""pyproject.toml chooses the versions; the locks must say the same, with hashes, and the
image's lock must hold no development tool."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        name, version = re.fullmatch(
            r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", requirement
        ).groups()
        pins[_normal(name)] = version
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked(path: Path) -> dict[str, list[str]]:
    text = path.read_text()
    entries = {}
    for block in re.split(r"\n(?=\S)", text):
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s;]+)", block)
        if match:
            entries[_normal(match.group(1))] = [
                match.group(2),
                *re.findall(r"--hash=sha256:\w+", block),
            ]
    return entries


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_every_pin_in_pyproject_is_what_the_locks_install(project):
    runtime = _pins(project["dependencies"])
    dev = _pins(project["optional-dependencies"]["dev"])
    image, development = (
        _locked(ROOT / "requirements.lock"),
        _locked(ROOT / "requirements-dev.lock"),
    )

    assert {name: image[name][0] for name in runtime} == runtime
    assert {name: development[name][0] for name in runtime | dev} == runtime | dev


def test_every_locked_package_has_a_hash():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        entries = _locked(ROOT / lock)
        assert entries
        assert [name for name, (_, *hashes) in entries.items() if not hashes] == []


def test_the_image_lock_holds_no_development_tool(project):
    dev = _pins(project["optional-dependencies"]["dev"])
    image = _locked(ROOT / "requirements.lock")

    assert set(dev) & set(image) == set()
