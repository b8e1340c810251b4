import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractPairs, mergeParams, parseParamValue, readParamFile, toKeyValues } from '../../../src/cli/params.js';
import { limitsOf, paramsOf } from '../../../src/cli/action-flags.js';

describe('parseParamValue (JSON when valid, else the string, like wsk)', () => {
  it.each([
    ['42', 42],
    ['1.5', 1.5],
    ['true', true],
    ['null', null],
    ['{"a":[1,2]}', { a: [1, 2] }],
    ['[1,"x"]', [1, 'x']],
    ['"quoted"', 'quoted'],
    ['Ada', 'Ada'],
    ['{not json', '{not json'],
    ['', ''],
  ])('%j → %j', (raw, expected) => {
    expect(parseParamValue(raw)).toEqual(expected);
  });
});

describe('extractPairs', () => {
  it('takes -p KEY VALUE pairs out of argv, in order, and keeps the rest', () => {
    const { argv, pairs } = extractPairs(['hello', '-p', 'name', 'Ada', '--result', '--param', 'n', '3', '-b'], ['-p', '--param']);
    expect(argv).toEqual(['hello', '--result', '-b']);
    expect(pairs).toEqual([
      ['name', 'Ada'],
      ['n', '3'],
    ]);
  });

  it('leaves everything after -- alone', () => {
    expect(extractPairs(['x', '--', '-p', 'a', 'b'], ['-p'])).toEqual({ argv: ['x', '--', '-p', 'a', 'b'], pairs: [] });
  });

  it('takes values that look like flags as values', () => {
    expect(extractPairs(['-p', 'n', '-1'], ['-p']).pairs).toEqual([['n', '-1']]);
  });

  it('rejects a -p without key and value', async () => {
    expect(() => extractPairs(['hello', '-p', 'name'], ['-p'])).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

describe('parameter files and merging', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'brisk-params-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('-p pairs win over the -P file, later pairs over earlier ones', async () => {
    const file = join(dir, 'params.json');
    await writeFile(file, JSON.stringify({ name: 'File', n: 1, keep: true }));
    expect(await paramsOf(file, [['name', 'Ada'], ['n', '2'], ['n', '3']])).toEqual({ name: 'Ada', n: 3, keep: true });
  });

  it('is undefined when no parameter was given, so updates keep the old ones', async () => {
    expect(await paramsOf(undefined, [])).toBeUndefined();
  });

  it('rejects a file that is not one JSON object', async () => {
    const array = join(dir, 'array.json');
    await writeFile(array, '[1,2]');
    await expect(readParamFile(array)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{');
    await expect(readParamFile(broken)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(readParamFile(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('mergeParams and toKeyValues keep key order', () => {
    const params = mergeParams({ a: 1 }, [['b', '"two"']]);
    expect(toKeyValues(params)).toEqual([
      { key: 'a', value: 1 },
      { key: 'b', value: 'two' },
    ]);
  });
});

describe('limitsOf', () => {
  it('maps only the given flags to API limit names', () => {
    expect(limitsOf({ memory: 256, logsize: 5 })).toEqual({ memory: 256, logs: 5 });
    expect(limitsOf({ timeout: 3000, concurrency: 2 })).toEqual({ timeout: 3000, concurrency: 2 });
    expect(limitsOf({})).toEqual({});
  });
});
