import { describe, expect, it } from 'vitest';
import { loadAction } from '../../../src/runtime/action.js';
import { activationEnv, type ActivationContext } from '../../../src/runtime/context.js';
import { classifyOutcome, NOT_A_DICTIONARY, serializeError } from '../../../src/runtime/result.js';
import { ActionRuntime, Messages } from '../../../src/runtime/runtime.js';

describe('classifyOutcome', () => {
  it('maps returned values', () => {
    expect(classifyOutcome({ kind: 'returned', value: undefined })).toEqual({ status: 200, body: {}, stop: false });
    expect(classifyOutcome({ kind: 'returned', value: null })).toEqual({ status: 200, body: {}, stop: false });
    expect(classifyOutcome({ kind: 'returned', value: { a: 1 } })).toEqual({ status: 200, body: { a: 1 }, stop: false });
    expect(classifyOutcome({ kind: 'returned', value: [1, 2] })).toEqual({ status: 200, body: [1, 2], stop: false });
    expect(classifyOutcome({ kind: 'returned', value: 'text' })).toEqual({ status: 502, body: { error: NOT_A_DICTIONARY }, stop: false });
  });

  it('turns a rejection into an application error and a throw into a stop', () => {
    expect(classifyOutcome({ kind: 'rejected', reason: { code: 7 } })).toEqual({ status: 200, body: { error: { code: 7 } }, stop: false });
    expect(classifyOutcome({ kind: 'rejected', reason: undefined })).toEqual({ status: 200, body: { error: {} }, stop: false });
    expect(classifyOutcome({ kind: 'threw', error: new TypeError('boom') })).toEqual({
      status: 502,
      body: { error: 'An error has occurred: TypeError: boom' },
      stop: true,
    });
  });

  it('serializes errors with name, message, stack and own fields', () => {
    const err = Object.assign(new Error('bad'), { status: 4 });
    const out = serializeError(err) as Record<string, unknown>;
    expect(out).toMatchObject({ name: 'Error', message: 'bad', status: 4 });
    expect(typeof out.stack).toBe('string');
    expect(serializeError('plain')).toBe('plain');
  });
});

describe('loadAction', () => {
  it('finds a top-level function main', () => {
    const fn = loadAction({ code: 'function main(p) { return { v: p.x + 1 } }' });
    expect(fn({ x: 1 })).toEqual({ v: 2 });
  });

  it('supports module.exports and exports.main and another entry name', () => {
    expect(loadAction({ code: 'module.exports = (p) => ({ m: 1 })' })({})).toEqual({ m: 1 });
    expect(loadAction({ code: 'exports.main = () => ({ e: 1 })' })({})).toEqual({ e: 1 });
    expect(loadAction({ code: 'module.exports.handler = () => ({ h: 1 })', main: 'handler' })({})).toEqual({ h: 1 });
    expect(loadAction({ code: 'function go() { return { g: 1 } }', main: 'go' })({})).toEqual({ g: 1 });
  });

  it('gives require to the code', () => {
    expect(loadAction({ code: 'const os = require("node:os"); function main() { return { eol: os.EOL } }' })({})).toEqual({ eol: '\n' });
  });

  it('rejects a missing entry, an invalid entry name and syntax errors', () => {
    expect(() => loadAction({ code: 'function other() {}' })).toThrow("Action entrypoint 'main' is not a function.");
    expect(() => loadAction({ code: 'function main() {}', main: 'main()' })).toThrow('not a valid identifier');
    expect(() => loadAction({ code: 'function main( {' })).toThrow(SyntaxError);
  });
});

describe('activationEnv', () => {
  it('maps string fields except value to __OW_ variables', () => {
    expect(activationEnv({ value: 'x', activation_id: 'a1', deadline: '5', namespace: 'guest', num: 3 })).toEqual({
      __OW_ACTIVATION_ID: 'a1',
      __OW_DEADLINE: '5',
      __OW_NAMESPACE: 'guest',
    });
  });
});

