import { describe, expect, it } from 'vitest';
import { checkEntitySizes, isBinaryCode, isValidEntityName, validateLimits } from '../../../src/controller/api/entity-rules.js';

describe('isValidEntityName', () => {
  it.each(['a', 'hello', 'my-action_1', 'a b', 'x@y.z&w', '_x', '9'])('accepts %j', (name) => {
    expect(isValidEntityName(name)).toBe(true);
  });
  it.each(['', ' a', 'a ', '-a', '.a', 'a/b', 'a$', 'é', 'x'.repeat(257)])('rejects %j', (name) => {
    expect(isValidEntityName(name)).toBe(false);
  });
  it('accepts 256 characters', () => expect(isValidEntityName('x'.repeat(256))).toBe(true));
});

describe('isBinaryCode', () => {
  it.each([
    ['UEsDBA==', true],
    ['UEsDBAo=', true],
    ['UEsDBAoK', true],
    ['  UEsDBAoK \n', true],
    ['function', true], // 8 base64 characters: binary by OpenWhisk's rule too
    ['function main() {}', false],
    ['UEsDBA=', false],
    ['UEs=DBAo', false],
    ['UE-_', false],
    ['', false],
    ['   ', false],
  ])('%j → %s', (code, expected) => {
    expect(isBinaryCode(code)).toBe(expected);
  });
  it('recognises real base64 of bytes', () => {
    expect(isBinaryCode(Buffer.from([0, 1, 2, 250, 251, 252, 7]).toString('base64'))).toBe(true);
  });
});

describe('validateLimits', () => {
  it.each([
    [{ memory: 1024 }, 'memory size 1024 MB exceeds allowed threshold of 512 MB'],
    [{ memory: 64 }, 'memory size 64 MB below allowed threshold of 128 MB'],
    [{ timeout: 50 }, 'duration 50 milliseconds below allowed threshold of 100 milliseconds'],
    [{ timeout: 300001 }, 'duration 300001 milliseconds exceeds allowed threshold of 300000 milliseconds'],
    [{ logs: 11 }, 'log size 11 MB exceeds allowed threshold of 10 MB'],
    [{ logs: -1 }, 'log size -1 MB below allowed threshold of 0 MB'],
    [{ concurrency: 0 }, 'concurrency 0 below allowed threshold of 1'],
    [{ concurrency: 501 }, 'concurrency 501 exceeds allowed threshold of 500'],
  ])('%j → %s', (limits, message) => {
    expect(() => validateLimits(limits)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', status: 400, message }));
  });
  it('accepts the bounds', () => {
    expect(() => validateLimits({ memory: 128, timeout: 300000, logs: 0, concurrency: 1 })).not.toThrow();
    expect(() => validateLimits({ memory: 512, timeout: 100, logs: 10, concurrency: 500 })).not.toThrow();
  });
});

describe('checkEntitySizes', () => {
  it('refuses parameters over 1 MB with a 413', () => {
    const parameters = [{ key: 'big', value: 'x'.repeat(1024 * 1024) }];
    const size = Buffer.byteLength(JSON.stringify(parameters));
    expect(() => checkEntitySizes({ parameters })).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE', status: 413, message: `parameters larger than allowed: ${size} > 1048576 bytes.` }),
    );
  });
  it('refuses code over 48 MB with a 413', () => {
    const code = 'x'.repeat(48 * 1024 * 1024 + 1);
    expect(() => checkEntitySizes({ code })).toThrow(
      expect.objectContaining({ status: 413, message: `exec larger than allowed: ${code.length} > 50331648 bytes.` }),
    );
  });
  it('accepts annotations just under the limit', () => {
    expect(() => checkEntitySizes({ annotations: [{ key: 'a', value: 'x' }] })).not.toThrow();
  });
});
