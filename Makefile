# Jinlin: the two commands are `make run` and `make test` (see README.md).
UV ?= $(shell command -v uv 2>/dev/null || echo .venv-tools/bin/uv)
# uv's own link mode: the environment's files are hardlinks into its cache (copies where the cache
# is on another filesystem). On this machine busy with other work (load average 10 - 18), a fresh
# clone's sync took 20 - 35 s copying them (UV_LINK_MODE=copy), against 2.5 - 6.5 s linked.
export UV_PYTHON_DOWNLOADS ?= never
# pytest-xdist workers for `make test` (each has its own embedded PostgreSQL and live server).
TEST_WORKERS ?= 2

.PHONY: run test setup messages check lint types scaleout scaleout-short

$(UV):
	python3 -m venv .venv-tools && .venv-tools/bin/pip install -q 'uv==0.13.9'

setup: $(UV)
	$(UV) sync --frozen

# Sets everything up, seeds the demo district and serves it on http://127.0.0.1:8000
run: setup
	$(UV) run --frozen jinlin demo
	$(UV) run --frozen jinlin serve --host 127.0.0.1 --port 8000

# Everything CI checks: format, lint, types, import layers, translations, tests (browser tests included)
test: setup
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen ruff check .
	$(UV) run --frozen mypy
	$(UV) run --frozen lint-imports
	$(UV) run --frozen pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Re-extract messages and merge them into the zh_Hans catalog (translate the new entries after)
messages: setup
	$(UV) run --frozen pybabel extract -F babel.cfg -k lazy -k _l -o var/messages.pot .
	$(UV) run --frozen pybabel update -i var/messages.pot -d app/locales -l zh_Hans --no-fuzzy-matching

# The scale-out rig (docs/scaling.md): two app hosts behind nginx on a Patroni cluster, in network
# namespaces, under load while an app host and the primary are killed. Needs root; installs
# Debian's patroni, etcd-server, nginx and haproxy when missing; leaves nothing behind.
scaleout: setup
	deploy/scaleout/run.sh

# The same, shorter (CI)
scaleout-short: setup
	deploy/scaleout/run.sh --short
