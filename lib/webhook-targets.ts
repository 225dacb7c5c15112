import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where webhooks may go: public unicast addresses only, unless the operator allows a range
 * (WEBHOOK_ALLOWED_TARGETS). Otherwise a customer could make the worker post to the loopback, the private
 * network, a link-local cloud metadata service (169.254.169.254, fd00:ec2::254) or the like (SSRF). Checked at
 * subscription and again at each delivery, on the very address connected to, so that a name resolving to a public
 * address when subscribed and to a private one later (DNS rebinding) is refused too.
 */
export type AllowedRange = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** The operator's allow-list, "127.0.0.1/32, ::1, 10.1.0.0/16": undefined for an entry that is neither. */
export function parseAllowedRange(entry: string): AllowedRange | undefined {
  if (entry.includes('/')) {
    try {
      return ipaddr.parseCIDR(entry);
    } catch {
      return undefined;
    }
  }
  if (isIP(entry)) {
    const address = ipaddr.parse(entry);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  }
  return undefined;
}

/** Why a webhook may not be sent to this address, or undefined when it may. */
export function refusedAddress(address: string, allowed: readonly AllowedRange[]): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it reaches.
  const ip = ipaddr.process(address);
  const inAllowed = allowed.some(
    ([range, bits]) => range.kind() === ip.kind() && ip.match(range as never, bits),
  );
  if (inAllowed) return undefined;
  const range = ip.range();
  return range === 'unicast' ? undefined : `${address} is not a public address (${range})`;
}

/** Thrown when a webhook's host is, or resolves to, an address it may not reach. */
export class WebhookTargetRefused extends Error {
  readonly code = 'WEBHOOK_TARGET_REFUSED';
}

/** The URL's host as an address when it is one (new URL() has already normalised forms like 0x7f.1). */
function literalAddress(hostname: string): string | undefined {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? host : undefined;
}

/** Why a webhook URL may not be subscribed to (its host does not resolve, or not only to public addresses). */
export async function webhookTargetProblem(
  url: string,
  allowed: readonly AllowedRange[],
): Promise<string | undefined> {
  const { hostname } = new URL(url);
  const literal = literalAddress(hostname);
  let addresses: string[];
  try {
    addresses = literal ? [literal] : (await lookup(hostname, { all: true })).map((a) => a.address);
  } catch {
    return `${hostname} does not resolve`;
  }
  for (const address of addresses) {
    const refused = refusedAddress(address, allowed);
    if (refused) return literal ? refused : `${hostname} resolves to ${refused}`;
  }
  return undefined;
}

/**
 * A DNS lookup for the delivery's connection that refuses a forbidden address: the connection goes to the address
 * checked, with no second resolution in between. A literal address is not looked up: checkLiteralTarget judges it.
 */
export function guardedLookup(allowed: readonly AllowedRange[]): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.map((a) => refusedAddress(a.address, allowed)).find(Boolean);
      if (refused) return callback(new WebhookTargetRefused(`${hostname} resolves to ${refused}`), '', 0);
      if (options.all) return (callback as never as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** Refuses a URL whose host is a forbidden literal address (no lookup happens for those). */
export function checkLiteralTarget(url: URL, allowed: readonly AllowedRange[]): void {
  const literal = literalAddress(url.hostname);
  const refused = literal && refusedAddress(literal, allowed);
  if (refused) throw new WebhookTargetRefused(refused);
}
