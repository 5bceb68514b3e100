#!/usr/bin/env bash
# Runs a command with this checkout's Node first on PATH (see use-node.sh). The `npm run` scripts start here,
# so they run on the Node setup.sh chose even when npm itself was started by the machine's older Node.
set -euo pipefail
# shellcheck source=scripts/use-node.sh
source "$(dirname "${BASH_SOURCE[0]}")/use-node.sh"
exec "$@"
