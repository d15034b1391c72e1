"""The README's commands run on a fresh machine: nothing beyond what the project needs."""

import re
import subprocess
import uuid
from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_api_example_makes_its_idempotency_key_with_python_not_uuidgen():
    (example,) = [
        block for block in re.findall(r"```sh\n(.*?)```", README, re.S) if "/api/messages" in block
    ]
    (key_line,) = [line for line in example.splitlines() if line.startswith("KEY=")]

    key = subprocess.run(
        ["bash", "-c", f"set -eu; {key_line}; echo $KEY"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout.strip()

    assert "uuidgen" not in README
    assert uuid.UUID(key).version == 4
    assert 'Idempotency-Key: $KEY"' in example
