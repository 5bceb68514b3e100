/** Number formats shared by the report renderers, built on the runbooks' own duration format. */
import { formatMs } from '../runbooks/duration';

/** A margin or offset with its sign: 800 → "+800ms", -2400 → "-2.4s", 0 → "0ms". */
export function formatSignedMs(ms: number): string {
  if (ms === 0) return '0ms';
  return `${ms > 0 ? '+' : '-'}${formatMs(Math.abs(ms))}`;
}

/** An offset from the injected failure: 2420 → "T+2.42s". */
export function formatOffset(ms: number): string {
  return `T${ms === 0 ? '+0ms' : formatSignedMs(ms)}`;
}

/** A measurement that may be missing when the drill could not complete it. */
export function formatMeasured(ms: number | null): string {
  return ms === null ? 'not measured' : formatMs(ms);
}

/** A 0..1 share as a percentage with one decimal: 0.4654 → "46.5%". */
export function formatShare(share: number | null): string {
  return share === null ? '—' : `${(share * 100).toFixed(1)}%`;
}

/** Milliseconds between two ISO timestamps. */
export function msBetween(fromIso: string, toIso: string): number {
  return Date.parse(toIso) - Date.parse(fromIso);
}
