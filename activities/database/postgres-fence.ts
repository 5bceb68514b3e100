import type { Client } from 'pg';
import { PermanentFailure, permanentFailure } from '../failures';
import type { FenceMarker, FenceRequest, FenceResult, FenceStatus, UnfenceResult } from './postgres-port';

/**
 * The PostgreSQL fence against an application, in SQL. A read-only default is advisory: any session may
 * `SET default_transaction_read_only = off` or `BEGIN READ WRITE`. What a client cannot undo is not being able to
 * log in: the application's roles lose LOGIN and their sessions are terminated. The read-only default stays as a
 * second layer for roles nobody listed.
 *
 * Each application role carries a marker (a per-role setting `drctl.fence`, stored in pg_db_role_setting) written
 * BEFORE anything changes, recording what the fence is about to change. A retry after a crash finds the marker and
 * reports the first attempt's changes; the undo restores exactly those. Roles and markers are shared catalogs:
 * they replicate to the standby, where `liftFence` gives the login back once it is promoted.
 *
 * Privileges: drctl's connection role needs to alter the application roles (superuser, or CREATEROLE for
 * non-superuser application roles), `ALTER SYSTEM` on default_transaction_read_only, and pg_signal_backend.
 */

const MARKER = 'drctl.fence';

/**
 * drctl's own session writes the catalog even on a server whose default is read-only (fenced, or being fenced),
 * and its commits wait for no standby: with synchronous replication each commit otherwise waits until a standby
 * named in synchronous_standby_names confirms it (PostgreSQL docs, "synchronous_commit"), and in an incident that
 * standby is often the replica being promoted, or gone. `local` still flushes to the primary's own WAL.
 */
async function writableSession(client: Client): Promise<void> {
  await client.query('set default_transaction_read_only = off');
  await client.query('set synchronous_commit = local');
}

export function encodeMarker(marker: FenceMarker): string {
  return [
    encodeURIComponent(marker.fenceId),
    `login=${marker.loginRevoked ? 'revoked' : 'kept'}`,
    `read_only=${marker.readOnlySet ? 'set' : 'kept'}`,
  ].join(';');
}

export function decodeMarker(value: string | null): FenceMarker | null {
  if (value === null) return null;
  const [id, login, readOnly] = value.split(';');
  if (id === undefined) return null;
  return {
    fenceId: decodeURIComponent(id),
    loginRevoked: login === 'login=revoked',
    readOnlySet: readOnly === 'read_only=set',
  };
}

export async function readFenceStatus(client: Client, roles: string[]): Promise<FenceStatus> {
  const rows = await client.query<{
    role: string;
    exists: boolean;
    can_login: boolean | null;
    sessions: number;
    marker: string | null;
  }>(
    `select want.name as role, r.oid is not null as exists, r.rolcanlogin as can_login,
            (select count(*)::int from pg_stat_activity a
              where a.usename = want.name and a.backend_type = 'client backend' and a.pid <> pg_backend_pid()) as sessions,
            (select substr(c, length($2) + 2) from pg_db_role_setting s, unnest(s.setconfig) as c
              where s.setrole = r.oid and s.setdatabase = 0 and c like $2 || '=%' limit 1) as marker
       from unnest($1::text[]) with ordinality as want(name, n)
       left join pg_roles r on r.rolname = want.name
      order by want.n`,
    [roles, MARKER],
  );
  // reset_val: the server's default for a new session, not this session's own SET.
  const setting = await client.query<{ setting: string }>(
    `select reset_val as setting from pg_settings where name = 'default_transaction_read_only'`,
  );
  return {
    roles: rows.rows.map((row) => ({
      role: row.role,
      exists: row.exists,
      canLogin: row.can_login === true,
      sessions: row.sessions,
      marker: decodeMarker(row.marker),
    })),
    defaultReadOnly: setting.rows[0]?.setting === 'on',
  };
}

