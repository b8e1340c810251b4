/**
 * Network namespaces, veth pairs and the firewall of isolated containers (addressing.ts explains
 * the scheme). Needs root, `ip` (iproute2) and `nft` (nftables).
 *
 * Claims: a slot is claimed host-wide by creating the symlink `<claimsDir>/<slot>` → the claiming
 * agent's data directory (symlink creation is atomic, and the link says who owns the slot), so
 * several agents on one host (and the tests) never share an address. `leftovers()` finds the slots
 * an earlier run of the same agent left behind; `release` undoes everything, idempotently.
 *
 * Cost: one `ip -batch` for the host side and one for the namespace side per container.
 */
import { mkdir, readdir, readFile, readlink, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, ContainerOperationError, messageOf } from '../../errors.js';
import { runCommand } from '../backends/runc/command.js';
import { DEFAULT_CONTAINER_SUBNET, firewallRules, formatSubnet, parseSubnet, slotAddresses, type SlotAddresses, type Subnet } from './addressing.js';

/** Claims of every agent of the host; on tmpfs, like the namespaces themselves (both vanish on reboot). */
export const DEFAULT_CLAIMS_DIR = '/run/brisk/net';
/** The nftables table brisk owns. */
export const FIREWALL_TABLE = 'brisk';

/**
 * The file in which a backend records the slot a container holds (runc: in its bundle; docker:
 * beside its data), written before anything else can fail, so a later agent knows what to release.
 */
export async function writeSlotFile(file: string, slot: number): Promise<void> {
  await writeFile(file, `${slot}\n`);
}

/** The slot recorded in `file`, or undefined when there is none (or it is not a slot number). */
export async function readSlotFile(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const slot = Number(text?.trim());
  return text === undefined || !Number.isInteger(slot) ? undefined : slot;
}

export interface ContainerNetworkOptions {
  /** who claims slots: the agent's data directory (absolute) */
  owner: string;
  /** default DEFAULT_CONTAINER_SUBNET */
  subnet?: string;
  /** default DEFAULT_CLAIMS_DIR */
  claimsDir?: string;
}

export interface ContainerNetworkAttachment extends SlotAddresses {
  /** path to give runc as the network namespace */
  namespacePath: string;
}

export class ContainerNetwork {
  readonly #owner: string;
  readonly #subnet: Subnet;
  readonly #claimsDir: string;
  /** where the next claim starts looking, so consecutive claims do not collide on the same slot */
  #cursor: number;

  private constructor(owner: string, subnet: Subnet, claimsDir: string) {
    this.#owner = owner;
    this.#subnet = subnet;
    this.#claimsDir = claimsDir;
    this.#cursor = Math.floor(Math.random() * subnet.slots);
  }

  /** Checks the tools, installs the firewall, and returns the network. */
  static async open(options: ContainerNetworkOptions): Promise<ContainerNetwork> {
    const subnet = parseSubnet(options.subnet ?? DEFAULT_CONTAINER_SUBNET);
    const claimsDir = options.claimsDir ?? DEFAULT_CLAIMS_DIR;
    await mkdir(claimsDir, { recursive: true });
    try {
      await runCommand('nft', ['-f', '-'], { input: firewallRules(FIREWALL_TABLE), timeoutMs: 10_000 });
    } catch (err) {
      throw new ConfigError(`cannot install the container firewall (nftables table inet ${FIREWALL_TABLE}): ${messageOf(err)}`, {
        cause: err,
        hint: 'run the agent as root with nftables installed (apt-get install nftables)',
      });
    }
    try {
      // Addresses of the range that have no live container (a destroyed one, a typo) must never be
      // routed off the host by the default route: the /30 of each live container is more specific
      // and wins; everything else in the range is dropped here.
      await runCommand('ip', ['route', 'replace', 'blackhole', formatSubnet(subnet)], { timeoutMs: 5000 });
    } catch (err) {
      throw new ConfigError(`cannot route the container range ${formatSubnet(subnet)}: ${messageOf(err)}`, { cause: err, hint: 'run the agent as root with iproute2 installed' });
    }
    return new ContainerNetwork(path.resolve(options.owner), subnet, claimsDir);
  }

