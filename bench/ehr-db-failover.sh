#!/usr/bin/env bash
# The ehr-db failover as an on-call engineer would script it with psql, curl and the AWS CLI: the calls drctl's
# runbook makes, in the same order and with the same parallel group, without a workflow engine. `npm run bench`
# times it against `drctl failover ehr-db --follow`, interleaved, on a freshly reset local stack each time.
#
# Every endpoint and credential comes from the environment (bench/run.ts sets them from .sandbox/stack.json):
#   PG_PRIMARY_URL PG_REPLICA_URL        postgres:// URLs of drctl's connection role on each member
#   PG_APP_USER PG_APP_PASSWORD PG_PORT PG_DATABASE   the application role the probe connects as
#   AWS_ENDPOINT_URL AWS_DEFAULT_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY   the sandbox's AWS layer
#   ZONE_ID RECORD_NAME NEW_ADDRESS      the Route 53 zone, the record to move and the promoted member's address
#   BACKUP_BUCKET BACKUP_PREFIX          the Object Lock bucket holding the nightly base backups
#   UNLEASH_URL UNLEASH_ADMIN_TOKEN UNLEASH_CLIENT_TOKEN   Unleash and its tokens (project default, env development)
#   AWS_CLI                              the aws command (the sandbox venv's)
set -euo pipefail

aws_cli() { "$AWS_CLI" --endpoint-url "$AWS_ENDPOINT_URL" --output text "$@"; }
psql_at() { psql "$1" -X -q -t -A -v ON_ERROR_STOP=1 -c "$2"; }
fail() {
  echo "ehr-db-failover.sh: $*" >&2
  exit 1
}

flags=(ehr-degraded-mode ehr-read-only-banner)
project=default
environment=development

# --- pre-flight: every target answers and is in the state the runbook expects (read-only, in parallel).
preflight_dir=$(mktemp -d)
trap 'rm -rf "$preflight_dir"' EXIT
psql_at "$PG_REPLICA_URL" "select pg_is_in_recovery()" >"$preflight_dir/replica" &
psql_at "$PG_PRIMARY_URL" "select pg_current_wal_lsn()" >"$preflight_dir/primary" &
aws_cli route53 list-resource-record-sets --hosted-zone-id "$ZONE_ID" \
  --query "ResourceRecordSets[?Name=='$RECORD_NAME'].Type" >"$preflight_dir/record" &
aws_cli s3api list-objects-v2 --bucket "$BACKUP_BUCKET" --prefix "$BACKUP_PREFIX" \
  --query 'Contents[].Key' >"$preflight_dir/backups" &
for flag in "${flags[@]}"; do
  curl -sf -H "Authorization: $UNLEASH_ADMIN_TOKEN" \
    "$UNLEASH_URL/api/admin/projects/$project/features/$flag" >"$preflight_dir/flag-$flag" &
done
wait
[[ "$(cat "$preflight_dir/replica")" == t ]] || fail "the replica is not a standby"
[[ -s "$preflight_dir/primary" ]] || fail "the primary did not answer"
[[ "$(cat "$preflight_dir/record")" == A ]] || fail "$RECORD_NAME is not an A record in $ZONE_ID"
[[ -s "$preflight_dir/backups" ]] || fail "no backups under s3://$BACKUP_BUCKET/$BACKUP_PREFIX"

