/**
 * Which IP addresses web_fetch may connect to. Anything that is not a public
 * unicast address is classified (loopback, private, link-local, …) so the
 * refusal can say why. IPv4 addresses embedded in IPv6 (mapped, NAT64, 6to4,
 * IPv4-compatible) are judged by their IPv4 part.
 */

import { isIP } from 'node:net';

/** Why an address is not public, or undefined for a public unicast address. */
export type AddressClass =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared (carrier-grade NAT)'
  | 'multicast'
  | 'reserved'
  | 'broadcast';

/** [first address, prefix length, class] of IPv4 ranges that are not public. */
const IPV4_RANGES: [string, number, AddressClass][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['255.255.255.255', 32, 'broadcast'],
  ['240.0.0.0', 4, 'reserved'],
];

const IPV4_TABLE = IPV4_RANGES.map(([base, prefix, kind]) => ({
  base: ipv4ToNumber(base),
  mask: prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0,
  kind,
}));

/** Classify an IP address string; throws RangeError for a string that is not one. */
export function classifyAddress(address: string): AddressClass | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare.split('%')[0] ?? '');
  if (family === 4) return classifyIPv4(ipv4ToNumber(bare));
  if (family === 6) return classifyIPv6(parseIPv6(bare.split('%')[0] ?? ''));
  throw new RangeError(`not an IP address: ${address}`);
}

function classifyIPv4(value: number): AddressClass | undefined {
  for (const range of IPV4_TABLE) if ((value & range.mask) >>> 0 === range.base) return range.kind;
  return undefined;
}

function classifyIPv6(groups: number[]): AddressClass | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const embedded = ((g6 << 16) | g7) >>> 0;
  const firstFiveZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (firstFiveZero && g5 === 0) {
    if (g6 === 0 && g7 === 0) return 'unspecified';
    if (g6 === 0 && g7 === 1) return 'loopback';
    // IPv4-compatible (deprecated): never a public route.
    return classifyIPv4(embedded) ?? 'reserved';
  }
  if (firstFiveZero && g5 === 0xffff) return classifyIPv4(embedded);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return classifyIPv4(embedded);
  // Local-use NAT64 (64:ff9b:1::/48): translated inside the site, wherever its IPv4 part sits.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'reserved';
  if (g0 === 0x2002) return classifyIPv4(((g1 << 16) | g2) >>> 0);
  if ((g0 & 0xfe00) === 0xfc00) return 'private';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  // Site-local (deprecated), still routed only inside a site.
  if ((g0 & 0xffc0) === 0xfec0) return 'private';
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  if (g0 === 0x2001 && g1 === 0x0db8) return 'reserved';
  return undefined;
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((value, part) => ((value << 8) | Number(part)) >>> 0, 0);
}

/** Eight 16-bit groups of a valid IPv6 address (without zone). */
function parseIPv6(address: string): number[] {
  let text = address.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    // A dotted IPv4 tail becomes the last two groups.
    const v4 = ipv4ToNumber(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const [head = '', rest] = text.split('::');
  if (rest === undefined) return parse(head);
  const left = parse(head);
  const right = parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
