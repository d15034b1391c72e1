"""API authentication: tokens, sessions and Cognito JWTs.

Cognito end to end uses real tokens from moto_server's cognito-idp on 127.0.0.1. The
failure modes use tokens minted here with a local RSA key, whose JWKS a small HTTP
server on 127.0.0.1 serves, so each failure is exactly one bad claim.
"""

import base64
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from devtools import dynamodb_local
from messaging.api.authentication import jwks_clients_reset

pytestmark = pytest.mark.django_db(transaction=True)

REGION = "us-east-1"
LOCAL_POOL_ID = "us-east-1_LocalPool"
LOCAL_CLIENT_ID = "local-app-client"
LOCAL_ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{LOCAL_POOL_ID}"
LOCAL_SUB = "6f1c9a52-local-sub"


# --- moto_server's Cognito ------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_cognito(tmp_path_factory):
    """A user pool, an app client and a confirmed user in moto_server, with real tokens."""
    port = dynamodb_local.free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    moto_server = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(moto_server), "-H", dynamodb_local.HOST, "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        dynamodb_local.wait_ready(port, process)
        endpoint = f"http://{dynamodb_local.HOST}:{port}"
        idp = boto3.client(
            "cognito-idp",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        pool_id = idp.create_user_pool(PoolName="cruddur")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="cruddur-web",
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        idp.admin_create_user(
            UserPoolId=pool_id,
            Username="cognito_alice",
            TemporaryPassword="Temp-passw0rd!",
            MessageAction="SUPPRESS",
        )
        idp.admin_set_user_password(
            UserPoolId=pool_id,
            Username="cognito_alice",
            Password="Real-passw0rd!",
            Permanent=True,
        )
        tokens = idp.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "cognito_alice", "PASSWORD": "Real-passw0rd!"},
        )["AuthenticationResult"]
        attributes = idp.admin_get_user(UserPoolId=pool_id, Username="cognito_alice")
        sub = next(a["Value"] for a in attributes["UserAttributes"] if a["Name"] == "sub")
        yield {
            "pool_id": pool_id,
            "client_id": client_id,
            "jwks_url": f"{endpoint}/{pool_id}/.well-known/jwks.json",
            "access_token": tokens["AccessToken"],
            "id_token": tokens["IdToken"],
            "sub": sub,
        }
    finally:
        dynamodb_local.stop(process)
        log.close()


@pytest.fixture
def moto_settings(settings, moto_cognito):
    settings.COGNITO_USER_POOL_ID = moto_cognito["pool_id"]
    settings.COGNITO_APP_CLIENT_ID = moto_cognito["client_id"]
    settings.COGNITO_REGION = REGION
    settings.COGNITO_JWKS_URL = moto_cognito["jwks_url"]
    return moto_cognito


def bearer(client, token: str):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.mark.parametrize("kind", ["access_token", "id_token"])
def test_real_cognito_token_signs_in_the_linked_user(
    api_client, user_factory, moto_settings, kind
):
    user_factory("alice", cognito_user_id=moto_settings["sub"])

    response = bearer(api_client(), moto_settings[kind]).get("/api/users/@alice/short")

    assert response.status_code == 200
    assert response.json()["handle"] == "alice"


def test_real_cognito_token_for_an_unlinked_user_is_401(api_client, user_factory, moto_settings):
    user_factory("alice")

    response = bearer(api_client(), moto_settings["access_token"]).get("/api/users/@alice/short")

    assert response.status_code == 401
    assert "No active Cruddur account" in response.json()["detail"]


def test_real_cognito_token_for_another_app_client_is_401(
    api_client, user_factory, moto_settings, settings
):
    user_factory("alice", cognito_user_id=moto_settings["sub"])
    settings.COGNITO_APP_CLIENT_ID = "some-other-client"

    response = bearer(api_client(), moto_settings["access_token"]).get("/api/users/@alice/short")

    assert response.status_code == 401
    assert response.json() == {"detail": "Token was issued for another app client."}


def test_bearer_tokens_are_not_accepted_when_cognito_is_not_configured(
    api_client, user_factory, moto_cognito, settings
):
    user_factory("alice", cognito_user_id=moto_cognito["sub"])
    settings.COGNITO_USER_POOL_ID = ""

    response = bearer(api_client(), moto_cognito["access_token"]).get("/api/users/@alice/short")

    assert response.status_code == 401


# --- locally minted tokens ---------------------------------------------------------------


class JwksServer:
    """Serves a JWKS on 127.0.0.1 and counts how often it is fetched."""

    def __init__(self):
        self.keys: list[dict] = []
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.fetches += 1
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((dynamodb_local.HOST, 0), Handler)
        self.url = f"http://{dynamodb_local.HOST}:{self.httpd.server_port}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def publish(self, *signing_keys: "SigningKey") -> None:
        self.keys = [key.jwk for key in signing_keys]


class SigningKey:
    def __init__(self, kid: str):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwk = {
            **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key())),
            "kid": kid,
            "alg": "RS256",
            "use": "sig",
        }

    def mint(self, **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": LOCAL_ISSUER,
            "sub": LOCAL_SUB,
            "client_id": LOCAL_CLIENT_ID,
            "token_use": "access",
            "iat": now,
            "exp": now + 600,
            **overrides,
        }
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture(scope="session")
def signing_keys():
    return SigningKey("local-1"), SigningKey("local-2")