# --- degraded mode on (Admin API), confirmed when a client sees it; meanwhile, check the newest backup's lock.
degrade() {
  for flag in "${flags[@]}"; do
    curl -sf -X POST -H "Authorization: $UNLEASH_ADMIN_TOKEN" \
      "$UNLEASH_URL/api/admin/projects/$project/features/$flag/environments/$environment/on" >/dev/null
  done
  local prefix=ehr-
  until [[ "$(curl -sf -H "Authorization: $UNLEASH_CLIENT_TOKEN" \
    "$UNLEASH_URL/api/client/features?namePrefix=$prefix" |
    grep -o '"name":"ehr-[a-z-]*","type":"[a-z-]*","enabled":true' | wc -l)" -ge "${#flags[@]}" ]]; do
    sleep 0.05
  done
}
verify_backups() {
  local newest
  newest=$(aws_cli s3api list-objects-v2 --bucket "$BACKUP_BUCKET" --prefix "$BACKUP_PREFIX" \
    --query 'sort_by(Contents, &LastModified)[-1].Key')
  [[ "$(aws_cli s3api head-object --bucket "$BACKUP_BUCKET" --key "$newest" \
    --query ObjectLockMode)" == COMPLIANCE ]] || fail "$newest is not under a COMPLIANCE lock"
}
degrade &
degrade_pid=$!
verify_backups &
backups_pid=$!
wait "$degrade_pid" || fail "degraded mode was not confirmed"
wait "$backups_pid" || fail "the backups check failed"

# --- fence the old primary: the application role cannot log in or write, its sessions end.
psql_at "$PG_PRIMARY_URL" "alter role $PG_APP_USER nologin" >/dev/null
psql_at "$PG_PRIMARY_URL" "alter system set default_transaction_read_only = on" >/dev/null
psql_at "$PG_PRIMARY_URL" "select pg_reload_conf()" >/dev/null
psql_at "$PG_PRIMARY_URL" \
  "select count(pg_terminate_backend(pid, 5000)) from pg_stat_activity where usename = '$PG_APP_USER'" >/dev/null

# --- promote the replica once it has replayed everything the fenced primary flushed.
target=$(psql_at "$PG_PRIMARY_URL" "select pg_current_wal_flush_lsn()")
until [[ "$(psql_at "$PG_REPLICA_URL" "select pg_last_wal_replay_lsn() >= '$target'::pg_lsn")" == t ]]; do
  sleep 0.1
done
[[ "$(psql_at "$PG_REPLICA_URL" "select pg_promote(false)")" == t ]] || fail "the promotion was not signalled"
promote_deadline=$((SECONDS + 60))
until [[ "$(psql_at "$PG_REPLICA_URL" "select pg_is_in_recovery()")" == f ]]; do
  ((SECONDS < promote_deadline)) || fail "the replica did not leave recovery within 60 s"
  sleep 0.01
done
# The fence's NOLOGIN is a catalog write: it replicated, so the application must be let in on the new primary.
psql_at "$PG_REPLICA_URL" "alter role $PG_APP_USER login" >/dev/null

# --- move the DNS record to the new primary and wait until the change is in sync.
change=$(aws_cli route53 change-resource-record-sets --hosted-zone-id "$ZONE_ID" --query ChangeInfo.Id \
  --change-batch "{\"Changes\":[{\"Action\":\"UPSERT\",\"ResourceRecordSet\":{\"Name\":\"$RECORD_NAME\",\"Type\":\"A\",\"TTL\":30,\"ResourceRecords\":[{\"Value\":\"$NEW_ADDRESS\"}]}}]}")
until [[ "$(aws_cli route53 get-change --id "$change" --query ChangeInfo.Status)" == INSYNC ]]; do
  sleep 1
done

# --- probe: follow the record as a client would and write as the application.
address=$(aws_cli route53 list-resource-record-sets --hosted-zone-id "$ZONE_ID" \
  --query "ResourceRecordSets[?Name=='$RECORD_NAME'].ResourceRecords[0].Value")
[[ "$address" == "$NEW_ADDRESS" ]] || fail "$RECORD_NAME points at $address, not $NEW_ADDRESS"
PGPASSWORD="$PG_APP_PASSWORD" psql_at \
  "host=$address port=$PG_PORT dbname=$PG_DATABASE user=$PG_APP_USER" \
  "insert into drctl_probe (run_id) values ('bash-bench') returning id" >/dev/null
echo "ehr-db failed over to $address"
