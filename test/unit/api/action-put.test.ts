import { describe, expect, it } from 'vitest';
import { buildAction, mergeAnnotations, nextVersion, parseActionPut } from '../../../src/controller/api/action-put.js';
import type { ActionDoc } from '../../../src/model/action.js';

const created = (put: unknown, now = 1000): ActionDoc =>
  buildAction({ namespace: 'guest', name: 'hello', put: parseActionPut(put), existing: undefined, now });
const updated = (existing: ActionDoc, put: unknown, now = 2000): ActionDoc =>
  buildAction({ namespace: 'guest', name: 'hello', put: parseActionPut(put), existing, now });

describe('create', () => {
  it('builds the full document with defaults, resolved kind, computed binary and amended annotations', () => {
    expect(created({ exec: { kind: 'nodejs:default', code: 'function main(p) { return p }', binary: true }, name: 'ignored', namespace: 'x' })).toEqual({
      namespace: 'guest',
      name: 'hello',
      version: '0.0.1',
      publish: false,
      exec: { kind: 'nodejs:20', code: 'function main(p) { return p }', binary: false },
      parameters: [],
      limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 },
      annotations: [{ key: 'provide-api-key', value: false }, { key: 'exec', value: 'nodejs:20' }],
      updated: 1000,
    });
  });

  it('keeps main, given limits, parameters, version, publish and a given provide-api-key; overrides exec', () => {
    const doc = created({
      exec: { kind: 'nodejs:18', code: 'UEsDBA==', main: 'handler' },
      limits: { memory: 512 },
      parameters: [{ key: 'a', value: 1 }],
      annotations: [{ key: 'exec', value: 'lies' }, { key: 'provide-api-key', value: true }],
      version: '1.2.3',
      publish: true,
    });
    expect(doc.exec).toEqual({ kind: 'nodejs:18', code: 'UEsDBA==', binary: true, main: 'handler' });
    expect(doc.limits).toEqual({ timeout: 60000, memory: 512, logs: 10, concurrency: 1 });
    expect(doc.annotations).toEqual([{ key: 'exec', value: 'nodejs:18' }, { key: 'provide-api-key', value: true }]);
    expect(doc).toMatchObject({ version: '1.2.3', publish: true, parameters: [{ key: 'a', value: 1 }] });
  });

  it('requires exec', () => {
    expect(() => created({})).toThrow(expect.objectContaining({ status: 400, message: 'exec undefined' }));
  });

  it('rejects unknown kinds with the list of valid ones', () => {
    expect(() => created({ exec: { kind: 'python:3', code: 'x' } })).toThrow(
      expect.objectContaining({
        status: 400,
        message: "The specified runtime 'python:3' is not supported by this platform. Valid values are: nodejs:20, nodejs:18, nodejs:22, nodejs:default, blackbox.",
      }),
    );
  });

  it('validates limits with OpenWhisk wording', () => {
    expect(() => created({ exec: { kind: 'nodejs:20', code: 'x' }, limits: { memory: 1024 } })).toThrow(
      expect.objectContaining({ message: 'memory size 1024 MB exceeds allowed threshold of 512 MB' }),
    );
  });
});

