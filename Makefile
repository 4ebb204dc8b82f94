# metrics-ai: `make run` (train the demo profile and serve it) and `make test` (the whole suite).
# Both set themselves up from nothing: a venv in .venv with the pinned versions of constraints.txt.
# `make test` runs `make lint` (ruff over the tree, mypy) before the suite, so CI runs both.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
MODELS ?= ./models
PORT   ?= 8080

.PHONY: setup test test-deps image-deps images run train serve lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) ## create .venv and install the project with the serve, train and dev extras

test-deps: ## system packages the tests use (Debian's prometheus + promtool, prometheus-alertmanager)
	bash scripts/install-test-deps.sh

test: setup test-deps lint ## lint and type-check, then run the whole suite (real KServe server, real Prometheus, real Helm engine)
	$(PY) -m pytest -q

image-deps: ## what `make images` needs outside Python: podman and debootstrap (Debian packages)
	bash scripts/install-image-deps.sh

images: setup image-deps ## as root: build Dockerfile.serve and Dockerfile.train with podman and run them as OpenShift would (tests/images)
	$(PY) -m pytest -q -m images tests/images

train: setup ## train the demo profile on synthetic data into ./models
	$(PY) -m training run --source synthetic --profile demo --out $(MODELS)

serve: setup ## serve ./models on :8080 (REST) and :8081 (gRPC)
	$(PY) -m serving --model-dir $(MODELS) --http-port $(PORT) --grpc-port $$(( $(PORT) + 1 ))

run: train ## train the demo profile, serve it on :8080 and print example calls
	bash scripts/run-demo.sh $(PY) $(MODELS) $(PORT)

bench: setup ## the benchmarks docs/BENCHMARKS.md quotes (needs wrk: apt-get install -y wrk)
	$(PY) -m bench.serving
	$(PY) -m bench.training
	$(PY) -m bench.accuracy

lint: setup ## ruff over the whole tree; mypy (strict on metrics_ai and serving, see pyproject.toml)
	$(PY) -m ruff check .
	$(PY) -m mypy

clean:
	rm -rf $(VENV) $(MODELS) .pytest_cache .hypothesis .mypy_cache .ruff_cache
