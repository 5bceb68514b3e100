import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthFileError } from '../../auth/io/auth-file-error';
import { createKeyFile, readKeyFile } from '../../auth/io/key-file';
import { loadPolicyFile } from '../../auth/io/policy-file';
import { verifyRecordedActions, type RecordedAction } from '../../auth/recorded-actions';
import { signStatement } from '../../auth/io/native-ed25519';
import { NOW, operatorKeys, RUNBOOK_HASH, statement, testPolicy } from './auth-fixtures';
import { runDrctl } from './run-drctl';

const dir = mkdtempSync(join(tmpdir(), 'drctl-auth-'));

const drctl = (args: string[], env: NodeJS.ProcessEnv) => runDrctl(args, env);

function authError(run: () => unknown): AuthFileError {
  try {
    run();
  } catch (error) {
    if (error instanceof AuthFileError) return error;
    throw error;
  }
  throw new Error('expected an AuthFileError');
}

const keys = operatorKeys('alice', 'bob', 'carol', 'dave', 'glass');

function policyFile(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

describe('access policy file', () => {
  it('GIVEN a valid policy WHEN loaded THEN its sha256 is over the file bytes', () => {
    const file = policyFile('ok.json', testPolicy(keys).policy);
    const loaded = loadPolicyFile(file);
    expect(loaded.policy.groups.dba).toEqual(['bob', 'carol']);
    expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded.sha256).not.toBe(
      loadPolicyFile(policyFile('ok2.json', JSON.stringify(testPolicy(keys).policy))).sha256,
    );
  });

  it('GIVEN an unknown permission WHEN loaded THEN the error names the file, the field and what is allowed', () => {
    const policy = testPolicy(keys).policy;
    const file = policyFile('bad-permission.json', {
      ...policy,
      permissions: [{ ...policy.permissions[0], allow: ['plan', 'deploy'] }],
    });
    const error = authError(() => loadPolicyFile(file));
    expect(error.code).toBe('PolicyInvalid');
    expect(error.message).toContain(file);
    expect(error.message).toMatch(
      /permissions\[0\]\.allow\[1\]: unknown permission "deploy"; allowed: plan, failover, failback, drill, evacuate, approve, decide, abort, schedule/,
    );
  });

  it('GIVEN a misspelt field WHEN loaded THEN the error names the field meant and the fields allowed', () => {
    const { permissions, ...policy } = testPolicy(keys).policy;
    const file = policyFile('misspelt.json', { ...policy, permisions: permissions });
    const error = authError(() => loadPolicyFile(file));
    expect(error.code).toBe('PolicyInvalid');
    expect(error.message).toMatch(
      /\(file\): unknown field permisions; did you mean "permissions"\?; allowed here: version, operators, groups, permissions, breakGlass/,
    );
  });

  it('GIVEN a malformed public key WHEN loaded THEN the error names the operator and the key index', () => {
    const policy = testPolicy(keys).policy;
    const file = policyFile('bad-key.json', {
      ...policy,
      operators: { ...policy.operators, bob: { keys: ['ed25519:1234'] } },
    });
    expect(authError(() => loadPolicyFile(file)).message).toMatch(
      /operators\.bob\.keys\[0\]: malformed public key "ed25519:1234": expected ed25519: and 64 hex digits/,
    );
  });

  it('GIVEN a group member that is no operator and a key given twice WHEN loaded THEN both are named', () => {
    const policy = testPolicy(keys).policy;
    const file = policyFile('bad-refs.json', {
      ...policy,
      groups: { ...policy.groups, dba: ['bob', 'eve'] },
      operators: { ...policy.operators, carol: { keys: [keys.bob.publicKey] } },
    });
    const message = authError(() => loadPolicyFile(file)).message;
    expect(message).toMatch(/groups\.dba\[1\]: "eve" is not an operator in this policy/);
    expect(message).toMatch(/this key already belongs to bob; one key, one owner/);
  });

  it('GIVEN no file or broken JSON WHEN loaded THEN the error says which file', () => {
    expect(authError(() => loadPolicyFile(join(dir, 'missing.json'))).message).toMatch(
      /cannot be read \(ENOENT\)/,
    );
    expect(authError(() => loadPolicyFile(policyFile('broken.json', '{ "version": 1,'))).message).toMatch(
      /broken\.json is not valid JSON/,
    );
  });
});

