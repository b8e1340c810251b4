import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { actionPutOf, invokeResultOf, readActionCode } from '../../../src/cli/actions.js';
import type { ActivationView } from '../../../src/client/types.js';

describe('action code and PUT bodies', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'brisk-actions-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads .js as source with kind nodejs:default unless --kind is given', async () => {
    const file = join(dir, 'a.js');
    await writeFile(file, 'function main() { return {} }');
    expect(await readActionCode(file, undefined)).toEqual({ code: 'function main() { return {} }', kind: 'nodejs:default' });
    expect((await readActionCode(file, 'nodejs:22')).kind).toBe('nodejs:22');
  });

  it('sends .zip files base64, and needs --kind for unknown extensions', async () => {
    const zip = join(dir, 'a.zip');
    await writeFile(zip, Buffer.from([1, 2, 3]));
    expect(await readActionCode(zip, undefined)).toEqual({ code: 'AQID', kind: 'nodejs:default' });
    const py = join(dir, 'a.py');
    await writeFile(py, 'x');
    await expect(readActionCode(py, undefined)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(readActionCode(join(dir, 'missing.js'), undefined)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('builds a body with only what was given', () => {
    expect(actionPutOf({ name: 'a' }, undefined)).toEqual({});
    expect(actionPutOf({ name: 'a', main: 'run', params: { x: 1 }, limits: { memory: 128, timeout: undefined } }, { code: 'c', kind: 'nodejs:20' })).toEqual({
      exec: { kind: 'nodejs:20', code: 'c', main: 'run' },
      parameters: [{ key: 'x', value: 1 }],
      limits: { memory: 128 },
    });
  });
});

describe('invokeResultOf', () => {
  const activation = (success: boolean): ActivationView => ({
    namespace: 'guest',
    name: 'hello',
    activationId: 'a'.repeat(32),
    start: 1,
    response: success ? { status: 'success', success: true, result: { greeting: 'hi' } } : { status: 'action developer error', success: false, result: { error: 'crashed' } },
    logs: [],
    annotations: [],
  });

  it('accepted → {activationId}; --result → the result; else the record', () => {
    expect(invokeResultOf({ kind: 'accepted', activationId: 'x' }, { result: true })).toEqual({ activationId: 'x' });
    expect(invokeResultOf({ kind: 'completed', activation: activation(true) }, { result: true })).toEqual({ greeting: 'hi' });
    expect(invokeResultOf({ kind: 'completed', activation: activation(true) }, { result: false })).toEqual(activation(true));
  });

  it('a failed activation throws ActivationFailedError with its result', () => {
    expect(() => invokeResultOf({ kind: 'completed', activation: activation(false) }, { result: true })).toThrow(
      expect.objectContaining({ code: 'ACTIVATION_FAILED', activationId: 'a'.repeat(32), statusText: 'action developer error', result: { error: 'crashed' } }),
    );
  });
});
