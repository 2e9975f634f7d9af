# Shortcuts for config/dev.py (which needs nothing but Python 3.11+).
.PHONY: run test lint ci

run:
	python3 config/dev.py run

test:
	python3 config/dev.py test

lint:
	python3 config/dev.py setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy .
	.venv/bin/python .ci/duplicate_code.py

ci:
	bash .ci/run
