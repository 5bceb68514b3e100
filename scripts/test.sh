#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs every test: type-check, the build of dist/ (what bin/drctl
# runs), unit tests, then the integration
# tests against the real local stack (Temporal dev server, moto, PostgreSQL primary + streaming replica,
# Unleash), which the integration global setup starts. The stack is left running; `npm run sandbox -- down`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
# shellcheck source=scripts/use-node.sh
source scripts/use-node.sh
echo "== type-check"
npx tsc -p tsconfig.json --noEmit
echo "== build (the prebuilt JavaScript bin/drctl runs)"
npm run build --silent
echo "== unit tests"
npx jest --selectProjects unit
echo "== integration tests (real local servers)"
# --forceExit: a handle a failed test leaves open (a worker, a socket) must not hold CI until its time limit.
npx jest --selectProjects integration --runInBand --forceExit
