import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCliConfig, resolveApiTarget } from '../../../src/cli/config.js';

describe('CLI config profiles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'brisk-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts empty with the default profile current', () => {
    const config = openCliConfig({ dir });
    expect(config.currentProfile()).toBe('default');
    expect(config.profiles()).toEqual({});
    expect(config.path).toBe(join(dir, 'config.json'));
  });

  it('saves profiles, switches the current one, and reads them back from disk', async () => {
    const config = openCliConfig({ dir });
    config.saveProfile('default', { apihost: 'http://127.0.0.1:3233', auth: 'u:k' });
    config.saveProfile('prod', { apihost: 'https://prod', auth: 'p:q' }, { makeCurrent: true });
    const again = openCliConfig({ dir });
    expect(again.currentProfile()).toBe('prod');
    expect(again.profile('default')).toEqual({ apihost: 'http://127.0.0.1:3233', auth: 'u:k' });
    expect(JSON.parse(await readFile(config.path, 'utf8'))).toEqual({
      currentProfile: 'prod',
      profiles: { default: { apihost: 'http://127.0.0.1:3233', auth: 'u:k' }, prod: { apihost: 'https://prod', auth: 'p:q' } },
    });
  });

  it('takes its directory from BRISK_CONFIG_DIR', () => {
    const config = openCliConfig({ env: { BRISK_CONFIG_DIR: dir } });
    expect(config.path).toBe(join(dir, 'config.json'));
  });

  it('rejects a config file whose values do not validate', async () => {
    await writeFile(join(dir, 'config.json'), JSON.stringify({ currentProfile: 'default', profiles: { default: { apihost: 42 } } }));
    const config = openCliConfig({ dir });
    expect(() => config.profile('default')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('resolveApiTarget', () => {
  const config = {
    currentProfile: () => 'default',
    profile: (name: string) =>
      ({ default: { apihost: 'http://saved', auth: 'saved:key' }, other: { apihost: 'http://other', auth: 'other:key' } })[name],
  };

  it('uses the current profile when nothing overrides it', () => {
    expect(resolveApiTarget({ flags: {}, config, env: {} })).toEqual({ apihost: 'http://saved', auth: 'saved:key', profile: 'default' });
  });

  it('flags win over environment, environment over the profile', () => {
    expect(resolveApiTarget({ flags: { apihost: 'http://flag' }, config, env: { BRISK_APIHOST: 'http://env', BRISK_AUTH: 'env:key' } })).toEqual({
      apihost: 'http://flag',
      auth: 'env:key',
      profile: 'default',
    });
  });

  it('--profile and BRISK_PROFILE pick another profile', () => {
    expect(resolveApiTarget({ flags: { profile: 'other' }, config, env: {} }).apihost).toBe('http://other');
    expect(resolveApiTarget({ flags: {}, config, env: { BRISK_PROFILE: 'other' } }).auth).toBe('other:key');
  });

  it('an unknown --profile or nothing configured is a config error that says to run brisk up', () => {
    expect(() => resolveApiTarget({ flags: { profile: 'nope' }, config, env: {} })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    const empty = { currentProfile: () => 'default', profile: () => undefined };
    expect(() => resolveApiTarget({ flags: {}, config: empty, env: {} })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', hint: expect.stringContaining('brisk up') }));
  });
});
