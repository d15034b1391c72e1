"""Assemble the stream Lambda's code for `sam build`: only the Django-free modules the
handler imports, and a requirements.txt pinned from the project's.

    python deploy/build_function.py            # writes deploy/build/function/
    python deploy/build_function.py OUT_DIR
"""

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "deploy" / "build" / "function"
MODULES = [
    "messaging/__init__.py",
    "messaging/cache_keys.py",
    "messaging/stats.py",
]
PACKAGES = ["messaging/dynamo", "messaging/stream", "messaging/events"]
# boto3 is pinned rather than taken from the runtime, so the Lambda runs the botocore
# the tests ran; redis-py invalidates the web cache.
REQUIREMENTS = ["boto3", "redis"]


def pinned(names: list[str]) -> list[str]:
    text = (ROOT / "requirements.lock").read_text()
    pins = []
    for name in names:
        match = re.search(rf"^{re.escape(name)}==\S+", text, re.MULTILINE)
        if not match:
            raise SystemExit(f"{name} is not pinned in requirements.lock")
        pins.append(match.group(0))
    return pins


def build(out: Path) -> Path:
    if out.exists():
        shutil.rmtree(out)
    for module in MODULES:
        target = out / module
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / module, target)
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, out / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    (out / "requirements.txt").write_text("\n".join(pinned(REQUIREMENTS)) + "\n")
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT))
