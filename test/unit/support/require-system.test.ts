import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DOCKER,
  ETCD,
  MissingSystemComponentError,
  POSTGRES,
  RUNC,
  decideGate,
  dockerAnswers,
  findOnPath,
  findPostgresBin,
  requireAllSuites,
  requireSystem,
  type SystemRequirement,
} from '../../support/require-system.js';

const requirement = { name: 'runc', reason: 'the runc backend needs it', howToInstall: 'apt-get install -y runc' };

describe('requireAllSuites', () => {
  it.each([
    ['1', true],
    ['true', true],
    [' TRUE ', true],
    [undefined, false],
    ['', false],
    ['0', false],
    ['false', false],
    ['yes', false],
  ])('%j → %s', (value, expected) => {
    expect(requireAllSuites(value)).toBe(expected);
  });
});

describe('decideGate', () => {
  it('runs the suite when the component is there, whatever the environment says', () => {
    expect(decideGate({ requirement, available: true, requireAll: false })).toEqual({ action: 'run' });
    expect(decideGate({ requirement, available: true, requireAll: true })).toEqual({ action: 'run' });
  });

  it('skips with the component, the reason and how to install it when it is missing', () => {
    expect(decideGate({ requirement, available: false, requireAll: false })).toEqual({
      action: 'skip',
      message:
        'skipped: runc is not available (the runc backend needs it); to install: apt-get install -y runc. (BRISK_REQUIRE_ALL_SUITES=1 turns this skip into a failure.)',
    });
  });

  it('fails instead of skipping when every suite is required', () => {
    expect(decideGate({ requirement, available: false, requireAll: true })).toEqual({
      action: 'fail',
      message: 'BRISK_REQUIRE_ALL_SUITES=1 requires every suite, but runc is not available (the runc backend needs it); to install: apt-get install -y runc.',
    });
  });
});

describe('requireSystem', () => {
  const missing: SystemRequirement = { ...requirement, available: () => false };
  beforeEach(() => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('answers skip: false for a component that is there (sync or async probe)', async () => {
    await expect(requireSystem({ ...requirement, available: () => true }, { env: {} })).resolves.toEqual({ skip: false, reason: '' });
    await expect(requireSystem({ ...requirement, available: async () => true }, { env: {} })).resolves.toEqual({ skip: false, reason: '' });
  });

  it('answers skip: true with the reason when the component is missing', async () => {
    const gate = await requireSystem(missing, { env: { BRISK_REQUIRE_ALL_SUITES: '0' } });
    expect(gate).toEqual({
      skip: true,
      reason:
        'skipped: runc is not available (the runc backend needs it); to install: apt-get install -y runc. (BRISK_REQUIRE_ALL_SUITES=1 turns this skip into a failure.)',
    });
  });

  it('throws naming the component when it is missing and BRISK_REQUIRE_ALL_SUITES=1', async () => {
    await expect(requireSystem(missing, { env: { BRISK_REQUIRE_ALL_SUITES: '1' } })).rejects.toBeInstanceOf(MissingSystemComponentError);
    await expect(requireSystem(missing, { env: { BRISK_REQUIRE_ALL_SUITES: '1' } })).rejects.toThrow(
      'BRISK_REQUIRE_ALL_SUITES=1 requires every suite, but runc is not available (the runc backend needs it); to install: apt-get install -y runc.',
    );
  });

  it('treats a probe that throws as a missing component', async () => {
    const broken: SystemRequirement = {
      ...requirement,
      available: () => {
        throw new Error('probe crashed');
      },
    };
    await expect(requireSystem(broken, { env: { BRISK_REQUIRE_ALL_SUITES: '1' } })).rejects.toBeInstanceOf(MissingSystemComponentError);
  });
});

describe('probes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'brisk-require-system-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function executable(file: string): string {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, '#!/bin/sh\nexit 0\n');
    chmodSync(file, 0o755);
    return file;
  }

  it('findOnPath finds executables only, in PATH order', () => {
    const first = join(dir, 'a');
    const second = join(dir, 'b');
    mkdirSync(first);
    writeFileSync(join(first, 'etcd'), 'not executable', { mode: 0o644 });
    const found = executable(join(second, 'etcd'));
    expect(findOnPath('etcd', [first, second].join(delimiter))).toBe(found);
    expect(findOnPath('runc', [first, second].join(delimiter))).toBeUndefined();
    expect(findOnPath('etcd', '')).toBeUndefined();
  });

  it('findPostgresBin prefers the PATH, else the newest versioned directory that has both binaries', () => {
    const root = join(dir, 'postgresql');
    executable(join(root, '15', 'bin', 'postgres'));
    executable(join(root, '15', 'bin', 'initdb'));
    executable(join(root, '16', 'bin', 'postgres'));
    executable(join(root, '16', 'bin', 'initdb'));
    executable(join(root, '17', 'bin', 'postgres')); // no initdb: not a server installation
    expect(findPostgresBin({ pathEnv: '', roots: [root] })).toBe(join(root, '16', 'bin'));

    const onPath = join(dir, 'path');
    executable(join(onPath, 'postgres'));
    executable(join(onPath, 'initdb'));
    expect(findPostgresBin({ pathEnv: onPath, roots: [root] })).toBe(onPath);
    expect(findPostgresBin({ pathEnv: '', roots: [join(dir, 'none')] })).toBeUndefined();
  });

  it('dockerAnswers is false when nothing listens on the socket', () => {
    expect(dockerAnswers({ dockerHost: `unix://${join(dir, 'docker.sock')}` })).toBe(false);
    expect(dockerAnswers({ dockerHost: 'ssh://somewhere' })).toBe(false);
  });

  it('every ready-made probe names its component, why and how to install it', () => {
    expect([RUNC, DOCKER, ETCD, POSTGRES].map((r) => r.name)).toEqual(['runc', 'docker', 'etcd', 'postgres']);
    for (const r of [RUNC, DOCKER, ETCD, POSTGRES]) {
      expect(r.reason.length).toBeGreaterThan(0);
      expect(r.howToInstall).toMatch(/apt-get install -y/);
    }
  });
});
