"""`manage.py probe [healthz|readyz]`: the container's health command (exit 0 or 1)."""

import json
import os
import urllib.error
import urllib.request

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Ask the server on this host for /healthz or /readyz; exit 0 when it says ok."
    # Runs every 30 s in each container: the server already passed the checks at start.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("probe", nargs="?", choices=["healthz", "readyz"], default="healthz")
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("PORT", "8000")), help="($PORT)"
        )
        parser.add_argument("--timeout", type=float, default=5.0, help="seconds")

    def handle(self, *args, probe, port, timeout, **options):
        url = f"http://127.0.0.1:{port}/{probe}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                body = response.read().decode()
                status = response.status
        except urllib.error.HTTPError as exc:
            body, status = exc.read().decode(), exc.code
        except OSError as exc:
            self.stderr.write(f"{url}: {exc}")
            raise SystemExit(1) from exc
        self.stdout.write(body)
        if status != 200 or json.loads(body).get("status") != "ok":
            raise SystemExit(1)