@pytest.fixture(scope="session")
def jwks_server():
    server = JwksServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def local_pool(settings, jwks_server, signing_keys, api_client, user_factory):
    """Cognito settings for the local pool, its JWKS holding the first key only, a linked
    user, and a client to call the API with."""
    settings.COGNITO_USER_POOL_ID = LOCAL_POOL_ID
    settings.COGNITO_APP_CLIENT_ID = LOCAL_CLIENT_ID
    settings.COGNITO_REGION = REGION
    settings.COGNITO_JWKS_URL = jwks_server.url
    jwks_server.publish(signing_keys[0])
    jwks_server.fetches = 0
    # The JWKS server lives for the session; each test starts with nothing fetched.
    jwks_clients_reset()
    user_factory("carol", cognito_user_id=LOCAL_SUB)
    return api_client()


def call(client, token: str):
    return bearer(client, token).get("/api/users/@carol/short")


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_local_token_signs_in_and_the_jwks_is_fetched_once(local_pool, jwks_server, signing_keys):
    token = signing_keys[0].mint()

    responses = [call(local_pool, token).status_code for _ in range(3)]

    assert responses == [200, 200, 200]
    assert jwks_server.fetches == 1


def test_expired_token_is_401_saying_so(local_pool, signing_keys):
    expired = signing_keys[0].mint(iat=int(time.time()) - 7200, exp=int(time.time()) - 60)

    response = call(local_pool, expired)

    assert response.status_code == 401
    assert response.json() == {"detail": "Token expired."}


@pytest.mark.parametrize(
    ("claims", "detail"),
    [
        (
            {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool"},
            "Token was not issued by this user pool.",
        ),
        ({"client_id": "another-client"}, "Token was issued for another app client."),
        (
            {"token_use": "id", "client_id": None, "aud": "another-client"},
            "Token was issued for another app client.",
        ),
        ({"token_use": "refresh"}, "Token is neither an access nor an ID token."),
        ({"token_use": None}, "Token has no token_use claim."),
        ({"exp": None}, "Token has no exp claim."),
        ({"sub": None}, "Token has no sub claim."),
        ({"iat": int(time.time()) + 3600}, "Token is not valid yet."),
        (
            {"sub": "not-linked-to-anyone"},
            "No active Cruddur account is linked to this Cognito user.",
        ),
    ],
    ids=[
        "wrong-issuer",
        "wrong-client-id",
        "wrong-audience",
        "wrong-token-use",
        "no-token-use",
        "no-expiry",
        "no-sub",
        "issued-in-the-future",
        "unlinked-sub",
    ],
)
def test_token_with_a_bad_claim_is_401_naming_it(local_pool, signing_keys, claims, detail):
    response = call(local_pool, signing_keys[0].mint(**claims))

    assert response.status_code == 401
    assert response.json() == {"detail": detail}


def test_id_token_for_this_client_signs_in(local_pool, signing_keys):
    token = signing_keys[0].mint(token_use="id", client_id=None, aud=LOCAL_CLIENT_ID)

    assert call(local_pool, token).status_code == 200


def test_tampered_token_is_401_with_an_invalid_signature(local_pool, signing_keys):
    response = call(local_pool, _tampered(signing_keys[0].mint()))

    assert response.status_code == 401
    assert response.json() == {"detail": "Token signature is invalid."}


def test_token_signed_by_a_key_of_the_same_kid_but_not_the_pools_is_401(local_pool):
    impostor = SigningKey("local-1")

    response = call(local_pool, impostor.mint())

    assert response.status_code == 401
    assert response.json() == {"detail": "Token signature is invalid."}


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b.c",
        "Bearer",
        jwt.encode({"sub": LOCAL_SUB}, "an-hs256-secret-long-enough-for-pyjwt", algorithm="HS256"),
    ],
    ids=["garbage", "bad-segments", "keyword-again", "hs256"],
)
def test_malformed_or_symmetric_token_is_401(local_pool, token, jwks_server):
    response = call(local_pool, token)

    assert response.status_code == 401
    assert response.json()["detail"] in {
        "Malformed token.",
        "Token is not signed the way Cognito signs.",
    }
    assert jwks_server.fetches == 0


def test_unsigned_alg_none_token_is_401(local_pool):
    unsigned = jwt.encode(
        {"sub": LOCAL_SUB, "iss": LOCAL_ISSUER}, None, algorithm="none", headers={"kid": "local-1"}
    )

    response = call(local_pool, unsigned)

    assert response.status_code == 401
    assert response.json() == {"detail": "Token is not signed the way Cognito signs."}


def test_unknown_kid_refetches_the_jwks_and_then_accepts_a_rotated_key(
    local_pool, jwks_server, signing_keys
):
    old, new = signing_keys
    assert call(local_pool, old.mint()).status_code == 200
    jwks_server.publish(old, new)

    response = call(local_pool, new.mint())

    assert response.status_code == 200
    assert jwks_server.fetches == 2


def test_unknown_kids_refetch_the_jwks_only_a_few_times_a_minute(local_pool, jwks_server):
    strangers = [SigningKey(f"stranger-{n}") for n in range(3)]
    tokens = [strangers[n % 3].mint() for n in range(15)]

    statuses = {call(local_pool, token).status_code for token in tokens}

    assert statuses == {401}
    # The first fetch fills the cache; after it only JWKS_REFETCHES_PER_MINUTE more.
    assert jwks_server.fetches == 1 + 10


def test_unreachable_jwks_is_503_not_401(local_pool, signing_keys, settings):
    settings.COGNITO_JWKS_URL = f"http://{dynamodb_local.HOST}:{dynamodb_local.free_port()}/jwks"

    response = call(local_pool, signing_keys[0].mint())

    assert response.status_code == 503
    assert response.json()["detail"] == (
        "Cognito sign-in is temporarily unavailable. Try again shortly."
    )


# --- tokens -------------------------------------------------------------------------------


def test_unknown_drf_token_is_401(api_client, db):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")

    response = client.get("/api/message_groups")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
