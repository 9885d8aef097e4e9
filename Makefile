# The two commands of the README's quick start:
#   make run    set everything up and launch the station on its embedded default (16 simulated beds)
#   make test   set everything up and run the checks and tests (what CI runs)
.PHONY: run test setup setup-test lint screenshot

run: setup
	.venv/bin/wardwatch

test: setup-test lint
	QT_QPA_PLATFORM=offscreen packaging/with-keyring.sh .venv/bin/python -m pytest

setup:
	packaging/setup.sh run

setup-test:
	packaging/setup.sh test

lint:
	.venv/bin/ruff check .
	.venv/bin/lint-imports

# A screenshot of 16 beds from a real window under Xvfb (docs/central-16.png).
screenshot: setup-test
	packaging/screenshot.sh docs/central-16.png
