/**
 * The data directory every daemon of one installation shares (SQLite store, agent state, the cluster
 * token), and the cluster token kept in it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';

/** Default: `.brisk-data` under the working directory (git-ignored), so a checkout keeps its own state. */
export const DEFAULT_DATA_DIR = '.brisk-data';
export const TOKEN_FILE = 'cluster-token';
export const STORE_FILE = 'brisk.db';
export const AGENT_DIR = 'agent';

/** The absolute data directory: the flag, else `$BRISK_DATA_DIR`, else `<cwd>/.brisk-data`. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? (env.BRISK_DATA_DIR !== undefined && env.BRISK_DATA_DIR !== '' ? env.BRISK_DATA_DIR : DEFAULT_DATA_DIR);
  return resolve(chosen);
}

export async function ensureDataDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigError(`Cannot create the data directory ${dir}.`, { cause: error, hint: 'Pass a writable --data-dir.' });
  }
}

const TOKEN_PATTERN = /^[\x21-\x7e]{16,200}$/;

export type TokenSource = 'flag' | 'env' | 'file' | 'created';

export interface ResolveTokenOptions {
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv;
  dataDir: string;
  /** create and save a random token when none is found (the scheduler and `brisk up` do; agents and controllers do not) */
  create: boolean;
}

/**
 * The cluster token, by precedence: `--token`, `$BRISK_CLUSTER_TOKEN`, the token file in the data dir;
 * else a new random one saved there (mode 0600) when `create`, else ConfigError.
 */
export async function resolveClusterToken(options: ResolveTokenOptions): Promise<{ token: string; source: TokenSource }> {
  const env = options.env ?? process.env;
  const check = (token: string, where: string) => {
    if (!TOKEN_PATTERN.test(token)) throw new ConfigError(`The cluster token from ${where} must be 16 to 200 printable characters without spaces.`);
    return token;
  };
  if (options.flag !== undefined) return { token: check(options.flag, '--token'), source: 'flag' };
  if (env.BRISK_CLUSTER_TOKEN !== undefined && env.BRISK_CLUSTER_TOKEN !== '') return { token: check(env.BRISK_CLUSTER_TOKEN, 'BRISK_CLUSTER_TOKEN'), source: 'env' };
  const file = join(options.dataDir, TOKEN_FILE);
  try {
    return { token: check((await readFile(file, 'utf8')).trim(), file), source: 'file' };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (!options.create) {
    throw new ConfigError(`No cluster token: there is no --token, no BRISK_CLUSTER_TOKEN and no ${file}.`, {
      hint: 'Pass the scheduler\'s token with --token or BRISK_CLUSTER_TOKEN, or use the scheduler\'s --data-dir.',
    });
  }
  await ensureDataDir(options.dataDir);
  const token = randomBytes(32).toString('hex');
  // 'wx': two daemons starting at once must not overwrite each other's token.
  try {
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { token: check((await readFile(file, 'utf8')).trim(), file), source: 'file' };
    throw error;
  }
  return { token, source: 'created' };
}

/** Agent capacity when --memory is not given: half the host's memory in 128 MB steps, between 256 and 2048 MB. */
export function defaultAgentMemoryMB(totalBytes: number): number {
  const half = Math.floor(totalBytes / 2 / (1024 * 1024) / 128) * 128;
  return Math.min(2048, Math.max(256, half));
}
