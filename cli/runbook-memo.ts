import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { diskRunbookMemo, useRunbookMemo } from '../runbooks/validation-memo';

/**
 * Turns on the memo of runbook validation for this CLI process: a command on a runbook whose data has not
 * changed since a command of the same build validated it skips loading the schema and every step kind (about
 * half of a cold `plan` or `failover` before its first request). In the user's cache folder, beside the
 * compile cache (`$XDG_CACHE_HOME/drctl/validated-runbooks`, else `~/.cache/…`); `DRCTL_RUNBOOK_MEMO=off` turns
 * it off. The build is named by the TypeScript build's record (`dist/.tsbuildinfo`, rewritten by every build
 * that emits), so running from the sources, or from a build without that record, validates every time. The
 * worker never uses it: it validates its reviewed copies itself, and the sha256 it compares is of those.
 */
export function enableRunbookMemo(env: NodeJS.ProcessEnv = process.env): void {
  if (env.DRCTL_RUNBOOK_MEMO === 'off' || __filename.endsWith('.ts')) return;
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  let buildKey: string | undefined | null = null;
  useRunbookMemo(
    diskRunbookMemo(join(cache, 'drctl', 'validated-runbooks'), () => {
      if (buildKey === null) buildKey = buildRecordKey(join(__dirname, '..', '.tsbuildinfo'));
      return buildKey;
    }),
  );
}

function buildRecordKey(record: string): string | undefined {
  try {
    const stat = statSync(record, { bigint: true });
    return `${record}:${stat.ino}:${stat.size}:${stat.mtimeNs}`;
  } catch {
    return undefined;
  }
}
