"""Avatars on S3 through django-storages, against moto_server on loopback."""

import json
import subprocess
import sys
import urllib.request

import boto3
import pytest
from django.conf import settings as django_settings
from PIL import Image

from accounts.tests.test_pages import image_upload
from devtools import dynamodb_local

pytestmark = pytest.mark.django_db

BUCKET = "cruddur-avatars-test"
CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    port = dynamodb_local.free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    process = subprocess.Popen(
        dynamodb_local.moto_command(port=port),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    dynamodb_local.wait_ready(port, process)
    endpoint = f"http://{dynamodb_local.HOST}:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)
    s3.create_bucket(Bucket=BUCKET)
    yield endpoint
    dynamodb_local.stop(process)
    log.close()


@pytest.fixture
def s3(s3_endpoint):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)


def test_settings_choose_s3_when_a_bucket_is_configured(s3_endpoint):
    probe = (
        "import json, django; django.setup();"
        "from django.core.files.storage import storages; s = storages['default'];"
        "print(json.dumps([type(s).__name__, s.bucket_name, s.endpoint_url]))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "cruddur.settings",
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
    }
    output = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(output) == ["S3Storage", BUCKET, s3_endpoint]


def test_avatar_upload_lands_in_the_bucket_and_its_url_serves_it(
    s3_endpoint, s3, settings, client, user_factory
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "file_overwrite": False,
                "querystring_auth": True,
                "access_key": "local",
                "secret_key": "local",
                "region_name": "us-east-1",
            },
        },
    }
    alice = user_factory("alice")
    client.force_login(alice)

    response = client.post(
        "/accounts/profile/", {"display_name": "Alice", "avatar": image_upload()}
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    stored = s3.list_objects_v2(Bucket=BUCKET, Prefix="avatars/")["Contents"]
    assert [item["Key"] for item in stored] == [alice.avatar.name]
    url = alice.avatar.url
    assert url.startswith(f"{s3_endpoint}/{BUCKET}/avatars/")
    # Presigned URLs carry their own expiry time, so two renderings differ after the path.
    object_url = url.split("?")[0]
    assert f'src="{object_url}?' in client.get("/accounts/profile/").content.decode()
    # The URL was checked above to be the loopback endpoint.
    with urllib.request.urlopen(url, timeout=5) as served, Image.open(served) as thumbnail:  # noqa: S310
        assert (thumbnail.format, thumbnail.size) == ("JPEG", (256, 256))
