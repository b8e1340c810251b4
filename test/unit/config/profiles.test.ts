/**
 * Profiles and keys of the CLI config: the library (validation, profile lifecycle, API target with a
 * namespace) and the `brisk config` commands in-process with a private BRISK_CONFIG_DIR.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { listProfiles, maskAuth, openCliConfig, parseConfigKey, resolveApiTarget, selectedProfile, validateConfigValue } from '../../../src/cli/config.js';
import ActionList from '../../../src/commands/action/list.js';
import ConfigCreate from '../../../src/commands/config/create.js';
import ConfigDelete from '../../../src/commands/config/delete.js';
import ConfigGet from '../../../src/commands/config/get.js';
import ConfigList from '../../../src/commands/config/list.js';
import ConfigSet from '../../../src/commands/config/set.js';
import ConfigUnset from '../../../src/commands/config/unset.js';
import ConfigUse from '../../../src/commands/config/use.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const AUTH = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';

describe('config keys', () => {
  it('names the valid keys when one is unknown', () => {
    expect(() => parseConfigKey('apiHost')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: "Unknown config key 'apiHost'. Valid keys: apihost, auth, namespace." }));
  });

  it('validates and normalises values per key', () => {
    expect(validateConfigValue('apihost', 'https://brisk.example:3233/')).toBe('https://brisk.example:3233');
    expect(() => validateConfigValue('apihost', 'brisk.example')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: "Invalid value for apihost: 'brisk.example' is not a URL." }));
    expect(() => validateConfigValue('apihost', 'ftp://x')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(validateConfigValue('auth', AUTH)).toBe(AUTH);
    for (const bad of ['nokey', 'a:b:c', 'a: b', ':k']) expect(() => validateConfigValue('auth', bad)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(validateConfigValue('namespace', 'guest')).toBe('guest');
    expect(validateConfigValue('namespace', '_')).toBe('_');
    expect(() => validateConfigValue('namespace', 'a/b')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('masks keys for tables', () => {
    expect(maskAuth(AUTH)).toBe('23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123z…');
  });
});

describe('profiles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'brisk-profiles-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sets keys (creating the profile), unsets them, and keeps them when brisk up saves the profile again', async () => {
    const config = openCliConfig({ dir });
    expect(config.setKey('default', 'namespace', 'guest')).toBe('guest');
    config.saveProfile('default', { apihost: 'http://127.0.0.1:3233', auth: 'u:k' }, { makeCurrent: true });
    expect(config.profile('default')).toEqual({ namespace: 'guest', apihost: 'http://127.0.0.1:3233', auth: 'u:k' });
    config.unsetKey('default', 'namespace');
    expect(JSON.parse(await readFile(config.path, 'utf8'))).toEqual({ currentProfile: 'default', profiles: { default: { apihost: 'http://127.0.0.1:3233', auth: 'u:k' } } });
    expect(() => config.unsetKey('nope', 'auth')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('creates, uses and deletes profiles', () => {
    const config = openCliConfig({ dir });
    config.createProfile('prod', { apihost: 'https://prod', auth: 'p:q' });
    expect(() => config.createProfile('prod')).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(() => config.createProfile('bad name')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => config.createProfile('x', { auth: 'nocolon' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => config.useProfile('staging')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    config.useProfile('prod');
    expect(config.currentProfile()).toBe('prod');
    config.createProfile('dev', {}, { makeCurrent: true });
    expect(listProfiles(config)).toEqual([
      { name: 'dev', current: true, settings: {} },
      { name: 'prod', current: false, settings: { apihost: 'https://prod', auth: 'p:q' } },
    ]);
    config.deleteProfile('dev');
    expect(config.currentProfile()).toBe('default');
    expect(() => config.deleteProfile('dev')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('selects the profile by flag, then BRISK_PROFILE, then the current one', () => {
    const config = { currentProfile: () => 'cur' };
    expect(selectedProfile({ flag: 'f', config, env: { BRISK_PROFILE: 'e' } })).toBe('f');
    expect(selectedProfile({ config, env: { BRISK_PROFILE: 'e' } })).toBe('e');
    expect(selectedProfile({ config, env: {} })).toBe('cur');
  });

  it('takes the namespace from the profile with its credentials, or from BRISK_NAMESPACE', () => {
    const config = { currentProfile: () => 'default', profile: () => ({ apihost: 'http://saved', auth: 'u:k', namespace: 'team' }) };
    expect(resolveApiTarget({ flags: {}, config, env: {} })).toEqual({ apihost: 'http://saved', auth: 'u:k', profile: 'default', namespace: 'team' });
    expect(resolveApiTarget({ flags: {}, config, env: { BRISK_NAMESPACE: 'other' } }).namespace).toBe('other');
    expect(resolveApiTarget({ flags: { apihost: 'http://x', auth: 'a:b' }, config, env: {} }).namespace).toBeUndefined();
  });
});

describe('brisk config commands in-process', () => {
  let configDir: string;
  let savedEnv: Record<string, string | undefined>;
  let out: string[];
  let server: Server | undefined;

  beforeEach(async () => {
    configDir = await mkdtemp(join(tmpdir(), 'brisk-config-cmd-'));
    savedEnv = { BRISK_CONFIG_DIR: process.env.BRISK_CONFIG_DIR, BRISK_PROFILE: process.env.BRISK_PROFILE, BRISK_APIHOST: process.env.BRISK_APIHOST, BRISK_AUTH: process.env.BRISK_AUTH };
    process.env.BRISK_CONFIG_DIR = configDir;
    for (const name of ['BRISK_PROFILE', 'BRISK_APIHOST', 'BRISK_AUTH']) delete process.env[name];
    out = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    await rm(configDir, { recursive: true, force: true });
  });

  const json = () => JSON.parse(out.join('')) as { status: number; result?: unknown; code?: string; message?: string };

  it('set, get, list, unset with --json envelopes', async () => {
    await ConfigSet.run(['apihost', 'http://127.0.0.1:9/', '--json'], ROOT);
    expect(json()).toEqual({ status: 0, result: { profile: 'default', key: 'apihost', value: 'http://127.0.0.1:9' } });
    out = [];
    await ConfigSet.run(['auth', AUTH, '--profile', 'prod', '--json'], ROOT);
    out = [];
    await ConfigGet.run(['auth', '--profile', 'prod', '--json'], ROOT);
    expect(json()).toEqual({ status: 0, result: { profile: 'prod', key: 'auth', value: AUTH } });
    out = [];
    await ConfigList.run(['--json'], ROOT);
    expect(json()).toEqual({
      status: 0,
      result: {
        configFile: join(configDir, 'config.json'),
        currentProfile: 'default',
        profiles: [
          { name: 'default', current: true, settings: { apihost: 'http://127.0.0.1:9' } },
          { name: 'prod', current: false, settings: { auth: AUTH } },
        ],
      },
    });
    out = [];
    await ConfigList.run([], ROOT);
    expect(out.join('')).toBe(
      ['profile    apihost             auth                                        namespace', '* default  http://127.0.0.1:9', '  prod                         23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123z…', ''].join('\n'),
    );
    out = [];
    await ConfigUnset.run(['apihost', '--json'], ROOT);
    out = [];
    await ConfigGet.run(['apihost', '--json'], ROOT);
    expect(json()).toMatchObject({ status: 3, code: 'NOT_FOUND', message: "apihost is not set in profile 'default'." });
    expect(process.exitCode).toBe(3);
  });

  it('refuses an unknown key and a bad value with exit 2 and the valid keys', async () => {
    await ConfigSet.run(['host', 'x', '--json'], ROOT);
    expect(json()).toMatchObject({ status: 2, code: 'CONFIG_INVALID', message: "Unknown config key 'host'. Valid keys: apihost, auth, namespace." });
    out = [];
    await ConfigSet.run(['auth', 'justakey', '--json'], ROOT);
    expect(json()).toMatchObject({ status: 2, code: 'CONFIG_INVALID', message: 'Invalid value for auth: expected UUID:KEY (two parts separated by one colon, no spaces).' });
  });

  it('create, use and delete; API commands follow --profile and the current profile', async () => {
    const seen: string[] = [];
    server = createServer((req, res) => {
      seen.push(`${req.headers.authorization} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const apihost = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await ConfigCreate.run(['team', '--apihost', apihost, '--auth', 'a:b', '--namespace', 'team-ns', '--json'], ROOT);
    expect(json()).toEqual({ status: 0, result: { profile: 'team', current: false, settings: { apihost, auth: 'a:b', namespace: 'team-ns' } } });
    await ConfigCreate.run(['other', '--apihost', apihost, '--auth', 'c:d', '--use'], ROOT);
    await ActionList.run(['--profile', 'team', '--json'], ROOT);
    await ActionList.run(['--json'], ROOT);
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    expect(seen.map((s) => s.replace(/\?.*$/, ''))).toEqual([`${basic('a:b')} /api/v1/namespaces/team-ns/actions`, `${basic('c:d')} /api/v1/namespaces/_/actions`]);
    out = [];
    await ConfigUse.run(['team', '--json'], ROOT);
    expect(json()).toEqual({ status: 0, result: { currentProfile: 'team' } });
    out = [];
    await ConfigDelete.run(['team', '--json'], ROOT);
    expect(json()).toEqual({ status: 0, result: { profile: 'team', currentProfile: 'default' } });
    out = [];
    await ConfigUse.run(['team', '--json'], ROOT);
    expect(json()).toMatchObject({ status: 3, code: 'NOT_FOUND' });
  });
});
