import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Runbook } from './schema';

/**
 * What validating some data gave before: `defineRunbook` asks before it validates a runbook, and tells after; the
 * CLI's config file check and evacuation lookup keep their answers in it too, each under inputs of its own shape.
 */
export interface RunbookMemo {
  /** What validating exactly this `input` gave (a runbook, by default), or undefined when it is not known. */
  recall<T = Runbook>(input: unknown): T | undefined;
  remember<T = Runbook>(input: unknown, answer: T): void;
}

let active: RunbookMemo | undefined;

/** Sets the memo `defineRunbook` uses in this process (the CLI's); undefined validates every time. */
export function useRunbookMemo(memo: RunbookMemo | undefined): void {
  active = memo;
}

export function runbookMemo(): RunbookMemo | undefined {
  return active;
}

/**
 * A memo on disk: a folder per build (named by the SHA-256 of its key; a new build's first answer removes the
 * folders of builds long unused, `forgetOldBuilds`) holding a file per runbook data, named by the SHA-256 of the
 * data's canonical form (keys sorted; `undefined` kept apart from a missing key). Only a successful validation is
 * kept (a broken runbook is validated, and its problems listed, every time), and only when its result is plain
 * JSON that reads back equal. Data that is not plain (a function, a Date, a class instance, a getter, a hidden
 * property) is validated every time. `buildKey` names the validation code: a new build is a new key, so nothing an
 * older build said is recalled; undefined (no build to name) turns the memo off. Files are the user's own (0600 in
 * a 0700 folder); a file that cannot be read or written is a miss, never an error: the memo only saves time.
 */
export function diskRunbookMemo(dir: string, buildKey: () => string | undefined): RunbookMemo {
  const sha256 = (...parts: string[]): string => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- node:crypto only once a runbook is read.
    const { createHash } = require('node:crypto') as typeof import('node:crypto');
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part).update('\0');
    return hash.digest('hex');
  };
  const placeOf = (input: unknown): { buildDir: string; file: string } | undefined => {
    const build = buildKey();
    const data = build === undefined ? undefined : canonicalForm(input);
    if (build === undefined || data === undefined) return undefined;
    const buildDir = join(dir, sha256(build));
    return { buildDir, file: join(buildDir, `${sha256(data)}.json`) };
  };
  return {
    recall<T>(input: unknown) {
      const place = placeOf(input);
      if (place === undefined) return undefined;
      try {
        return (JSON.parse(readFileSync(place.file, 'utf8')) as { runbook: T }).runbook;
      } catch {
        return undefined;
      }
    },
    remember(input: unknown, runbook: unknown) {
      const place = placeOf(input);
      if (place === undefined || !isDeepStrictEqual(JSON.parse(JSON.stringify(runbook)), runbook)) return;
      try {
        if (!existsSync(place.buildDir)) forgetOldBuilds(dir);
        mkdirSync(place.buildDir, { recursive: true, mode: 0o700 });
        const partial = `${place.file}.${process.pid}.partial`;
        writeFileSync(partial, JSON.stringify({ runbook }), { mode: 0o600 });
        renameSync(partial, place.file);
      } catch {
        // A read-only or full disk: the next command validates again.
      }
    },
  };
}

/** How long a build's answers are kept after its folder last changed, and how many builds' folders at most. */
const FORGET_BUILDS_AFTER_MS = 7 * 24 * 3600_000;
const BUILDS_KEPT = 8;

/**
 * A new build's first answer clears the folders of builds not written for a week, and beyond the eight most
 * recently written: two installs of drctl (or a checkout and its CI clone) share the folder without clearing each
 * other's answers, and old builds do not pile up.
 */
function forgetOldBuilds(dir: string): void {
  if (!existsSync(dir)) return;
  const builds = readdirSync(dir)
    .filter((entry) => /^[0-9a-f]{64}$/.test(entry))
    .map((entry) => ({ path: join(dir, entry), changed: statSync(join(dir, entry)).mtimeMs }))
    .sort((a, b) => b.changed - a.changed);
  const now = Date.now();
  builds.forEach((build, index) => {
    if (index >= BUILDS_KEPT - 1 || now - build.changed > FORGET_BUILDS_AFTER_MS)
      rmSync(build.path, { recursive: true, force: true });
  });
}

/** A string that differs for any two inputs validation could tell apart, or undefined for data that is not plain. */
function canonicalForm(value: unknown): string | undefined {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : undefined;
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return undefined;
      const item = canonicalForm(value[i]);
      if (item === undefined) return undefined;
      items.push(item);
    }
    return `[${items.join(',')}]`;
  }
  if (typeof value !== 'object') return undefined;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  if (Object.getOwnPropertySymbols(value).length > 0) return undefined;
  const properties = Object.getOwnPropertyDescriptors(value);
  const entries: string[] = [];
  for (const key of Object.keys(properties).sort()) {
    const property = properties[key];
    // A getter may answer differently each time; a hidden property is still read by the schema.
    if (property === undefined || !('value' in property) || property.enumerable !== true) return undefined;
    const item = canonicalForm(property.value);
    if (item === undefined) return undefined;
    entries.push(`${JSON.stringify(key)}:${item}`);
  }
  return `{${entries.join(',')}}`;
}
