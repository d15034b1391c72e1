"""Section 7: where the time goes. pyinstrument over requests in the bench process, by
layer, by the project's own functions and by frame; and the boto3 client on its own."""

from pathlib import Path

from django.test import Client
from django.test.utils import override_settings

from bench import ROOT
from bench.phases.cost import auth
from bench.seed import Person
from messaging.dynamo.client import get_client


def profile(
    *, name: str, person: Person, path: str, cached: bool, requests_count: int, out_dir: Path
) -> dict:
    """pyinstrument over `requests_count` requests to `path` in process, with the cache
    disabled or (`cached`) every request a hit. The full tree goes to profile-<name>.*"""
    from pyinstrument import Profiler

    client = Client()
    with override_settings(MESSAGING_CACHE_TTL=600 if cached else 0):
        for _ in range(5):
            client.get(path, **auth(person))
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(requests_count):
            client.get(path, **auth(person))
        profiler.stop()
    session = profiler.last_session
    (out_dir / f"profile-{name}.txt").write_text(profiler.output_text(unicode=True))
    (out_dir / f"profile-{name}.html").write_text(profiler.output_html())
    root = session.root_frame()
    self_times: dict[str, float] = {}
    _self_times(root, self_times)
    total = session.duration
    top_self = sorted(self_times.items(), key=lambda item: item[1], reverse=True)[:12]
    project_times: dict[str, float] = {}
    _project_times(root, project_times)
    return {
        "name": name,
        "path": path,
        "cache": "hit" if cached else "disabled",
        "requests": requests_count,
        "seconds": round(total, 3),
        "ms_per_request": round(total * 1000 / requests_count, 2),
        "top_self": [
            {
                "frame": frame,
                "ms_per_request": round(seconds * 1000 / requests_count, 3),
                "share": round(seconds / total, 3),
            }
            for frame, seconds in top_self
        ],
        "by_layer": _layers(root, requests_count, LAYERS),
        "top_project": [
            {"frame": frame, "ms_per_request": round(seconds * 1000 / requests_count, 3)}
            for frame, seconds in sorted(
                project_times.items(), key=lambda item: item[1], reverse=True
            )[:10]
        ],
    }


def _frame_name(frame) -> str:
    return f"{frame.function} ({frame.file_path_short}:{frame.line_no})"


def _self_times(frame, into: dict[str, float]) -> None:
    # pyinstrument's synthetic "[self]" children repeat their parent's self time.
    if not frame.is_synthetic:
        name = _frame_name(frame)
        into[name] = into.get(name, 0.0) + frame.total_self_time
    for child in frame.children:
        _self_times(child, into)


PROJECT_DIRS = tuple(str(ROOT / name) for name in ("messaging", "accounts", "cruddur"))


def _project_times(frame, into: dict[str, float]) -> None:
    """Inclusive time of the project's own functions (not Django's, not the bench's)."""
    if not frame.is_synthetic and (frame.file_path or "").startswith(PROJECT_DIRS):
        name = f"{frame.function} ({Path(frame.file_path).relative_to(ROOT)}:{frame.line_no})"
        into[name] = into.get(name, 0.0) + frame.time
    for child in frame.children:
        _project_times(child, into)


LAYERS = (
    ("DynamoDB call (botocore + HTTP + engine)", "botocore"),
    ("SQL (psycopg2 + ORM)", "django/db"),
    ("DRF view and all under it", "rest_framework"),
    ("cache (Redis)", "redis"),
    ("DRF token authentication", "rest_framework/authentication.py"),
)


CLIENT_STAGES = (
    ("validate and serialize the request", "botocore/validate.py"),
    ("validate and serialize the request", "botocore/serialize.py"),
    ("SigV4 signing", "botocore/auth.py"),
    ("user-agent string", "botocore/useragent.py"),
    ("HTTP round trip (incl. the engine)", "urllib3/"),
    ("parse the response", "botocore/parsers.py"),
)


def client_profile(*, request: dict, calls: int, out_dir: Path) -> dict:
    """pyinstrument over `calls` bare Queries: where the boto3 client's own time goes,
    by stage, to tell whether any client setting could matter."""
    from pyinstrument import Profiler

    client = get_client()
    for _ in range(20):
        client.query(**request)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(calls):
        client.query(**request)
    profiler.stop()
    session = profiler.last_session
    (out_dir / "profile-bare-query.txt").write_text(
        profiler.output_text(unicode=True, show_all=True)
    )
    return {
        "calls": calls,
        "ms_per_call": round(session.duration * 1000 / calls, 3),
        "stages": _layers(session.root_frame(), calls, CLIENT_STAGES),
    }


def _layers(root, requests_count: int, layers: tuple) -> dict:
    """Inclusive time under the outermost frame of each layer, per request."""
    totals = dict.fromkeys((label for label, _ in layers), 0.0)

    def walk(frame, inside: set[str]):
        path = frame.file_path or ""
        for label, marker in layers:
            if label not in inside and marker in path:
                totals[label] += frame.time
                inside = inside | {label}
        for child in frame.children:
            walk(child, inside)

    walk(root, set())
    return {label: round(seconds * 1000 / requests_count, 3) for label, seconds in totals.items()}
