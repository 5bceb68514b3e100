#!/usr/bin/env bash
# Builds drctl's prebuilt JavaScript (dist/, what bin/drctl runs) when it is missing or older than any source file
# or the build config. Quiet when it is up to date. Run by scripts/setup.sh and by the integration tests' setup.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sources=(auth common kinds providers activities cli evidence reports runbooks sandbox security worker workflows evacuations)
existing=()
for dir in "${sources[@]}"; do [[ -d "$dir" ]] && existing+=("$dir"); done
if [[ ! -f dist/cli/main.js ]] || [[ tsconfig.build.json -nt dist/cli/main.js ]] || [[ tsconfig.json -nt dist/cli/main.js ]] ||
  [[ -n "$(find "${existing[@]}" -name '*.ts' -newer dist/cli/main.js -print -quit)" ]]; then
  printf 'setup: %s\n' "building drctl (npm run build: TypeScript to dist/)"
  npx tsc -p tsconfig.build.json
  touch dist/cli/main.js
fi