describe('update (overwrite merge)', () => {
  const base = created({
    exec: { kind: 'nodejs:20', code: 'function main() {}' },
    parameters: [{ key: 'a', value: 1 }],
    annotations: [{ key: 'keep', value: 1 }, { key: 'drop', value: 2 }],
    limits: { timeout: 1000, memory: 128 },
    publish: true,
  });

  it('an empty body keeps everything and bumps the patch version and updated', () => {
    expect(updated(base, {})).toEqual({ ...base, version: '0.0.2', updated: 2000 });
  });

  it('merges limits per field, replaces parameters, merges annotations with delAnnotations, keeps exec', () => {
    const doc = updated(base, {
      limits: { memory: 256 },
      parameters: [{ key: 'b', value: 2 }],
      annotations: [{ key: 'keep', value: 'new' }, { key: 'added', value: true }],
      delAnnotations: ['drop'],
    });
    expect(doc.limits).toEqual({ timeout: 1000, memory: 256, logs: 10, concurrency: 1 });
    expect(doc.parameters).toEqual([{ key: 'b', value: 2 }]);
    expect(doc.annotations).toEqual([
      { key: 'keep', value: 'new' },
      { key: 'provide-api-key', value: false },
      { key: 'exec', value: 'nodejs:20' },
      { key: 'added', value: true },
    ]);
    expect(doc.exec).toEqual(base.exec);
    expect(doc.publish).toBe(true);
  });

  it('a new exec replaces the old one and the exec annotation follows the kind', () => {
    const doc = updated(base, { exec: { kind: 'nodejs:22', code: 'function main() { return {} }' }, version: '2.0.0' });
    expect(doc.exec).toEqual({ kind: 'nodejs:22', code: 'function main() { return {} }', binary: false });
    expect(doc.annotations.find((a) => a.key === 'exec')).toEqual({ key: 'exec', value: 'nodejs:22' });
    expect(doc.version).toBe('2.0.0');
  });

  it('makes updated strictly newer even when the clock has not moved', () => {
    expect(updated(base, {}, 500).updated).toBe(1001);
  });
});

describe('helpers and body validation', () => {
  it('nextVersion bumps the patch', () => {
    expect(nextVersion('0.0.1')).toBe('0.0.2');
    expect(nextVersion('1.2.9')).toBe('1.2.10');
  });
  it('mergeAnnotations removes then merges', () => {
    expect(mergeAnnotations([{ key: 'a', value: 1 }, { key: 'b', value: 2 }], [{ key: 'b', value: 3 }, { key: 'a', value: 4 }], ['a'])).toEqual([
      { key: 'b', value: 3 },
      { key: 'a', value: 4 },
    ]);
  });
  it.each([
    [[], 'The request content was malformed: the action must be a JSON object.'],
    [{ limits: { memory: 'big' } }, "The request content was malformed at 'limits.memory': Expected number, received string"],
    [{ limits: { timeout: 1.5 } }, "The request content was malformed at 'limits.timeout': Expected integer, received float"],
    [{ parameters: [{ key: 'a' }] }, "The request content was malformed at 'parameters.0': value is required"],
    [{ version: 'one' }, "The request content was malformed at 'version': version must be a semantic version major.minor.patch"],
  ])('rejects %j', (body, message) => {
    expect(() => parseActionPut(body)).toThrow(expect.objectContaining({ status: 400, message }));
  });
});

describe('blackbox actions', () => {
  it('keeps the image, and the code and main when given', () => {
    expect(created({ exec: { kind: 'blackbox', image: 'registry.local:5000/team/skeleton:1.2' } }).exec).toEqual({
      kind: 'blackbox',
      image: 'registry.local:5000/team/skeleton:1.2',
      code: '',
      binary: false,
    });
    expect(created({ exec: { kind: 'blackbox', image: 'skeleton', code: 'echo hi', main: 'run' } }).exec).toEqual({
      kind: 'blackbox',
      image: 'skeleton',
      code: 'echo hi',
      binary: false,
      main: 'run',
    });
  });

  it('refuses a blackbox without an image, an invalid image name, and an image on another kind', () => {
    expect(() => created({ exec: { kind: 'blackbox' } })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: "exec malformed: kind 'blackbox' requires 'image'." }));
    expect(() => created({ exec: { kind: 'blackbox', image: 'Bad Image; rm -rf /' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: "exec malformed: 'Bad Image; rm -rf /' is not a valid image name." }),
    );
    expect(() => created({ exec: { kind: 'nodejs:20', code: 'x', image: 'skeleton' } })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: "exec malformed: 'image' is only allowed with kind 'blackbox'." }),
    );
  });
});