export async function fenceServer(
  client: Client,
  request: FenceRequest,
  where: string,
): Promise<FenceResult> {
  const { applicationRoles: roles, fenceId } = request;
  await writableSession(client);
  const before = await readFenceStatus(client, roles);
  const missing = before.roles.filter((r) => !r.exists).map((r) => r.role);
  if (missing.length > 0) {
    throw permanentFailure(
      PermanentFailure.ConfigurationMissing,
      `application role(s) ${missing.join(', ')} do not exist on ${where}; fix applicationRoles in the runbook (a misspelt role would leave the real one able to log in and write). Nothing was changed.`,
    );
  }
  const changedNow = before.roles.some((r) => r.canLogin) || !before.defaultReadOnly;
  const marked = before.roles.filter((r) => r.marker !== null);
  const fencedBy = marked[0]?.marker?.fenceId ?? fenceId;

  // The markers first: whatever happens next, a retry and the undo know what this fence meant to change.
  for (const role of before.roles) {
    const stale = role.marker !== null && !role.marker.loginRevoked && role.canLogin;
    if (role.marker !== null && !stale) continue;
    const marker: FenceMarker = {
      fenceId,
      loginRevoked: role.canLogin,
      readOnlySet: !before.defaultReadOnly,
    };
    role.marker = marker;
    await client.query(
      `alter role ${client.escapeIdentifier(role.role)} set ${MARKER} = ${client.escapeLiteral(encodeMarker(marker))}`,
    );
  }

  for (const role of before.roles) {
    if (role.canLogin) await client.query(`alter role ${client.escapeIdentifier(role.role)} nologin`);
  }
  if (!before.defaultReadOnly) await setReadOnlyDefault(client, true);

  // Every session of an application role, and every other client session older than the read-only default
  // (it may sit in a read-write transaction). Two statements: within one, SQL does not promise
  // `pid <> pg_backend_pid()` is tested before the terminate call, and this session must survive to report.
  const older = await client.query<{ pid: number }>(
    `select pid from pg_stat_activity
      where backend_type = 'client backend' and pid <> pg_backend_pid()
        and (usename = any($1::text[]) or backend_start <= pg_conf_load_time())`,
    [roles],
  );
  const pids = older.rows.map((r) => r.pid);
  let terminated = 0;
  if (pids.length > 0) {
    const result = await client.query<{ n: number }>(
      'select count(*)::int as n from unnest($1::int[]) as pid where pg_terminate_backend(pid, 5000)',
      [pids],
    );
    terminated = result.rows[0]?.n ?? 0;
  }

  const own = before.roles.filter((r) => r.marker?.fenceId === fenceId);
  return {
    ownFence: own.length > 0,
    changedNow,
    fencedBy: own.length > 0 ? fenceId : fencedBy,
    loginRevoked: own.filter((r) => r.marker?.loginRevoked).map((r) => r.role),
    readOnlySet: own.some((r) => r.marker?.readOnlySet),
    terminatedSessions: terminated,
  };
}

export async function unfenceServer(
  client: Client,
  roles: string[],
  fenceId?: string,
): Promise<UnfenceResult> {
  await writableSession(client);
  const status = await readFenceStatus(client, roles);
  const mine = status.roles.filter(
    (r) => r.marker !== null && (fenceId === undefined || r.marker.fenceId === fenceId),
  );
  const others = status.roles.filter((r) => r.marker !== null && !mine.includes(r));
  const loginRestored: string[] = [];
  for (const role of mine) {
    if (role.marker?.loginRevoked && !role.canLogin) {
      await client.query(`alter role ${client.escapeIdentifier(role.role)} login`);
      loginRestored.push(role.role);
    }
  }
  // Another fence still in place keeps the server read-only.
  const readOnlyReset =
    others.length === 0 && mine.some((r) => r.marker?.readOnlySet) && status.defaultReadOnly;
  if (readOnlyReset) await setReadOnlyDefault(client, false);
  for (const role of mine)
    await client.query(`alter role ${client.escapeIdentifier(role.role)} reset ${MARKER}`);
  return {
    loginRestored,
    readOnlyReset,
    markersCleared: mine.map((r) => r.role),
    otherFences: [...new Set(others.map((r) => r.marker?.fenceId ?? ''))],
  };
}

export async function liftReplicatedFence(client: Client, roles: string[]): Promise<string[]> {
  await writableSession(client);
  const status = await readFenceStatus(client, roles);
  const restored: string[] = [];
  for (const role of status.roles) {
    if (role.marker === null) continue;
    if (role.marker.loginRevoked && !role.canLogin) {
      await client.query(`alter role ${client.escapeIdentifier(role.role)} login`);
      restored.push(role.role);
    }
    await client.query(`alter role ${client.escapeIdentifier(role.role)} reset ${MARKER}`);
  }
  return restored;
}

/** `ALTER SYSTEM` + reload, then waits until this session has read it (the reload reaches it at its next command). */
async function setReadOnlyDefault(client: Client, on: boolean): Promise<void> {
  await client.query(
    on
      ? 'alter system set default_transaction_read_only = on'
      : 'alter system reset default_transaction_read_only',
  );
  await client.query('select pg_reload_conf()');
  const want = on ? 'on' : 'off';
  for (let i = 0; i < 50; i += 1) {
    const now = await client.query<{ v: string }>(
      `select reset_val as v from pg_settings where name = 'default_transaction_read_only'`,
    );
    if (now.rows[0]?.v === want) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
