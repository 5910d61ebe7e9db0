#!/usr/bin/env bash
# Set up discourse in ./.venv on a fresh machine (CPU only, no model hub needed).
# torch is pinned and installed first: the CPU wheel; anything else pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
"$VENV/bin/python" -m pip install -q ".[dev]"
"$VENV/bin/discourse" models   # verifies every shipped model file's sha256
echo "discourse is ready: $VENV/bin/discourse --help"
