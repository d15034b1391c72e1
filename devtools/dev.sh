#!/usr/bin/env bash
# `make dev`: DynamoDB Local (persistent, under var/), a local Redis (when REDIS_URL is
# unset), migrations, the table, demo data, the stream worker, and Django through the ASGI
# server on http://127.0.0.1:$DEV_PORT. Ctrl-C or SIGTERM stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var/log

DEV_PORT="${DEV_PORT:-8000}"
DYNAMODB_PORT="${DYNAMODB_PORT:-8001}"
DEV_REDIS_PORT="${DEV_REDIS_PORT:-6380}"
# Seconds each started process gets to exit on SIGTERM before it is killed.
STOP_GRACE_SECONDS=10

export AWS_ENDPOINT_URL_DYNAMODB="${AWS_ENDPOINT_URL_DYNAMODB:-http://127.0.0.1:${DYNAMODB_PORT}}"
export AWS_ENDPOINT_URL_DYNAMODBSTREAMS="${AWS_ENDPOINT_URL_DYNAMODBSTREAMS:-$AWS_ENDPOINT_URL_DYNAMODB}"
DEMO_PASSWORD="${CRUDDUR_DEMO_PASSWORD:-cruddur-demo}"
# As in production: requests write messages, the stream worker moves the inboxes.
export MESSAGING_FANOUT="${MESSAGING_FANOUT:-stream}"

# Every process is started with setsid, so it leads a process group of its own (with
# whatever it spawns: the JVM, uvicorn's reloader and worker). `jobs -p` knows each one
# from the moment it is forked, so a signal arriving mid-start still finds them all.
stop_all() {
  # Ignored, not reset: a second Ctrl-C or a process manager repeating its SIGTERM would
  # otherwise end this script half-way through the stop, leaving the rest running.
  trap '' INT TERM HUP
  trap - EXIT
  local groups
  groups=$(jobs -p)
  [ -n "$groups" ] || return 0
  for pgid in $groups; do kill -TERM -- "-$pgid" 2>/dev/null || true; done
  local deadline=$((SECONDS + STOP_GRACE_SECONDS))
  for pgid in $groups; do
    while kill -0 -- "-$pgid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -KILL -- "-$pgid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  echo "stopped."
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM HUP
trap stop_all EXIT

wait_until() {
  # wait_until <seconds> <what> <command...>: bounded, so a dead engine cannot hang start.
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$what did not answer within ${limit}s - see var/log/" >&2
      exit 1
    fi
    sleep 0.2
  done
}

if [ -z "${REDIS_URL:-}" ]; then
  if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing redis-server (Debian) for the local cache"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        redis-server >/dev/null
    else
      echo "redis-server is not installed: sudo apt-get install redis-server, or set REDIS_URL" >&2
      exit 1
    fi
  fi
  export REDIS_URL="redis://127.0.0.1:${DEV_REDIS_PORT}/0"
  mkdir -p var/redis
  # A cache only: nothing is saved to disk.
  setsid redis-server --bind 127.0.0.1 --port "$DEV_REDIS_PORT" --dir var/redis \
    --save "" --appendonly no >var/log/redis.log 2>&1 &
  wait_until 20 "Redis on 127.0.0.1:$DEV_REDIS_PORT" \
    $PY -c "import redis; redis.Redis.from_url('$REDIS_URL', socket_timeout=1).ping()"
  echo "Redis on $REDIS_URL"
fi

# Rewritten on every start so it always names the ports in use.
cat > .env <<ENV
# Written by \`make dev\` (git-ignored): manage.py reads it, so every terminal reaches the
# local engines. Delete it to point manage.py at real AWS.
AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB
AWS_ENDPOINT_URL_DYNAMODBSTREAMS=$AWS_ENDPOINT_URL_DYNAMODBSTREAMS
AWS_ACCESS_KEY_ID=local
AWS_SECRET_ACCESS_KEY=local
AWS_DEFAULT_REGION=us-east-1
MESSAGING_FANOUT=$MESSAGING_FANOUT
REDIS_URL=$REDIS_URL
ENV

if $PY -m devtools.dynamodb_local --check-port "$DYNAMODB_PORT" 2>/dev/null; then
  echo "DynamoDB already answering on 127.0.0.1:$DYNAMODB_PORT; using it."
else
  setsid $PY -m devtools.dynamodb_local --port "$DYNAMODB_PORT" --db-path var/dynamodb \
    >var/log/dynamodb.log 2>&1 &
  $PY -m devtools.dynamodb_local --wait "$DYNAMODB_PORT"
  head -n1 var/log/dynamodb.log
fi

$PY manage.py migrate --no-input
$PY manage.py ddb_schema_load
$PY manage.py ddb_seed --password "$DEMO_PASSWORD"
echo
echo "  Cruddur is starting on http://127.0.0.1:$DEV_PORT"
echo "  Demo logins (dev only): andrewbrown, bayko, londo - password: $DEMO_PASSWORD"
echo
setsid $PY manage.py ddb_stream &
setsid $PY -m uvicorn cruddur.asgi:application --host 127.0.0.1 --port "$DEV_PORT" \
  --reload --reload-dir cruddur --reload-dir accounts --reload-dir messaging \
  --reload-dir templates &
# Whichever stops first (a crash, a port in use) stops the rest.
wait -n
