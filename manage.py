#!/usr/bin/env python
import os
import sys
from pathlib import Path


def load_dotenv(path: Path) -> None:
    """KEY=VALUE lines from the git-ignored `.env` that `make dev` writes, so manage.py in
    any terminal reaches the local engines. Variables already set win. Only manage.py
    reads it: the WSGI app and the tests never do."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            os.environ.setdefault(key.strip(), value.strip())


def main() -> None:
    load_dotenv(Path(__file__).resolve().parent / ".env")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cruddur.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
