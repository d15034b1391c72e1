import os

import manage


def test_dotenv_fills_unset_variables_and_never_overrides_the_environment(tmp_path, monkeypatch):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\n\nCRUDDUR_TEST_A=from-file\nCRUDDUR_TEST_B = spaced = value \nnot a pair\n"
    )
    monkeypatch.delenv("CRUDDUR_TEST_A", raising=False)
    monkeypatch.setenv("CRUDDUR_TEST_B", "from-environment")

    manage.load_dotenv(dotenv)

    assert os.environ["CRUDDUR_TEST_A"] == "from-file"
    assert os.environ["CRUDDUR_TEST_B"] == "from-environment"
    monkeypatch.delenv("CRUDDUR_TEST_A")


def test_missing_dotenv_changes_nothing(tmp_path):
    before = dict(os.environ)
    manage.load_dotenv(tmp_path / "absent.env")
    assert dict(os.environ) == before
