#!/usr/bin/env bash
# Serve the trained demo models, wait until every model is ready, print (and make) example calls.
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
PYTHONPATH="$(cd "$(dirname "$0")/.." && pwd)" "$PY" "$(dirname "$0")/examples.py" --url "$URL" --models "$MODELS"
echo
echo "Serving on $URL (gRPC on :$((PORT + 1))). Ctrl-C to stop."
wait "$SERVER"
