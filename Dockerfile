# Cruddur's web image: the Django app served by gunicorn with uvicorn workers (ASGI).
# The same image runs the one-off migration task (command: python manage.py migrate).
#
#   docker build -t cruddur-web .
#   docker run --rm -p 127.0.0.1:8000:8000 -e DJANGO_SECRET_KEY=... -e DATABASE_URL=... cruddur-web

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# --- build: install the pinned, hashed runtime dependencies into a venv ------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /venv
COPY requirements.lock /tmp/requirements.lock
# Wheels only, every one checked against its hash in the lock; no compiler needed.
RUN /venv/bin/pip install --no-deps --require-hashes --only-binary=:all: \
        -r /tmp/requirements.lock

WORKDIR /app
COPY . .
# Static files are collected (and compressed by WhiteNoise) once, here, not at start.
# The values below exist only for this step: settings refuse DEBUG=0 without them.
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    DJANGO_ALLOWED_HOSTS=localhost REDIS_URL=redis://localhost:6379/0 \
    CRUDDUR_VAR_DIR=/app/var \
    /venv/bin/python manage.py collectstatic --noinput

# --- runtime: the venv, the code and the static files; no pip cache, no build tools ------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_DEBUG=0 \
    CRUDDUR_VAR_DIR=/app/var \
    HOST=0.0.0.0 \
    PORT=8000
RUN groupadd --system --gid 10001 cruddur \
    && useradd --system --uid 10001 --gid cruddur --no-create-home --shell /usr/sbin/nologin cruddur
COPY --from=build /venv /venv
COPY --from=build --chown=root:root /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# ECS uses the task definition's health check (the same command); this one is for
# `docker run`. Liveness only: a dependency outage must not get the container killed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "manage.py", "probe", "healthz"]
# Exec form: gunicorn is PID 1 and receives SIGTERM itself (drains, then exits 0).
CMD ["gunicorn", "cruddur.asgi:application", "--config", "deploy/gunicorn.conf.py"]
