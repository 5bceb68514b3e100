#!/usr/bin/env bash
# Sets everything up on a fresh machine, starts the local stack, and runs a full failover of `ehr-db` through
# the real CLI and a real worker: pre-flight, degraded-mode flags, backup verification, fence, promotion of
# the streaming replica, Route 53 switch, and a write probe through the switched name. Prints the timeline.
# Then a DR drill of the same runbook measures the achieved RTO and RPO and writes an HTML report.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
# shellcheck source=scripts/use-node.sh
source scripts/use-node.sh
echo "== starting the local stack"
npx tsx sandbox/cli.ts up
echo "== restoring the seeded estate (replica streaming, DNS on the primary, flags off)"
npx tsx sandbox/cli.ts reset
# shellcheck disable=SC1091
source .sandbox/env

echo "== starting a drctl worker (log: .sandbox/logs/demo-worker.log)"
./bin/drctl worker >.sandbox/logs/demo-worker.log 2>&1 &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q "drctl worker polling" .sandbox/logs/demo-worker.log && break
  if ! kill -0 "$worker" 2>/dev/null; then cat .sandbox/logs/demo-worker.log; exit 1; fi
  sleep 0.2
done

echo "== the plan (nothing changed yet)"
./bin/drctl plan ehr-db
echo "== drctl failover ehr-db"
./bin/drctl failover ehr-db --reason "demo drill on the local stack" --yes --follow

echo "== restoring the seeded estate for a drill"
npx tsx sandbox/cli.ts reset
echo "== drctl drill run ehr-db: canary writes, injected failure (primary fenced), the same failover, measured RTO/RPO"
./bin/drctl drill run ehr-db --reason "demo drill on the local stack" --follow
drill_id="$(./bin/drctl drill history ehr-db --output json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].drillId))')"
echo "== every operator action of the drill is signed (as alice, the sandbox's demo operator): re-verify them"
./bin/drctl verify-run "$drill_id" --policy .sandbox/access-policy.json
mkdir -p reports-out
./bin/drctl report "$drill_id" --format html --out "reports-out/$drill_id.html"
./bin/drctl report "$drill_id" --format md --out "reports-out/$drill_id.md"
echo
echo "HTML report: reports-out/$drill_id.html   Markdown: reports-out/$drill_id.md"
echo "The replica at 127.0.0.3 is now the primary and ehr-db.sandbox.drctl.internal. points at it."
echo "Run it again after: npx tsx sandbox/cli.ts reset     Stop the stack: npx tsx sandbox/cli.ts down"
