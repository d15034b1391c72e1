#!/usr/bin/env bash
# `make dev`: DynamoDB Local (persistent, under var/), migrations, the table, demo data,
# and Django on http://127.0.0.1:8000. Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var/log

export AWS_ENDPOINT_URL_DYNAMODB="${AWS_ENDPOINT_URL_DYNAMODB:-http://127.0.0.1:${DYNAMODB_PORT}}"
export AWS_ENDPOINT_URL_DYNAMODBSTREAMS="${AWS_ENDPOINT_URL_DYNAMODBSTREAMS:-$AWS_ENDPOINT_URL_DYNAMODB}"
DEMO_PASSWORD="${CRUDDUR_DEMO_PASSWORD:-cruddur-demo}"
# As in production: requests write messages, the stream worker moves the inboxes.
export MESSAGING_FANOUT="${MESSAGING_FANOUT:-stream}"

if [ ! -f .env ]; then
  cat > .env <<ENV
# Written by \`make dev\` (git-ignored): manage.py reads it, so every terminal reaches the
# local engines. Delete it to point manage.py at real AWS.
AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB
AWS_ENDPOINT_URL_DYNAMODBSTREAMS=$AWS_ENDPOINT_URL_DYNAMODBSTREAMS
AWS_ACCESS_KEY_ID=local
AWS_SECRET_ACCESS_KEY=local
AWS_DEFAULT_REGION=us-east-1
MESSAGING_FANOUT=$MESSAGING_FANOUT
ENV
  echo "wrote .env: manage.py in any terminal now talks to the local engines"
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped."
}
trap cleanup INT TERM EXIT

if $PY -m devtools.dynamodb_local --check-port "$DYNAMODB_PORT" 2>/dev/null; then
  echo "DynamoDB already answering on 127.0.0.1:$DYNAMODB_PORT; using it."
else
  setsid $PY -m devtools.dynamodb_local --port "$DYNAMODB_PORT" --db-path var/dynamodb \
    >var/log/dynamodb.log 2>&1 &
  pids+=($!)
  $PY -m devtools.dynamodb_local --wait "$DYNAMODB_PORT"
  head -n1 var/log/dynamodb.log
fi

$PY manage.py migrate --no-input
$PY manage.py ddb_schema_load
$PY manage.py ddb_seed --password "$DEMO_PASSWORD"
echo
echo "  Cruddur is starting on http://127.0.0.1:8000"
echo "  Demo logins (dev only): andrewbrown, bayko, londo - password: $DEMO_PASSWORD"
echo
setsid $PY manage.py ddb_stream &
pids+=($!)
setsid $PY manage.py runserver 127.0.0.1:8000 &
pids+=($!)
wait -n "${pids[@]}"
