#!/usr/bin/env bash
# Installs the pinned engine CLIs kai's real-engine tests run (claude, codex, opencode) into
# .tools/engines/<name>-<version>/ with `npm install --prefix`. They are test tools, not runtime
# dependencies of kai. Idempotent: an installed CLI that answers --version is left alone.
# Usage: scripts/ensure-engines.sh [claude|codex|opencode ...]   (all three by default)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="${KAI_TOOLS_DIR:-$ROOT/.tools}"
mkdir -p "$TOOLS"
TOOLS="$(cd "$TOOLS" && pwd -P)" # launchers hold the physical path: .tools may be a symlink
DEST="$TOOLS/engines"
NODE24="$TOOLS/node/bin"

CLAUDE_VERSION="${KAI_CLAUDE_VERSION:-2.1.332}"
CODEX_VERSION="${KAI_CODEX_VERSION:-0.171.0}"
OPENCODE_VERSION="${KAI_OPENCODE_VERSION:-1.18.33}"

# Claude Code declares Node >= 22: run it (and npm's own checks) with the Node 24 in .tools when
# the machine's node is older.
node_for_engines() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -ge 22 ]; then command -v node; elif [ -x "$NODE24/node" ]; then echo "$NODE24/node"; else
    echo "ensure-engines: Claude Code needs Node >= 22; the machine has $(node --version 2>/dev/null || echo none) and $NODE24/node is missing" >&2
    return 1
  fi
}

install_one() { # name package version bin
  local name="$1" pkg="$2" version="$3" bin="$4"
  local prefix="$DEST/$name-$version"
  local link="$DEST/bin/$name"
  mkdir -p "$DEST/bin"
  if [ ! -x "$prefix/node_modules/.bin/$bin" ]; then
    echo "ensure-engines: installing $pkg@$version into $prefix" >&2
    mkdir -p "$prefix"
    # --foreground-scripts: postinstall steps (native binary selection) must run; npm 11 may
    # otherwise skip or hide them. Optional dependencies carry the per-platform binaries.
    npm install --prefix "$prefix" --no-save --no-audit --no-fund --include=optional \
      --foreground-scripts "$pkg@$version" >&2
  fi
  # A launcher that runs the CLI with Node 24 first on PATH (the machine's node may be 20).
  local node
  node="$(node_for_engines)"
  cat >"$link" <<WRAP
#!/bin/sh
PATH="$(dirname "$node"):\$PATH"
export PATH
exec "$prefix/node_modules/.bin/$bin" "\$@"
WRAP
  chmod +x "$link"
  local got
  if ! got="$("$link" --version 2>&1)"; then
    echo "ensure-engines: $name installed but does not run: $got" >&2
    return 1
  fi
  echo "ensure-engines: $name $got ($link)" >&2
}

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(claude codex opencode)
status=0
for name in "${want[@]}"; do
  case "$name" in
    claude) install_one claude @anthropic-ai/claude-code "$CLAUDE_VERSION" claude || status=1 ;;
    codex) install_one codex @openai/codex "$CODEX_VERSION" codex || status=1 ;;
    opencode) install_one opencode opencode-ai "$OPENCODE_VERSION" opencode || status=1 ;;
    *) echo "ensure-engines: unknown engine $name (claude, codex, opencode)" >&2; status=2 ;;
  esac
done
exit $status
