"""The report must describe the code that ships: docs/benchmarks.md names the commit it
measured, and runtime code may not have changed after it unless the report says so."""

import shutil
import subprocess

import pytest

from bench import DOC, ROOT, freshness


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _commit(root, path: str, text: str) -> str:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text)
    _git(root, "add", path)
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", path)
    return freshness.git("rev-parse", "HEAD", root=root)


def _report(commit: str) -> str:
    return f"# Benchmarks\n\n- Run at now, commit `{commit[:7]}`, working tree clean.\n"


@pytest.fixture
def repo(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    _git(tmp_path, "init", "-q")
    return tmp_path


def test_report_of_the_last_runtime_commit_is_fresh(repo):
    measured = _commit(repo, "messaging/views.py", "v1")
    assert freshness.problem(_report(measured), root=repo) is None


def test_later_bench_or_docs_commits_keep_the_report_fresh(repo):
    measured = _commit(repo, "messaging/views.py", "v1")
    _commit(repo, "bench/run.py", "faster bench")
    _commit(repo, "docs/benchmarks.md", "the report")
    assert freshness.problem(_report(measured), root=repo) is None


def test_later_test_only_commits_keep_the_report_fresh(repo):
    measured = _commit(repo, "messaging/views.py", "v1")
    _commit(repo, "messaging/tests/test_views.py", "a steadier test")
    _commit(repo, "accounts/tests/test_pages.py", "another")
    assert freshness.problem(_report(measured), root=repo) is None
    assert freshness.tree_state(root=repo)["dirty_runtime_paths"] == []


@pytest.mark.parametrize(
    "path",
    ["messaging/views.py", "accounts/models.py", "templates/base.html", "requirements.lock"],
)
def test_runtime_change_after_the_measured_commit_makes_the_report_stale(repo, path):
    measured = _commit(repo, "cruddur/settings.py", "v1")
    later = _commit(repo, path, "v2")
    found = freshness.problem(_report(measured), root=repo)
    assert found is not None and later[:7] in found


def test_a_report_that_says_it_is_stale_is_accepted(repo):
    measured = _commit(repo, "messaging/views.py", "v1")
    later = _commit(repo, "messaging/views.py", "v2")
    text = _report(measured).replace("\n", f"\n\n{freshness.stale_note(later, measured)}\n", 1)
    assert freshness.problem(text, root=repo) is None


def test_a_commit_missing_from_history_is_not_taken_as_fresh(repo):
    _commit(repo, "messaging/views.py", "v1")
    assert freshness.problem(_report("0" * 40), root=repo) is not None


def test_run_on_uncommitted_runtime_changes_records_them(repo):
    _commit(repo, "messaging/views.py", "v1")
    (repo / "messaging/views.py").write_text("v2, not committed")
    (repo / "bench.txt").write_text("not runtime")
    state = freshness.tree_state(root=repo)
    assert state["dirty"] is True
    assert state["dirty_runtime_paths"] == ["messaging/views.py"]
    assert state["dirty_paths"] == ["bench.txt", "messaging/views.py"]


def test_committed_benchmarks_report_describes_the_runtime_code():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    shallow = freshness.git("rev-parse", "--is-shallow-repository")
    if shallow == "true":
        pytest.skip("a shallow clone lacks the history to compare with")
    assert freshness.problem(DOC.read_text()) is None
