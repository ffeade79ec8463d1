#!/usr/bin/env bash
# Install FaceCoach with its test tools, then lint and run the whole test suite.
# This is the README's test command; CI runs it on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
"$PY" -m ruff check .
"$PY" -m ruff format --check .
"$PY" -m pytest "$@"