describe('operator key files', () => {
  it('GIVEN a new key WHEN created THEN the file is 0600, reads back, and is never replaced without force', () => {
    const file = join(dir, 'keys', 'alice.json');
    const created = createKeyFile(file, 'alice');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readKeyFile(file)).toEqual(created);
    expect(authError(() => createKeyFile(file, 'alice')).code).toBe('KeyFileExists');
    expect(createKeyFile(file, 'alice', { force: true }).publicKey).not.toBe(created.publicKey);
  });

  it('GIVEN a missing, corrupt, tampered or world-readable key file WHEN read THEN the error names the file and field', () => {
    expect(authError(() => readKeyFile(join(dir, 'none.json'))).message).toMatch(
      /no operator key at .*none\.json: create one with `drctl keys init/,
    );
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, '{"format": "drctl-operator-key/1", "name": "bob", "privateKey": "zz', {
      mode: 0o600,
    });
    expect(authError(() => readKeyFile(corrupt)).message).toMatch(/corrupt\.json is corrupt: not JSON/);
    const tampered = join(dir, 'tampered.json');
    const good = createKeyFile(tampered, 'bob');
    writeFileSync(
      tampered,
      JSON.stringify({ ...JSON.parse(readFileSync(tampered, 'utf8')), publicKey: keys.alice.publicKey }),
      { mode: 0o600 },
    );
    expect(good.publicKey).not.toBe(keys.alice.publicKey);
    expect(authError(() => readKeyFile(tampered)).message).toMatch(/publicKey does not belong to privateKey/);
    chmodSync(tampered, 0o644);
    expect(authError(() => readKeyFile(tampered)).message).toMatch(
      /readable by others \(mode 644\): run `chmod 600/,
    );
  });

  it('GIVEN a key file whose name is free text THEN it is refused: the name is stored as a plain search attribute', () => {
    const file = join(dir, 'free-text.json');
    createKeyFile(file, 'carol');
    writeFileSync(
      file,
      JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), name: 'Carol (patient 4411 called)' }),
      { mode: 0o600 },
    );
    expect(authError(() => readKeyFile(file)).message).toMatch(/name must be an operator name/);
  });

  it('GIVEN drctl keys init WHEN run twice THEN it prints the public key and a snippet, never the private key, and refuses the second time', async () => {
    const env = { XDG_CONFIG_HOME: join(dir, 'xdg'), HOME: dir };
    const first = await drctl(['keys', 'init', '--name', 'alice', '--output', 'json'], env);
    expect(first.code).toBe(0);
    const printed = JSON.parse(first.stdout) as { file: string; publicKey: string; policySnippet: unknown };
    expect(printed.file).toBe(join(dir, 'xdg', 'drctl', 'operator-key.json'));
    expect(printed.policySnippet).toEqual({ operators: { alice: { keys: [printed.publicKey] } } });
    const onDisk = readKeyFile(printed.file);
    expect(first.stdout + first.stderr).not.toContain(onDisk.privateKey);
    const second = await drctl(['keys', 'init', '--name', 'alice'], env);
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(/already exists; not replacing it.*--force/);
    expect(readKeyFile(printed.file).publicKey).toBe(printed.publicKey);
  }, 30_000);
});

describe('recorded actions', () => {
  const loaded = testPolicy(keys);
  const runId = 'failover-ehr-db-20261127-081500';
  function recorded(): RecordedAction[] {
    const start = signStatement(
      statement({ action: 'failover', operator: 'alice', runId, stepId: undefined, reason: 'INC-4411' }),
      keys.alice.privateKey,
    );
    const approval = signStatement(
      statement({ operator: 'bob', runId, reason: 'region down' }),
      keys.bob.privateKey,
    );
    return [
      {
        action: 'start',
        operator: 'alice',
        reason: 'INC-4411',
        at: new Date(NOW).toISOString(),
        signed: start,
      },
      {
        action: 'approve',
        operator: 'bob',
        reason: 'region down',
        stepId: 'production-approval',
        at: new Date(NOW).toISOString(),
        signed: approval,
      },
    ];
  }
  const record = (operatorActions: RecordedAction[]) => ({
    runId,
    runbookId: 'ehr-db',
    runbookHash: RUNBOOK_HASH,
    policySha256: loaded.sha256,
    operatorActions,
  });

  it('GIVEN an untouched record WHEN verified against its policy THEN every action verifies', () => {
    const result = verifyRecordedActions(record(recorded()), loaded);
    expect(result.ok).toBe(true);
    expect(result.verdicts.map((v) => v.detail)).toEqual([
      expect.stringMatching(/^signed by alice/),
      expect.stringMatching(/^signed by bob/),
    ]);
  });

  it('GIVEN one character of a reason changed WHEN verified THEN that action fails, naming what differs', () => {
    const actions = recorded();
    actions[1] = { ...actions[1]!, reason: 'region dawn' };
    const shown = verifyRecordedActions(record(actions), loaded);
    expect(shown.ok).toBe(false);
    expect(shown.verdicts[0]?.ok).toBe(true);
    expect(shown.verdicts[1]).toMatchObject({ ok: false, action: 'approve', operator: 'bob' });
    expect(shown.verdicts[1]?.detail).toMatch(
      /recorded reason "region dawn" differs from the signed reason "region down"/,
    );

    const both = recorded();
    both[1] = {
      ...both[1]!,
      reason: 'region dawn',
      signed: { ...both[1]!.signed!, statement: { ...both[1]!.signed!.statement, reason: 'region dawn' } },
    };
    expect(verifyRecordedActions(record(both), loaded).verdicts[1]?.detail).toMatch(
      /signature does not match/,
    );
  });

  it('GIVEN another policy WHEN verified THEN the policy mismatch fails the verification', () => {
    const result = verifyRecordedActions({ ...record(recorded()), policySha256: '0'.repeat(64) }, loaded);
    expect(result).toMatchObject({ ok: false, policyMatches: false });
  });
});
