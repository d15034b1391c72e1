"""JSON everywhere under /api/, including the errors Django answers itself (unknown
paths, bodies it refuses, crashes); pages keep the site's HTML error pages."""

import json

import pytest
from django.core.exceptions import RequestDataTooBig
from django.test import Client, RequestFactory

from messaging.api import exceptions


@pytest.mark.parametrize("path", ["/api/nope", "/api/messages/x/y/z", "/api/users/bob"])
def test_unknown_api_paths_are_404_json(db, path):
    response = Client().get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_unknown_page_paths_stay_html(db):
    response = Client().get("/no-such-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_wrong_method_is_405_json(db):
    response = Client().put("/api/auth/token", "{}", content_type="application/json")

    assert response.status_code == 405
    assert response.json()["detail"]


def test_a_form_body_over_the_upload_limit_is_413_json(db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    # Django itself refuses it when the body is read as a form, before DRF parses.
    request = RequestFactory().post(
        "/api/auth/token", "a=" + "x" * 200, content_type="application/x-www-form-urlencoded"
    )

    with pytest.raises(RequestDataTooBig) as refused:
        request.POST  # noqa: B018

    response = exceptions.bad_request(request, refused.value)

    assert response.status_code == 413
    assert json.loads(response.content)["detail"]


def test_a_server_error_under_api_is_json_without_internals():
    response = exceptions.server_error(RequestFactory().get("/api/message_groups"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"detail": "Something went wrong on our side."}


def test_a_server_error_on_a_page_stays_html():
    response = exceptions.server_error(RequestFactory().get("/messages"))

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_a_bad_request_under_api_is_json(db):
    response = Client().get("/api/message_groups", headers={"host": "evil.example"})

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}
