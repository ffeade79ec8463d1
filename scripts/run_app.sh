#!/usr/bin/env bash
# Install FaceCoach and start the app (http://localhost:8501). No camera needed for the demo.
#
# Only this computer can open it unless FACECOACH_ADDRESS says otherwise (e.g. 0.0.0.0 on a
# clinic's server, behind a reverse proxy with HTTPS: docs/clinic-it.md). Before the app
# starts, `python -m coach preflight` checks the settings and the database, and prints the
# one-time setup code while there is no administrator yet.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" -m pip install --quiet --disable-pip-version-check -r requirements.txt
"$PY" -m coach preflight
exec "$PY" -m streamlit run ui/app.py --server.address "${FACECOACH_ADDRESS:-127.0.0.1}" "$@"
