/** What a DNS record value is, and so which record type holds it: an IPv4 address (A), IPv6 (AAAA) or a name (CNAME). */
export type AddressKind = 'ipv4' | 'ipv6' | 'hostname';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
// Hex groups and colons (with an IPv4 tail allowed); a name never holds a colon.
const IPV6 =
  /^(?=.*:)[0-9a-f:]+(:(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})?$/i;

export function addressKindOf(value: string): AddressKind {
  const trimmed = value.trim();
  if (IPV4.test(trimmed)) return 'ipv4';
  if (IPV6.test(trimmed)) return 'ipv6';
  return 'hostname';
}

export const RECORD_TYPE_FOR: Record<AddressKind, 'A' | 'AAAA' | 'CNAME'> = {
  ipv4: 'A',
  ipv6: 'AAAA',
  hostname: 'CNAME',
};
