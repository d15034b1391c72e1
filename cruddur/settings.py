"""Cruddur settings.

Every value comes from the environment, read once here, with defaults that work on a
laptop with nothing configured. Production sets DJANGO_SECRET_KEY, DJANGO_DEBUG=0,
DJANGO_ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and the AWS variables.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CRUDDUR_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
# With DEBUG off, cruddur/checks.py refuses to start on the dev key, no allowed hosts or
# no REDIS_URL; the dev values below exist only so a laptop needs no configuration.
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "dev-only-insecure-key-set-DJANGO_SECRET_KEY-in-production"
)
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver" if DEBUG else ""
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "cruddur",
    "accounts",
    "messaging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.user_time_zone_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "messaging.middleware.DynamoDeadlineMiddleware",
    "messaging.middleware.MessagingErrorsMiddleware",
    # Last, so it sees the lockout flag a login view set.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cruddur.urls"
WSGI_APPLICATION = "cruddur.wsgi.application"
# Live events (/api/events) need an ASGI server: `uvicorn cruddur.asgi:application`.
ASGI_APPLICATION = "cruddur.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "messaging.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
# Lets several test runs share one Postgres server without dropping each other's
# test database.
if os.environ.get("DJANGO_TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["DJANGO_TEST_DATABASE_NAME"]}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out account or address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "messaging:inbox"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", VAR_DIR / "media"))

AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None
if AWS_STORAGE_BUCKET_NAME:
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REDIS_URL = os.environ.get("REDIS_URL", "")
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "cruddur")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "cruddur.cache_backend.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    # A file cache is the one built-in backend that every local process (runserver,
    # the stream worker, management commands) shares, so invalidation reaches them all.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

# Messaging (DynamoDB). Library code reads these through django.conf.settings at call
# time; AWS_ENDPOINT_URL_DYNAMODB(_STREAMS) are read by botocore itself.
MESSAGING_TABLE = os.environ.get("MESSAGING_TABLE", "cruddur-messages")
MESSAGING_FANOUT = os.environ.get("MESSAGING_FANOUT", "inline")
# Seconds Redis may keep a first page of conversation data (inbox, messages, the badge)
# and the API bodies made from them; 0 reads every page from DynamoDB.
MESSAGING_CACHE_TTL = int(os.environ.get("MESSAGING_CACHE_TTL", "600"))
# Seconds Redis may keep a person's name, avatar and receipt setting (a profile save
# retires the entry at once); 0 reads them from Postgres on every page.
MESSAGING_PEOPLE_CACHE_TTL = int(os.environ.get("MESSAGING_PEOPLE_CACHE_TTL", "600"))
# Seconds a write takes to settle in AWS's eventually consistent index: a page read
# sooner is cached only until then.
MESSAGING_CACHE_SETTLE = float(os.environ.get("MESSAGING_CACHE_SETTLE", "1.0"))
MESSAGING_PAGE_SIZE = int(os.environ.get("MESSAGING_PAGE_SIZE", "20"))
# Seconds after sending within which a sender may edit a message (deleting has no limit).
MESSAGING_EDIT_WINDOW = int(os.environ.get("MESSAGING_EDIT_WINDOW", "900"))
MESSAGING_MAX_PAGE_SIZE = 100
# Seconds within which a request has its answer, however DynamoDB behaves: past it no
# further attempt is made and the request answers 503 with Retry-After.
DYNAMODB_REQUEST_DEADLINE = float(os.environ.get("DYNAMODB_REQUEST_DEADLINE", "4.5"))
# Live events on /api/events: seconds between heartbeats (each re-checks the session or
# token, so a stream ends within one interval of a logout), and the reconnect delay the
# stream suggests to clients.
MESSAGING_EVENTS_HEARTBEAT = float(os.environ.get("MESSAGING_EVENTS_HEARTBEAT", "15"))
MESSAGING_EVENTS_RETRY_MS = int(os.environ.get("MESSAGING_EVENTS_RETRY_MS", "3000"))

COGNITO_USER_POOL_ID = os.environ.get("COGNITO_USER_POOL_ID", "")
COGNITO_APP_CLIENT_ID = os.environ.get("COGNITO_APP_CLIENT_ID", "")
COGNITO_REGION = os.environ.get("COGNITO_REGION", os.environ.get("AWS_DEFAULT_REGION", ""))
COGNITO_JWKS_URL = os.environ.get("COGNITO_JWKS_URL", "")

REST_FRAMEWORK: dict[str, object] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "messaging.api.tokens.ExpiringTokenAuthentication",
        "messaging.api.authentication.CognitoJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["messaging.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "messaging.api.exceptions.exception_handler",
}
# The send limit ("<count>/<sec|min|hour|day>") per user, on the API and the page forms
# alike, counted in the default cache.
MESSAGING_SEND_RATE = os.environ.get("MESSAGING_SEND_RATE", "30/min")
# Pages post a typing notice at most every few seconds while someone types.
MESSAGING_TYPING_RATE = os.environ.get("MESSAGING_TYPING_RATE", "30/min")
# GET /api/me/export reads a person's whole history: a few a day is plenty.
MESSAGING_EXPORT_RATE = os.environ.get("MESSAGING_EXPORT_RATE", "5/hour")
# Seconds an API token lives after it is issued; signing in again then issues a new one.
API_TOKEN_LIFETIME = int(os.environ.get("API_TOKEN_LIFETIME", str(30 * 24 * 60 * 60)))
# Seconds Redis may keep who a token signs in (so a request costs no SQL for it). Deleting
# the token or saving its user retires the entry at once; this bounds it even if that
# invalidation never reaches Redis.
API_TOKEN_CACHE_TTL = int(os.environ.get("API_TOKEN_CACHE_TTL", "60"))

# Client addresses and password guessing. The client address is REMOTE_ADDR unless a
# count of our own proxies is configured (cruddur/proxies.py): X-Forwarded-For is never
# trusted beyond the entries those proxies added.
DJANGO_TRUSTED_PROXIES = int(os.environ.get("DJANGO_TRUSTED_PROXIES", "0"))
# DRF's own client address (any address-keyed throttle) follows the same count.
REST_FRAMEWORK["NUM_PROXIES"] = DJANGO_TRUSTED_PROXIES
# django-axes: failed sign-ins (login page and POST /api/auth/token) counted per account
# and, separately, per client address; either reaching the limit locks it for the
# cool-off after its last failure.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(seconds=int(os.environ.get("DJANGO_LOGIN_COOLOFF", "900")))
# Failures during a lockout do not push its end further out: the owner of a guessed-at
# account can sign in once the cool-off has passed.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "cruddur.proxies.client_ip"
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.locked_out_response"
# Only failures are stored; a row per successful sign-in is not needed to count them.
AXES_DISABLE_ACCESS_LOG = True
# No start-up banner; failures are still logged (handle and address, never a password).
AXES_VERBOSE = False

SPECTACULAR_SETTINGS = {
    "TITLE": "Cruddur messaging API",
    "DESCRIPTION": "Direct messages between Cruddur users, stored in one DynamoDB table.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # GET /api/events is an async (non-DRF) view; the second hook documents it.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "messaging.api.schema.request_bodies_required",
        "messaging.api.events.events_schema",
    ],
}

# json: one object a line, for CloudWatch Logs Insights; text: readable, for `make dev`.
LOG_FORMAT = os.environ.get("DJANGO_LOG_FORMAT", "text" if DEBUG else "json")
LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "INFO")
# Password reset mails: printed to the console in development.
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "Cruddur <no-reply@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "cruddur.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "cruddur.logs.JsonFormatter"},
        "text": {"()": "cruddur.logs.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            # stdout: what the container's log driver (awslogs) and `make dev` read.
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own default config also gives "django" a console handler; one is enough.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # cruddur.request logs every request; django.server and the access log would
        # repeat it with the query string.
        "django.server": {"level": "WARNING"},
        # At DEBUG these log whole request and response bodies: message text, tokens.
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        # At DEBUG it logs a page's whole context (message bodies) for every variable a
        # template looks up and does not find.
        "django.template": {"level": "INFO"},
        # Axes logs every step of a failed sign-in at INFO; the failure itself is a WARNING.
        "axes": {"level": "WARNING"},
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# HTTPS. Off by default (a laptop serves plain HTTP); production behind a TLS-terminating
# load balancer sets the proxy header, HSTS and the redirect (`check --deploy` is clean).
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
# "HTTP_X_FORWARDED_PROTO,https": the header (as in request.META) and the value by which
# the load balancer says the client used HTTPS. Set it only behind such a proxy.
_proxy_ssl_header = env_list("DJANGO_SECURE_PROXY_SSL_HEADER", "")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if len(_proxy_ssl_header) == 2 else None

# --- Production: health probes, request logs, error reporting, the server (issue 15) ---

# The ECS task gets the Postgres password from Secrets Manager as its own variable, so
# DATABASE_URL (a stack output, visible in the console) names no password.
if os.environ.get("DATABASE_PASSWORD"):
    DATABASES["default"]["PASSWORD"] = os.environ["DATABASE_PASSWORD"]

INSTALLED_APPS = [*INSTALLED_APPS, "health"]
# The probes answer before host validation and the HTTPS redirect (health/middleware.py);
# the request log wraps everything else, so its counts include every middleware.
MIDDLEWARE = [
    "health.middleware.HealthProbeMiddleware",
    "cruddur.logs.RequestLogMiddleware",
    *MIDDLEWARE,
]
# Seconds each readiness check (Postgres, cache, DynamoDB) may take.
HEALTH_CHECK_TIMEOUT = float(os.environ.get("HEALTH_CHECK_TIMEOUT", "2"))

SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from cruddur import sentry

    sentry.init(
        dsn=SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        release=os.environ.get("SENTRY_RELEASE", ""),
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )
