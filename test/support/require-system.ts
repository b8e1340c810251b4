/**
 * The required-suite gate for suites that need a system component (runc, Docker, etcd, PostgreSQL).
 *
 * A suite whose component is missing SKIPS, with a reason that names the component, why the suite
 * needs it and how to install it. With `BRISK_REQUIRE_ALL_SUITES=1` (CI sets it, see .ci/run) the
 * same situation is a FAILURE instead, so CI can never pass by silently skipping a suite.
 *
 * Usage, with a synchronous probe (the ready-made ones below are):
 *
 *   describeWithSystem(RUNC, 'runc backend', () => {
 *     it('creates a container', async () => { ... });
 *   });
 *
 * or, when the suite needs the gate's answer itself (top-level await in the test file):
 *
 *   const gate = await requireSystem(POSTGRES);      // throws at collection when required and missing
 *   describe.skipIf(gate.skip)('postgres store', () => { ... });
 *
 * The decision itself is the pure `decideGate`; everything else here is a probe or vitest glue.
 * Probes are cheap and synchronous (PATH lookups, one short `spawnSync`) and remembered per process.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, it } from 'vitest';

/** The environment variable that turns a skip for a missing component into a failure. */
export const REQUIRE_ALL_ENV = 'BRISK_REQUIRE_ALL_SUITES';

/** A system component a suite needs. */
export interface SystemRequirement {
  /** the component, e.g. `runc` */
  name: string;
  /** true when the component can be used here; should be cheap (it runs at collection) */
  available: () => boolean | Promise<boolean>;
  /** why the suite needs it, e.g. `the runc backend creates OCI containers, which needs root` */
  reason: string;
  /** how to get it, e.g. `apt-get install -y runc, and run the tests as root` */
  howToInstall: string;
}

export type GateDecision =
  | { readonly action: 'run' }
  | { readonly action: 'skip'; readonly message: string }
  | { readonly action: 'fail'; readonly message: string };

/** True for `1` or `true` (any case, surrounding blanks ignored); unset, empty, `0`, `false` … are false. */
export function requireAllSuites(value: string | undefined): boolean {
  const v = value?.trim().toLowerCase();
  return v === '1' || v === 'true';
}

/**
 * What to do with a suite (pure): run it when the component is there; else skip it, or fail it
 * when every suite is required. The message names the component, the reason and how to install it.
 */
export function decideGate(input: {
  requirement: Pick<SystemRequirement, 'name' | 'reason' | 'howToInstall'>;
  available: boolean;
  requireAll: boolean;
}): GateDecision {
  const { requirement: r, available, requireAll } = input;
  if (available) return { action: 'run' };
  const what = `${r.name} is not available (${r.reason}); to install: ${r.howToInstall}`;
  if (requireAll) return { action: 'fail', message: `${REQUIRE_ALL_ENV}=1 requires every suite, but ${what}.` };
  return { action: 'skip', message: `skipped: ${what}. (${REQUIRE_ALL_ENV}=1 turns this skip into a failure.)` };
}

/** Thrown (or reported by a failing test) when a required component is missing. */
export class MissingSystemComponentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingSystemComponentError';
  }
}

export interface GateOptions {
  /** default `process.env`; only `BRISK_REQUIRE_ALL_SUITES` is read */
  env?: NodeJS.ProcessEnv;
}

async function probe(requirement: SystemRequirement): Promise<boolean> {
  try {
    return await requirement.available();
  } catch {
    // A probe that throws is a missing component, never a crashed collection.
    return false;
  }
}

/**
 * Probes the component and decides. Resolves `{skip: false}` when it is there, `{skip: true, reason}`
 * when it is not; throws MissingSystemComponentError (failing the file at collection) when it is not
 * and `BRISK_REQUIRE_ALL_SUITES=1`.
 */
export async function requireSystem(requirement: SystemRequirement, options: GateOptions = {}): Promise<{ skip: boolean; reason: string }> {
  const env = options.env ?? process.env;
  const decision = decideGate({ requirement, available: await probe(requirement), requireAll: requireAllSuites(env[REQUIRE_ALL_ENV]) });
  switch (decision.action) {
    case 'run':
      return { skip: false, reason: '' };
    case 'skip':
      console.warn(`[brisk tests] ${decision.message}`);
      return { skip: true, reason: decision.message };
    case 'fail':
      throw new MissingSystemComponentError(decision.message);
  }
}

/** Registers the failing test that stands for a required suite whose component is missing. */
function registerFailure(title: string, message: string): void {
  describe(title, () => {
    it(`requires a missing system component`, () => {
      throw new MissingSystemComponentError(message);
    });
  });
}

function apply(decision: GateDecision, title: string, body: () => void | Promise<void>, label = title): void {
  if (decision.action === 'fail') return registerFailure(title, decision.message);
  if (decision.action === 'skip') console.warn(`[brisk tests] ${label}: ${decision.message}`);
  // The reason goes into the title, so reporters show why the suite was skipped.
  describe.skipIf(decision.action === 'skip')(decision.action === 'skip' ? `${title} (${decision.message})` : title, body);
}

/**
 * `describe` gated on a system component: runs `body` when the component is there; skips the suite
 * (reason in its title) when it is not; registers a failing test naming the component, the reason
 * and how to install it when it is not and `BRISK_REQUIRE_ALL_SUITES=1`.
 * A probe that returns a promise is awaited inside an outer suite named `title`.
 */
export function describeWithSystem(requirement: SystemRequirement, title: string, body: () => void | Promise<void>, options: GateOptions = {}): void {
  const env = options.env ?? process.env;
  const requireAll = requireAllSuites(env[REQUIRE_ALL_ENV]);
  let answer: boolean | Promise<boolean>;
  try {
    answer = requirement.available();
  } catch {
    answer = false;
  }
  if (typeof answer === 'boolean') {
    apply(decideGate({ requirement, available: answer, requireAll }), title, body);
    return;
  }
  const pending = answer.catch(() => false);
  describe(title, async () => {
    const decision = decideGate({ requirement, available: await pending, requireAll });
    if (decision.action === 'run') return body();
    apply(decision, `needs ${requirement.name}`, body, title);
  });
}

// ---------------------------------------------------------------------------------- probes

/** Remembers a probe's answer for the life of the process (several suites ask the same question). */
function once(probeFn: () => boolean): () => boolean {
  let answer: boolean | undefined;
  return () => (answer ??= probeFn());
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of an executable `name` on `pathEnv` (default `$PATH`), or undefined. No process is started. */
export function findOnPath(name: string, pathEnv: string | undefined = process.env.PATH): string | undefined {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    if (isExecutableFile(file)) return file;
  }
  return undefined;
}

/** True when this process runs as root (uid 0); false on platforms without uids. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The directory holding PostgreSQL's server binaries (`postgres`, `initdb`, `pg_ctl`): `$PATH` first,
 * else the newest `<root>/<version>/bin` under `roots` (Debian puts them in /usr/lib/postgresql/16/bin,
 * off the PATH).
 */
export function findPostgresBin(options: { pathEnv?: string | undefined; roots?: readonly string[] } = {}): string | undefined {
  const pathEnv = 'pathEnv' in options ? options.pathEnv : process.env.PATH;
  const onPath = findOnPath('postgres', pathEnv);
  if (onPath !== undefined && findOnPath('initdb', pathEnv) !== undefined) return join(onPath, '..');
  for (const root of options.roots ?? ['/usr/lib/postgresql']) {
    let versions: string[];
    try {
      versions = readdirSync(root);
    } catch {
      continue;
    }
    const newest = versions
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => join(root, v, 'bin'))
      .find((bin) => isExecutableFile(join(bin, 'postgres')) && isExecutableFile(join(bin, 'initdb')));
    if (newest !== undefined) return newest;
  }
  return undefined;
}

/**
 * True when a Docker daemon answers `GET /_ping` with 200 on its socket: `$DOCKER_HOST` when it is
 * `unix://…` or `tcp://…`, else /var/run/docker.sock. Asked from a short-lived node child (spawnSync,
 * `timeoutMs`, default 3000) so the probe stays synchronous; no docker CLI is needed.
 */
export function dockerAnswers(options: { dockerHost?: string | undefined; timeoutMs?: number } = {}): boolean {
  const dockerHost = 'dockerHost' in options ? options.dockerHost : process.env.DOCKER_HOST;
  const timeoutMs = options.timeoutMs ?? 3_000;
  let target: Record<string, string | number>;
  if (dockerHost === undefined || dockerHost === '') target = { socketPath: '/var/run/docker.sock' };
  else if (dockerHost.startsWith('unix://')) target = { socketPath: dockerHost.slice('unix://'.length) };
  else if (dockerHost.startsWith('tcp://')) {
    const url = new URL(`http://${dockerHost.slice('tcp://'.length)}`);
    target = { host: url.hostname, port: Number(url.port || 2375) };
  } else return false;
  const script = [
    "const http = require('node:http');",
    'const target = JSON.parse(process.env.BRISK_PROBE_TARGET);',
    `const req = http.get({ ...target, path: '/_ping', timeout: ${Math.max(100, timeoutMs - 500)} }, (res) => { res.resume(); res.on('end', () => process.exit(res.statusCode === 200 ? 0 : 1)); });`,
    "req.on('timeout', () => { req.destroy(); process.exit(1); });",
    "req.on('error', () => process.exit(1));",
  ].join('\n');
  const child = spawnSync(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH ?? '', BRISK_PROBE_TARGET: JSON.stringify(target) },
    timeout: timeoutMs,
    stdio: 'ignore',
  });
  return child.status === 0;
}

/** runc on the PATH and this process running as root (runc creates namespaces and cgroups). */
export const RUNC: SystemRequirement = {
  name: 'runc',
  available: once(() => isRoot() && findOnPath('runc') !== undefined),
  reason: 'the runc container backend runs actions as OCI containers, which needs the runc binary and root',
  howToInstall: 'apt-get install -y runc (Debian/Ubuntu), and run the tests as root',
};

/** A Docker daemon that answers on its socket. */
export const DOCKER: SystemRequirement = {
  name: 'docker',
  available: once(() => dockerAnswers()),
  reason: 'the docker container backend talks to a running Docker daemon over its socket',
  howToInstall: 'apt-get install -y docker.io and start the daemon (systemctl start docker, or dockerd &); the tests need access to /var/run/docker.sock or $DOCKER_HOST',
};

/** The etcd binary on the PATH (suites start their own etcd on loopback). */
export const ETCD: SystemRequirement = {
  name: 'etcd',
  available: once(() => findOnPath('etcd') !== undefined),
  reason: 'scheduler leader election runs against a real etcd, which the suite starts itself',
  howToInstall: 'apt-get install -y etcd-server (Debian/Ubuntu), which puts etcd on the PATH',
};

/** PostgreSQL's server binaries (`postgres`, `initdb`), on the PATH or under /usr/lib/postgresql/<version>/bin. */
export const POSTGRES: SystemRequirement = {
  name: 'postgres',
  available: once(() => findPostgresBin() !== undefined),
  reason: 'the PostgreSQL store is tested against a real server, which the suite initialises and starts itself',
  howToInstall: 'apt-get install -y postgresql (Debian/Ubuntu; the binaries land in /usr/lib/postgresql/<version>/bin)',
};

/** tmux on the PATH (the live view's end-to-end test runs `brisk top` in a real terminal it creates). */
export const TMUX: SystemRequirement = {
  name: 'tmux',
  available: once(() => findOnPath('tmux') !== undefined),
  reason: 'the `brisk top` end-to-end test drives the live view in a real terminal (tmux new-session, send-keys, capture-pane)',
  howToInstall: 'apt-get install -y tmux (Debian/Ubuntu)',
};
