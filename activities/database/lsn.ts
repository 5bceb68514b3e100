/** PostgreSQL WAL positions (`pg_lsn`, written `X/Y` in hex) as numbers, so positions can be compared and subtracted. */

export function lsnToBigInt(lsn: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (match === null) throw new RangeError(`"${lsn}" is not a WAL position (X/Y in hex)`);
  return (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`);
}

/** Bytes of WAL from `from` to `to` (negative when `to` lies before `from`). */
export function lsnDiff(to: string, from: string): number {
  return Number(lsnToBigInt(to) - lsnToBigInt(from));
}
