import { withPgClient } from './pg-query';
import { superuserUrl } from './postgres-replication';
import { PRIMARY_HOST, type SandboxSettings } from './sandbox-settings';

export const EHR_DATABASE = 'ehr';
export const APP_ROLE = 'ehr_app';

/** Synthetic patients: invented names, `FAKE-` record numbers, 1900s birthdays. Not PHI. */
const SYNTHETIC_PATIENTS: Array<[string, string, string]> = [
  ['FAKE-0001', 'Testa Example', '1901-01-01'],
  ['FAKE-0002', 'Sandy Boxley', '1902-02-02'],
  ['FAKE-0003', 'Mock Patientson', '1903-03-03'],
  ['FAKE-0004', 'Dummy Recordsworth', '1904-04-04'],
];

/**
 * Seeds the primary (the replica follows by streaming): database `ehr`, login role `ehr_app` with write rights,
 * tables `patients`, `drctl_probe` and `drctl_canary` (the drill canary's rows; client `written_at`). Idempotent. `restore` also drops rows tests added and undoes
 * per-database/per-role read-only switches a drill may have set.
 */
export async function seedPostgres(
  settings: SandboxSettings,
  options: { restore?: boolean } = {},
): Promise<void> {
  const password = settings.secrets.appPassword;
  await withPgClient(superuserUrl(settings, PRIMARY_HOST, 'postgres'), async (client) => {
    const role = await client.query('select 1 from pg_roles where rolname = $1', [APP_ROLE]);
    if (role.rowCount === 0) {
      await client.query(`create role ${APP_ROLE} login password '${password.replace(/'/g, "''")}'`);
    } else {
      await client.query(`alter role ${APP_ROLE} login password '${password.replace(/'/g, "''")}'`);
    }
    const database = await client.query('select 1 from pg_database where datname = $1', [EHR_DATABASE]);
    if (database.rowCount === 0) await client.query(`create database ${EHR_DATABASE} owner postgres`);
    if (options.restore) {
      await client.query(`alter database ${EHR_DATABASE} reset all`);
      await client.query(`alter role ${APP_ROLE} reset all`);
      await client.query(`alter database ${EHR_DATABASE} allow_connections true`);
    }
  });
  await withPgClient(superuserUrl(settings, PRIMARY_HOST, EHR_DATABASE), async (client) => {
    await client.query(`
      create table if not exists patients (
        id bigserial primary key,
        mrn text not null unique,
        full_name text not null,
        birth_date date not null,
        created_at timestamptz not null default now()
      );
      create table if not exists drctl_probe (
        id bigserial primary key,
        probed_at timestamptz default now(),
        run_id text
      );
      create table if not exists drctl_canary (
        drill_id text not null,
        seq bigint not null,
        written_at timestamptz not null,
        primary key (drill_id, seq)
      );
      grant connect, temporary on database ${EHR_DATABASE} to ${APP_ROLE};
      grant usage on schema public to ${APP_ROLE};
      grant select, insert, update, delete on all tables in schema public to ${APP_ROLE};
      grant usage, select on all sequences in schema public to ${APP_ROLE};
      alter default privileges in schema public grant select, insert, update, delete on tables to ${APP_ROLE};
      alter default privileges in schema public grant usage, select on sequences to ${APP_ROLE};
    `);
    if (options.restore) {
      await client.query('truncate drctl_probe restart identity');
      await client.query('truncate drctl_canary');
      await client.query(`delete from patients where mrn <> all($1::text[])`, [
        SYNTHETIC_PATIENTS.map(([mrn]) => mrn),
      ]);
    }
    for (const [mrn, fullName, birthDate] of SYNTHETIC_PATIENTS) {
      await client.query(
        `insert into patients (mrn, full_name, birth_date) values ($1, $2, $3)
         on conflict (mrn) do update set full_name = excluded.full_name, birth_date = excluded.birth_date`,
        [mrn, fullName, birthDate],
      );
    }
  });
}
