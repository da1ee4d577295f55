#!/usr/bin/env bash
# Installs everything `make test` and `make demo` need that is not already there, and nothing
# else. Safe to run again and again: when the machine is ready it prints one line.
#
# Assumes a Debian 12 machine with rustup, cargo, node and npm. Installs:
#   - the wasm32-unknown-unknown Rust target (rustup)
#   - wasm-bindgen-cli at exactly the version Cargo.toml pins wasm-bindgen to (the CLI and the
#     library must match, or generated glue and runtime disagree)
#   - wasm-pack and geckodriver (cargo install, from crates.io)
#   - chromium, chromium-driver, firefox-esr, binaryen (apt; wasm-pack uses the chromedriver,
#     geckodriver and wasm-bindgen it finds on PATH instead of downloading its own), plus curl
#     and gcc when missing (health checks; C parts of the cargo installs)
#   - postgresql (apt): the server's suite also runs on a throwaway PostgreSQL cluster
#   - npm dependencies of every package.json directory we know of (pkg/, www/, tests/e2e/)
#   - schemathesis (the `st` command of `make fuzz-server`) from PyPI into a virtualenv,
#     $SCHEMATHESIS_VENV (default ~/.cache/sync-core/schemathesis), shared by every checkout
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

START=$(date +%s)
INSTALLED=()

log() { printf '[deps] %s\n' "$*"; }
die() { printf '[deps] error: %s\n' "$*" >&2; exit 1; }

# Runs "$@", recording how long it took under the label $1 of INSTALLED.
timed_install() {
  local label=$1
  shift
  local t0
  t0=$(date +%s)
  log "installing $label ..."
  "$@"
  INSTALLED+=("$label ($(($(date +%s) - t0)) s)")
}

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"
command -v rustup >/dev/null || die "rustup not found: install Rust with rustup first"

# --- Debian packages ----------------------------------------------------------------------
# First, because `cargo install` below needs a C compiler (ring, zstd-sys).
# package -> a file it provides, so a hand-installed browser elsewhere does not fool us.
declare -A APT_PROBE=(
  [chromium]=/usr/bin/chromium
  [chromium-driver]=/usr/bin/chromedriver
  [firefox-esr]=/usr/bin/firefox-esr
  [binaryen]=/usr/bin/wasm-opt
  [curl]=/usr/bin/curl
  [gcc]=/usr/bin/cc
)
MISSING_APT=()
for pkg in chromium chromium-driver firefox-esr binaryen curl gcc; do
  [ -x "${APT_PROBE[$pkg]}" ] || MISSING_APT+=("$pkg")
done
# Its binaries live under the major version: /usr/lib/postgresql/<version>/bin.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || MISSING_APT+=(postgresql)
if [ ${#MISSING_APT[@]} -gt 0 ]; then
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root (or sudo) to apt-get install ${MISSING_APT[*]}"
    SUDO=(sudo)
  fi
  apt_install() {
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${MISSING_APT[@]}" >/dev/null
  }
  timed_install "apt: ${MISSING_APT[*]}" apt_install
fi

# --- Rust target ------------------------------------------------------------------------
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  timed_install "rust target wasm32-unknown-unknown" \
    rustup target add wasm32-unknown-unknown
fi

# --- wasm-bindgen-cli at the pinned version -----------------------------------------------
# The pin looks like: wasm-bindgen = "=0.2.130" (or a table with version = "=…").
WBG_VERSION=$(sed -nE 's/^[[:space:]]*wasm-bindgen[[:space:]]*=[[:space:]]*("|\{[^}]*version[[:space:]]*=[[:space:]]*")=?([0-9]+\.[0-9]+\.[0-9]+)".*/\2/p' Cargo.toml | head -n1)
[ -n "$WBG_VERSION" ] || die "could not read the wasm-bindgen pin from Cargo.toml"
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WBG_VERSION" ]; then
  # No --locked: the CLI's lockfile pins a dependency version that is no longer resolvable.
  timed_install "wasm-bindgen-cli $WBG_VERSION" \
    cargo install --quiet wasm-bindgen-cli --version "$WBG_VERSION" --force
fi

# --- wasm-pack, geckodriver ---------------------------------------------------------------
for tool in wasm-pack geckodriver; do
  if ! command -v "$tool" >/dev/null; then
    timed_install "$tool" cargo install --quiet "$tool"
  fi
done

# --- npm dependencies ---------------------------------------------------------------------
# After a successful install we leave a stamp in node_modules; while it is newer than
# package.json and package-lock.json there is nothing to do.
npm_in() {
  local dir=$1
  shift
  (cd "$dir" && npm "$@" --no-audit --no-fund --loglevel=error) &&
    mkdir -p "$dir/node_modules" && touch "$dir/node_modules/.install-deps-stamp"
}
for dir in pkg www tests/e2e; do
  [ -f "$dir/package.json" ] || continue
  stamp="$dir/node_modules/.install-deps-stamp"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$dir/package.json" ] &&
    { [ ! -f "$dir/package-lock.json" ] || [ "$stamp" -nt "$dir/package-lock.json" ]; }; then
    continue
  fi
  if [ -f "$dir/package-lock.json" ]; then
    timed_install "npm ci in $dir" npm_in "$dir" ci
  else
    timed_install "npm install in $dir" npm_in "$dir" install
  fi
done

# --- schemathesis ------------------------------------------------------------------------
# A virtualenv of its own: Debian's python refuses `pip install` into the system site
# (PEP 668), and a venv keeps its dependencies away from everything else.
ST_VENV=${SCHEMATHESIS_VENV:-$HOME/.cache/sync-core/schemathesis}
if [ ! -x "$ST_VENV/bin/st" ]; then
  command -v python3 >/dev/null || die "python3 not found (needed for schemathesis)"
  st_install() {
    python3 -m venv "$ST_VENV" && "$ST_VENV/bin/pip" install --quiet --disable-pip-version-check schemathesis
  }
  timed_install "schemathesis (venv $ST_VENV)" st_install
fi

ELAPSED=$(($(date +%s) - START))
if [ ${#INSTALLED[@]} -eq 0 ]; then
  log "all dependencies present (${ELAPSED} s)"
else
  log "installed:"
  for item in "${INSTALLED[@]}"; do log "  - $item"; done
  log "done in ${ELAPSED} s"
fi
