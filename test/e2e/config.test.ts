/** `brisk config` as an operator runs it: the built CLI with a private BRISK_CONFIG_DIR. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { brisk, cliEnv, requireBuild } from './support.js';

describe('brisk config (built CLI)', () => {
  let configDir: string;
  beforeAll(() => requireBuild());
  beforeEach(async () => {
    configDir = await mkdtemp(join(tmpdir(), 'brisk-e2e-config-'));
  });
  afterEach(async () => {
    await rm(configDir, { recursive: true, force: true });
  });

  it('creates profiles, sets and reads keys, switches, and refuses bad input with the valid keys', async () => {
    const env = cliEnv(configDir);
    expect((await brisk(['config', 'create', 'prod', '--apihost', 'https://prod.example:3233/', '--auth', 'u1:k1'], env)).json).toEqual({
      status: 0,
      result: { profile: 'prod', current: false, settings: { apihost: 'https://prod.example:3233', auth: 'u1:k1' } },
    });
    expect((await brisk(['config', 'set', 'namespace', 'team', '--profile', 'prod'], env)).json.status).toBe(0);
    expect((await brisk(['config', 'use', 'prod'], env)).json).toEqual({ status: 0, result: { currentProfile: 'prod' } });
    expect((await brisk(['config', 'get', 'namespace'], env)).json).toEqual({ status: 0, result: { profile: 'prod', key: 'namespace', value: 'team' } });
    const bad = await brisk(['config', 'set', 'colour', 'blue'], env);
    expect(bad.exitCode).toBe(2);
    expect(bad.json).toMatchObject({ status: 2, code: 'CONFIG_INVALID', message: "Unknown config key 'colour'. Valid keys: apihost, auth, namespace." });
    const list = await brisk(['config', 'list'], env);
    expect(list.json).toEqual({
      status: 0,
      result: { configFile: join(configDir, 'config.json'), currentProfile: 'prod', profiles: [{ name: 'prod', current: true, settings: { apihost: 'https://prod.example:3233', auth: 'u1:k1', namespace: 'team' } }] },
    });
    // An API command on the saved profile goes to its host (nothing listens there: unreachable, exit 4).
    const env2 = cliEnv(configDir);
    expect((await brisk(['config', 'set', 'apihost', 'http://127.0.0.1:9', '--profile', 'prod'], env2)).json.status).toBe(0);
    const unreachable = await brisk(['action', 'list'], env2);
    expect(unreachable.json).toMatchObject({ status: 4, code: 'API_UNREACHABLE' });
    expect((await brisk(['config', 'delete', 'prod'], env)).json).toEqual({ status: 0, result: { profile: 'prod', currentProfile: 'default' } });
    expect(JSON.parse(await readFile(join(configDir, 'config.json'), 'utf8'))).toEqual({ currentProfile: 'default', profiles: {} });
  });
});
