import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { newActivationContext, type ActivationContext } from '../../../src/runtime/context.js';
import { errorDetail, fatalReport, installFatalErrorHandlers, MAX_REPORT_CHARS, wrapQueueMicrotask, type FatalError } from '../../../src/runtime/fatal.js';

describe('installFatalErrorHandlers', () => {
  it('reports both events with the context current in the handler', () => {
    const source = new EventEmitter();
    const seen: FatalError[] = [];
    const a = newActivationContext('aa', {});
    let current: ActivationContext | undefined = a;
    const handlers = installFatalErrorHandlers({ current: () => current, onFatal: (f) => seen.push(f), source, microtaskHost: null });
    const boom = new Error('boom');
    source.emit('uncaughtException', boom);
    current = undefined;
    source.emit('unhandledRejection', 'why');
    expect(seen).toEqual([
      { kind: 'uncaughtException', error: boom, culprit: a },
      { kind: 'unhandledRejection', error: 'why', culprit: undefined },
    ]);
    handlers.uninstall();
    expect(source.listenerCount('uncaughtException')).toBe(0);
    expect(source.listenerCount('unhandledRejection')).toBe(0);
  });

  it('blames an error escaping queueMicrotask on the context it was queued in', () => {
    const source = new EventEmitter();
    const seen: FatalError[] = [];
    const queued = newActivationContext('qq', {});
    let current: ActivationContext | undefined = queued;
    // stands in for node: runs the callback later, outside any context, and turns a throw into the event
    const pending: (() => void)[] = [];
    const original = (cb: () => void): void => void pending.push(cb);
    const host = { queueMicrotask: original };
    const handlers = installFatalErrorHandlers({ current: () => current, onFatal: (f) => seen.push(f), source, microtaskHost: host });
    expect(host.queueMicrotask).not.toBe(original);
    const boom = new Error('micro');
    host.queueMicrotask(() => {
      throw boom;
    });
    current = undefined;
    for (const cb of pending) {
      try {
        cb();
      } catch (err) {
        source.emit('uncaughtException', err);
      }
    }
    // a later, unrelated error outside any context is not blamed on the remembered one
    source.emit('uncaughtException', boom);
    expect(seen).toEqual([
      { kind: 'uncaughtException', error: boom, culprit: queued },
      { kind: 'uncaughtException', error: boom, culprit: undefined },
    ]);
    handlers.uninstall();
    expect(host.queueMicrotask).toBe(original);
  });
});

describe('wrapQueueMicrotask', () => {
  it('notes and rethrows what the callback throws, and passes results through', () => {
    const noted: [unknown, string | undefined][] = [];
    const ctx = newActivationContext('cc', {});
    let ran: (() => void) | undefined;
    const wrapped = wrapQueueMicrotask((cb) => (ran = cb), () => ctx, (error, context) => noted.push([error, context?.activationId]));
    let calls = 0;
    wrapped(() => void calls++);
    ran?.();
    expect(calls).toBe(1);
    wrapped(() => {
      throw 'primitive';
    });
    expect(() => ran?.()).toThrow('primitive');
    expect(noted).toEqual([['primitive', 'cc']]);
  });
});

describe('fatalReport', () => {
  it('labels the stack by kind and ends with a newline', () => {
    const err = new TypeError('bad');
    expect(fatalReport({ kind: 'uncaughtException', error: err })).toBe(`Uncaught exception: ${err.stack}\n`);
    expect(fatalReport({ kind: 'unhandledRejection', error: { toString: () => 'custom' } })).toBe('Unhandled promise rejection: custom\n');
    expect(fatalReport({ kind: 'unhandledRejection', error: undefined })).toBe('Unhandled promise rejection: undefined\n');
  });

  it('cuts a huge report', () => {
    const text = fatalReport({ kind: 'uncaughtException', error: 'x'.repeat(MAX_REPORT_CHARS + 10) });
    expect(text).toBe(`Uncaught exception: ${'x'.repeat(MAX_REPORT_CHARS)}\n[cut at ${MAX_REPORT_CHARS} characters]\n`);
  });

  it('survives hostile errors', () => {
    const hostile = new Error('h');
    Object.defineProperty(hostile, 'stack', {
      get() {
        throw new Error('no');
      },
    });
    expect(errorDetail(hostile)).toBe('Error: h');
    expect(errorDetail(Object.create(null))).toBe('[object Object]');
  });
});
