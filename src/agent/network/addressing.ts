/**
 * The addressing scheme of isolated containers (runc and docker backends). Pure.
 *
 * The agent owns an IPv4 range (default 10.213.0.0/16) cut into /30 slots. Slot n is
 * `base + 4n` … `base + 4n + 3`: `+1` is the host's end of the container's veth pair (interface
 * `brk<n>` on the host), `+2` the container's end (`eth0` in network namespace `brisk<n>`), where the
 * runtime listens on RUNTIME_PORT. Containers have no default route: they can answer whoever
 * connected to them, and reach nothing else (the firewall drops what they start themselves).
 *
 * A /16 gives 16,384 slots per host, shared by every agent of the host (a slot is claimed host-wide).
 */
import { ConfigError } from '../../errors.js';

export interface Subnet {
  /** the network address as a 32-bit unsigned integer */
  base: number;
  prefix: number;
  /** number of /30 slots */
  slots: number;
}

export interface SlotAddresses {
  slot: number;
  /** `brisk<slot>`, the name under /var/run/netns */
  namespace: string;
  /** `brk<slot>`, the host's end of the veth pair */
  hostInterface: string;
  hostAddress: string;
  containerAddress: string;
}

/** The default range of container addresses. */
export const DEFAULT_CONTAINER_SUBNET = '10.213.0.0/16';

/** The host interface prefix; the firewall matches it. */
export const HOST_INTERFACE_PREFIX = 'brk';

/** Parses `a.b.c.d/prefix` (prefix 8…28, network address aligned). */
export function parseSubnet(text: string): Subnet {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  if (match === null) throw new ConfigError(`container subnet '${text}' is not of the form a.b.c.d/prefix`);
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) throw new ConfigError(`container subnet '${text}' has an octet over 255`);
  const prefix = Number(match[5]);
  if (prefix < 8 || prefix > 28) throw new ConfigError(`container subnet '${text}': the prefix must be between 8 and 28`);
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) throw new ConfigError(`container subnet '${text}' is not a network address (host bits set)`);
  return { base, prefix, slots: size / 4 };
}

/** The names and addresses of slot `slot` of `subnet`. */
export function slotAddresses(subnet: Subnet, slot: number): SlotAddresses {
  if (!Number.isInteger(slot) || slot < 0 || slot >= subnet.slots) throw new RangeError(`slot ${slot} is outside 0…${subnet.slots - 1}`);
  const first = subnet.base + slot * 4;
  return {
    slot,
    namespace: `brisk${slot}`,
    hostInterface: `${HOST_INTERFACE_PREFIX}${slot}`,
    hostAddress: formatIPv4(first + 1),
    containerAddress: formatIPv4(first + 2),
  };
}

/** `a.b.c.d/prefix` of a parsed subnet. */
export function formatSubnet(subnet: Subnet): string {
  return `${formatIPv4(subnet.base)}/${subnet.prefix}`;
}

export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** The nftables ruleset that isolates containers (applied atomically with `nft -f -`). */
export function firewallRules(table: string): string {
  const ifaces = `"${HOST_INTERFACE_PREFIX}*"`;
  return [
    // declare, then delete and recreate: one atomic transaction, idempotent, whatever was there
    `table inet ${table} {}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    `  chain input {`,
    `    type filter hook input priority -10; policy accept;`,
    // replies on connections the host opened (the controller calling /run) pass; anything a
    // container starts towards the host (daemons, any port, any host address) is dropped
    `    iifname ${ifaces} ct state established,related accept`,
    `    iifname ${ifaces} drop`,
    `  }`,
    `  chain forward {`,
    `    type filter hook forward priority -10; policy accept;`,
    // nothing from a container is routed anywhere: not to other containers, not off the host
    `    iifname ${ifaces} drop`,
    `  }`,
    `}`,
    '',
  ].join('\n');
}
