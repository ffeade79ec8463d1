#!/usr/bin/env bash
# Install FaceCoach and start the app (http://localhost:8501). No camera needed for the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
"$PY" -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec "$PY" -m streamlit run ui/app.py "$@"
