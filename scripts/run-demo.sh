#!/usr/bin/env bash
# Serve the trained demo models, wait until every model is ready, print (and make) example calls,
# then run the alerting client once against a local Prometheus filled with the demo cluster.
set -euo pipefail
PY=${1:-.venv/bin/python}; MODELS=${2:-./models}; PORT=${3:-8080}
URL="http://localhost:${PORT}"
"$PY" -m serving --model-dir "$MODELS" --http-port "$PORT" --grpc-port $((PORT + 1)) &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 120); do
  curl -sf "$URL/" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { echo "predictor exited" >&2; exit 1; }
  sleep 0.5
done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHONPATH="$ROOT" "$PY" "$(dirname "$0")/examples.py" --url "$URL" --models "$MODELS"
echo
echo "== From predictions to alerts: python -m alerting against a local Prometheus =="
PYTHONPATH="$ROOT" "$PY" "$(dirname "$0")/alerting_demo.py" --url "$URL" \
  || echo "the alerting pass did not succeed (see above); the predictor keeps serving" >&2
echo
echo "Serving on $URL (gRPC on :$((PORT + 1))). Every model's fields and more calls: docs/api.md. Ctrl-C to stop."
wait "$SERVER"