describe('ActionRuntime', () => {
  const init = (runtime: ActionRuntime, code: string, extra: Record<string, unknown> = {}) =>
    runtime.init({ value: { name: 'a', main: 'main', code, ...extra } });

  it('initializes once', () => {
    const runtime = new ActionRuntime();
    expect(init(runtime, 'function main() { return {} }')).toEqual({ status: 200, body: { OK: true } });
    expect(init(runtime, 'function main() { return {} }')).toEqual({ status: 403, body: { error: Messages.initTwice } });
  });

  it('answers 403 for missing code or main and stays initializable', () => {
    const runtime = new ActionRuntime();
    expect(runtime.init({ value: { main: 'main' } })).toEqual({ status: 403, body: { error: Messages.missingCode } });
    expect(runtime.status).toBe('uninitialized');
  });

  it('stops after a failed init and refuses runs', async () => {
    let sentinels = 0;
    const runtime = new ActionRuntime({ onInitFailed: () => sentinels++ });
    const reply = init(runtime, 'function main( {');
    expect(reply.status).toBe(502);
    expect((reply.body as { error: string }).error).toMatch(/^Initialization has failed due to: [^]*SyntaxError: Unexpected token/);
    expect(sentinels).toBe(1);
    expect(runtime.status).toBe('stopped');
    await expect(runtime.run({ value: {} })).resolves.toEqual({ status: 403, body: { error: 'System not ready, status is stopped.' } });
  });

  it('fails the init of a broken zip with a clear message and stops', () => {
    const runtime = new ActionRuntime();
    const reply = init(runtime, 'UEsDBA==', { binary: true });
    expect(reply).toEqual({ status: 502, body: { error: expect.stringContaining('There was an error uncompressing the action archive') } });
    expect(runtime.status).toBe('stopped');
  });

  it('runs before init → 403, value not an object → 403', async () => {
    const runtime = new ActionRuntime();
    await expect(runtime.run({ value: {} })).resolves.toEqual({ status: 403, body: { error: Messages.notInitialized } });
    init(runtime, 'function main(p) { return p }');
    await expect(runtime.run({ value: 5 })).resolves.toEqual({ status: 403, body: { error: Messages.notAnObject } });
  });

  it('runs sync and async actions, and maps rejections and throws', async () => {
    const runtime = new ActionRuntime();
    init(runtime, `async function main(p) {
      if (p.mode === 'reject') throw { why: 'no' };
      if (p.mode === 'undefined') return undefined;
      return { got: p.x };
    }`);
    await expect(runtime.run({ value: { x: 1 } })).resolves.toEqual({ status: 200, body: { got: 1 } });
    await expect(runtime.run({ value: { mode: 'undefined' } })).resolves.toEqual({ status: 200, body: {} });
    await expect(runtime.run({ value: { mode: 'reject' } })).resolves.toEqual({ status: 200, body: { error: { why: 'no' } } });

    const throwing = new ActionRuntime();
    init(throwing, 'function main() { throw new Error("sync") }');
    await expect(throwing.run({ value: {} })).resolves.toEqual({ status: 502, body: { error: 'An error has occurred: Error: sync' } });
    expect(throwing.status).toBe('stopped');
  });

  it('refuses overlapping runs unless concurrency is allowed', async () => {
    const code = 'let release; const gate = new Promise((r) => (release = r)); function main(p) { if (p.open) release(); return gate.then(() => ({ ok: true })) }';
    const single = new ActionRuntime();
    init(single, code);
    const first = single.run({ value: {} });
    await expect(single.run({ value: { open: true } })).resolves.toEqual({ status: 403, body: { error: 'System not ready, status is running.' } });

    const concurrent = new ActionRuntime({ allowConcurrent: true });
    init(concurrent, code);
    const a = concurrent.run({ value: {} });
    const b = concurrent.run({ value: { open: true } });
    await expect(Promise.all([a, b])).resolves.toEqual([
      { status: 200, body: { ok: true } },
      { status: 200, body: { ok: true } },
    ]);
    // release the single runtime's gate through a new runtime? it shares no state: end it with a concurrent-free check
    expect(single.status).toBe('running');
    void first;
  });

  it('reports the end of every activation', async () => {
    const ended: (string | undefined)[] = [];
    const runtime = new ActionRuntime({ onActivationEnd: (c) => ended.push(c.activationId) });
    init(runtime, 'function main() { return {} }');
    await runtime.run({ value: {}, activation_id: 'abc123' });
    await runtime.run({ value: {}, activation_id: 'bad id!' });
    expect(ended).toEqual(['abc123', undefined]);
  });

  describe('fail (an error escaped the action asynchronously)', () => {
    // every run waits on a gate the test never opens, unless p.now: then it returns at once
    const code = `const gate = new Promise(() => {}); async function main(p) { if (p.now) return { now: true }; await gate; return { late: true } }`;
    const boom = new Error('async boom');

    function started() {
      const ended: (string | undefined)[] = [];
      const runtime = new ActionRuntime({ allowConcurrent: true, onActivationEnd: (c) => ended.push(c.activationId) });
      init(runtime, code);
      return { runtime, ended };
    }

    it('answers the culprit like a throw and the others as not their fault, then refuses work', async () => {
      const { runtime, ended } = started();
      const culpritRun = runtime.run({ value: {}, activation_id: 'c1' });
      const siblingRun = runtime.run({ value: {}, activation_id: 's1' });
      const culprit = runtime.inFlight().find((c) => c.activationId === 'c1');
      expect(runtime.inFlight().map((c) => c.activationId)).toEqual(['c1', 's1']);
      expect(runtime.fail({ error: boom, culprit })).toBe(2);
      await expect(culpritRun).resolves.toEqual({ status: 502, body: { error: 'An error has occurred: Error: async boom' } });
      await expect(siblingRun).resolves.toEqual({
        status: 502,
        body: { error: "The action's container failed because another activation threw an uncaught error: Error: async boom" },
      });
      expect(ended).toEqual(['c1', 's1']);
      expect(runtime.status).toBe('stopped');
      expect(runtime.inFlight()).toEqual([]);
      await expect(runtime.run({ value: {}, activation_id: 'n1' })).resolves.toEqual({ status: 403, body: { error: 'System not ready, status is stopped.' } });
      expect(init(runtime, code).status).toBe(403);
      expect(ended).toEqual(['c1', 's1']);
    });

    it('keeps the reply of a culprit that already returned', async () => {
      const { runtime, ended } = started();
      let culprit: ActivationContext | undefined;
      const done = new ActionRuntime({ allowConcurrent: true, onActivationEnd: (c) => (culprit = c) });
      init(done, code);
      await expect(done.run({ value: { now: true }, activation_id: 'c1' })).resolves.toEqual({ status: 200, body: { now: true } });
      expect(done.fail({ error: boom, culprit })).toBe(0);
      expect(done.status).toBe('stopped');

      // a runtime with an innocent in flight when a finished activation's error arrives
      const sibling = runtime.run({ value: {}, activation_id: 's1' });
      expect(runtime.fail({ error: boom, culprit })).toBe(1);
      await expect(sibling).resolves.toEqual({ status: 502, body: { error: Messages.failedByOther('Error: async boom') } });
      expect(ended).toEqual(['s1']);
    });

    it('blames nobody when the error came from outside any activation', async () => {
      const { runtime } = started();
      const run = runtime.run({ value: {}, activation_id: 'a1' });
      runtime.fail({ error: 'plain', culprit: undefined });
      await expect(run).resolves.toEqual({
        status: 502,
        body: { error: "The action's container failed because of an uncaught error outside any activation: plain" },
      });
    });

    it('answers later runs 502 as a developer error, with the report in each one\'s stderr, when nobody is to blame', async () => {
      const ended: (string | undefined)[] = [];
      const written: [string | undefined, string][] = [];
      const runtime = new ActionRuntime({
        allowConcurrent: true,
        onActivationEnd: (c) => ended.push(c.activationId),
        writeStderr: (c, text) => written.push([c.activationId, text]),
      });
      // e.g. a promise the action code rejected at load time: it fires after /init answered 200
      init(runtime, code);
      expect(runtime.fail({ error: boom, culprit: undefined, report: 'Unhandled promise rejection: stack\n' })).toBe(0);
      // a second error does not replace the first one's message
      runtime.fail({ error: new Error('later'), culprit: undefined, report: 'other\n' });
      const reply = { status: 502, body: { error: Messages.failedOutside('Error: async boom') } };
      await expect(runtime.run({ value: {}, activation_id: 'n1' })).resolves.toEqual(reply);
      await expect(runtime.run({ value: 5, activation_id: 'bad id!' })).resolves.toEqual(reply);
      expect(written).toEqual([
        ['n1', 'Unhandled promise rejection: stack\n'],
        [undefined, 'Unhandled promise rejection: stack\n'],
      ]);
      expect(ended).toEqual(['n1', undefined]);
      expect(runtime.status).toBe('stopped');
      expect(init(runtime, code)).toEqual({ status: 403, body: { error: Messages.initTwice } });

      // without a report (or writer) the run is still answered and ended
      const quiet = new ActionRuntime();
      init(quiet, code);
      quiet.fail({ error: 'plain', culprit: undefined });
      await expect(quiet.run({ value: {}, activation_id: 'q1' })).resolves.toEqual({ status: 502, body: { error: Messages.failedOutside('plain') } });
    });

    it('keeps refusing later runs with 403 when an error without culprit follows a stop', async () => {
      const runtime = new ActionRuntime();
      expect(init(runtime, 'function main( {').status).toBe(502);
      runtime.fail({ error: boom, culprit: undefined });
      await expect(runtime.run({ value: {} })).resolves.toEqual({ status: 403, body: { error: 'System not ready, status is stopped.' } });
    });

    it('wins over an outcome that settled but was not yet replied', async () => {
      const { runtime, ended } = started();
      // the action returns synchronously; fail() comes before run() has picked the outcome up
      const run = runtime.run({ value: { now: true }, activation_id: 'a1' });
      runtime.fail({ error: boom, culprit: undefined });
      await expect(run).resolves.toEqual({ status: 502, body: { error: Messages.failedOutside('Error: async boom') } });
      expect(ended).toEqual(['a1']);
    });
  });
});