  /**
   * Claims a slot and sets up its namespace: a new one (runc), or, with `pid`, the existing
   * namespace of that process (Docker made it) under the slot's name. Then the veth pair, with the
   * container's end as `eth0` inside, both ends addressed and up. On failure nothing is left.
   */
  async attach(options: { pid?: number } = {}): Promise<ContainerNetworkAttachment> {
    const slot = await this.#claim();
    const a = slotAddresses(this.#subnet, slot);
    try {
      // A namespace of that name can only be a leftover of this slot's earlier owner (a crash between
      // claim and release): it is ours now.
      await runCommand('ip', ['netns', 'del', a.namespace], { timeoutMs: 5000 }).catch(() => undefined);
      const host = [
        options.pid === undefined ? `netns add ${a.namespace}` : `netns attach ${a.namespace} ${options.pid}`,
        `link add ${a.hostInterface} type veth peer name eth0 netns ${a.namespace}`,
        `addr add ${a.hostAddress}/30 dev ${a.hostInterface}`,
        `link set ${a.hostInterface} up`,
      ];
      await runCommand('ip', ['-batch', '-'], { input: `${host.join('\n')}\n`, timeoutMs: 10_000 });
      const inside = [`addr add ${a.containerAddress}/30 dev eth0`, 'link set eth0 up', 'link set lo up'];
      await runCommand('ip', ['-n', a.namespace, '-batch', '-'], { input: `${inside.join('\n')}\n`, timeoutMs: 10_000 });
    } catch (err) {
      await this.release(slot);
      throw new ContainerOperationError(`cannot set up the network of a container (slot ${slot}): ${messageOf(err)}`, { cause: err });
    }
    return { ...a, namespacePath: `/var/run/netns/${a.namespace}` };
  }

  /** Removes the slot's veth pair and namespace name, then gives up the claim. Idempotent. */
  async release(slot: number): Promise<void> {
    const a = slotAddresses(this.#subnet, slot);
    await runCommand('ip', ['link', 'del', a.hostInterface], { timeoutMs: 5000 }).catch(() => undefined);
    await runCommand('ip', ['netns', 'del', a.namespace], { timeoutMs: 5000 }).catch(() => undefined);
    if ((await this.#claimOwner(slot)) === this.#owner) await unlink(this.#claimPath(slot)).catch(() => undefined);
  }

  /**
   * Releases every slot this owner claimed that is not in `inUse`: what an earlier run left (or a
   * crash between claim and use). Call it only when no attach is in flight.
   */
  async releaseUnused(inUse: ReadonlySet<number>): Promise<void> {
    for (const slot of await this.claimed()) if (!inUse.has(slot)) await this.release(slot);
  }

  /** The slots this owner has claimed (all of them: call before any attach to find an earlier run's). */
  async claimed(): Promise<number[]> {
    const names = await readdir(this.#claimsDir).catch(() => [] as string[]);
    const mine: number[] = [];
    for (const name of names) {
      const slot = Number(name);
      if (!Number.isInteger(slot) || slot < 0 || slot >= this.#subnet.slots) continue;
      if ((await this.#claimOwner(slot)) === this.#owner) mine.push(slot);
    }
    return mine.sort((x, y) => x - y);
  }

  async #claim(): Promise<number> {
    for (let tried = 0; tried < this.#subnet.slots; tried++) {
      const slot = this.#cursor;
      this.#cursor = (this.#cursor + 1) % this.#subnet.slots;
      try {
        await symlink(this.#owner, this.#claimPath(slot));
        return slot;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new ContainerOperationError(`cannot claim a container address in ${this.#claimsDir}: ${messageOf(err)}`, { cause: err });
        }
      }
    }
    throw new ContainerOperationError(`every container address of the host is in use (${this.#subnet.slots} slots)`, {
      hint: 'give the agents a larger --container-subnet',
    });
  }

  async #claimOwner(slot: number): Promise<string | undefined> {
    return readlink(this.#claimPath(slot)).catch(() => undefined);
  }

  #claimPath(slot: number): string {
    return path.join(this.#claimsDir, String(slot));
  }
}
