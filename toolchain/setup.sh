#!/usr/bin/env bash
# Sets RAMP up on a fresh Debian 12 machine, as root: host packages from the pinned
# manifest, a Docker engine if none answers, a virtualenv with RAMP in it (.venv), and the
# sandbox root file systems and images. Safe to run again: everything present is reused.
#
#   bash toolchain/setup.sh            # everything
#   RAMP_VENV=/opt/ramp bash toolchain/setup.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${RAMP_VENV:-$here/.venv}
say() { printf '\033[1m[ramp setup]\033[0m %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  say "run me as root (sudo bash toolchain/setup.sh): apt, dockerd and debootstrap need it"
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive

python=${RAMP_PYTHON:-python3}
if ! command -v "$python" >/dev/null || ! "$python" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  say "installing Python 3 with venv from Debian"
  apt-get update -q
  apt-get install -y -q --no-install-recommends python3 python3-venv python3-pip
  python=/usr/bin/python3
fi

if [ ! -x "$venv/bin/python" ]; then
  say "creating the virtualenv $venv"
  "$python" -m venv "$venv"
fi
say "installing RAMP into $venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e "$here[dev]"

say "installing the host packages of toolchain/manifest.toml"
"$venv/bin/ramp" toolchain install

bash "$here/toolchain/dockerd.sh" start

# From npm, into .node (pinned; optional, skipped where npm is missing): the MCP Inspector
# checks the server the way third-party clients see it, and the Claude Code and Codex CLIs
# are the agents `ramp run --agent` launches (their tests use them against local scripted
# model endpoints). One npm call installs all three: a later call with one package
# would drop the others from .node.
node_packages=(
  "@modelcontextprotocol/inspector@2.12.0"
  "@anthropic-ai/claude-code@2.1.332"
  "@openai/codex@0.169.0"
)
if ! command -v node >/dev/null 2>&1 && ! command -v npm >/dev/null 2>&1; then
  # A machine without Node.js gets Debian's (a Node from elsewhere is left alone).
  say "installing Node.js and npm from Debian"
  apt-get install -y -q --no-install-recommends nodejs npm >/dev/null \
    || say "nodejs/npm not installed (apt-get failed)"
fi
if command -v npm >/dev/null 2>&1; then
  missing=0
  for bin in mcp-inspector claude codex; do
    [ -x "$here/.node/node_modules/.bin/$bin" ] || missing=1
  done
  if [ "$missing" = 1 ]; then
    say "installing ${node_packages[*]} into .node"
    npm install --prefix "$here/.node" --no-audit --no-fund --loglevel=error \
      "${node_packages[@]}" >/dev/null || say "npm packages not installed (npm failed)"
  fi
else
  say "npm not found: the MCP Inspector, Claude Code and Codex tests will be skipped"
fi

say "building (or reusing) the sandbox root file systems and images"
"$venv/bin/ramp" toolchain image
say "done; check with: $venv/bin/ramp toolchain doctor"
