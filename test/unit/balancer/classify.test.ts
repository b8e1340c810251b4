import { describe, expect, it } from 'vitest';
import { classifyExit, classifyInitReply, classifyRunReply, classifyTimeout, internalError, runRefused } from '../../../src/controller/balancer/classify.js';

const reply = (status: number, text: string) => ({ status, text, size: Buffer.byteLength(text) });

describe('classifyRunReply', () => {
  it('200 + object without error is a success with the body size', () => {
    expect(classifyRunReply(reply(200, '{"payload":"hi"}'))).toEqual({
      response: { statusCode: 0, result: { payload: 'hi' }, size: 16 },
      developerError: false,
      timedOut: false,
    });
  });

  it('200 + array is a success', () => {
    expect(classifyRunReply(reply(200, '[1,2]')).response).toEqual({ statusCode: 0, result: [1, 2], size: 5 });
  });

  it('200 + object with error is an application error carrying only the error', () => {
    expect(classifyRunReply(reply(200, '{"error":{"message":"no"},"other":1}'))).toEqual({
      response: { statusCode: 1, result: { error: { message: 'no' } }, size: 36 },
      developerError: false,
      timedOut: false,
    });
  });

  it('non-200 + object with error is a developer error with that error', () => {
    expect(classifyRunReply(reply(502, '{"error":"An error has occurred: boom"}'))).toEqual({
      response: { statusCode: 2, result: { error: 'An error has occurred: boom' } },
      developerError: true,
      timedOut: false,
    });
  });

  it('non-JSON, non-object JSON and non-200 without error are developer errors with the invalid-JSON text', () => {
    const text = 'The action did not produce a valid JSON or JSON Array response: ';
    expect(classifyRunReply(reply(200, 'hello')).response).toEqual({ statusCode: 2, result: { error: `${text}hello` } });
    expect(classifyRunReply(reply(200, '42')).response).toEqual({ statusCode: 2, result: { error: `${text}42` } });
    expect(classifyRunReply(reply(500, '{"ok":true}')).response).toEqual({ statusCode: 2, result: { error: `${text}{"ok":true}` } });
    expect(classifyRunReply(reply(500, '[1]')).response).toEqual({ statusCode: 2, result: { error: `${text}[1]` } });
  });

  it('a result over the limit is an application error with the truncated body, and keeps the container', () => {
    const classified = classifyRunReply({ status: 200, text: '{"a":"xx', size: 20 }, 8);
    expect(classified).toEqual({
      response: {
        statusCode: 1,
        result: { error: 'The action produced a response that exceeded the allowed length: 20 > 8 bytes. The truncated response was: {"a":"xx' },
        size: 20,
      },
      developerError: false,
      timedOut: false,
    });
  });
});

describe('runRefused', () => {
  it('is true only for a 403 (the runtime did not start the run)', () => {
    expect(runRefused({ status: 403, text: '{"error":"System not ready, status is stopped."}', size: 10 })).toBe(true);
    expect(runRefused({ status: 502, text: '{"error":"An error has occurred: x"}', size: 10 })).toBe(false);
    expect(runRefused({ status: 200, text: '{}', size: 2 })).toBe(false);
  });
});

describe('classifyInitReply', () => {
  it('200 initialises', () => {
    expect(classifyInitReply(reply(200, '{"OK":true}'))).toBeUndefined();
  });

  it('uses the body error when there is one', () => {
    expect(classifyInitReply(reply(502, '{"error":"Initialization has failed due to: SyntaxError"}'))).toEqual({
      response: { statusCode: 2, result: { error: 'Initialization has failed due to: SyntaxError' } },
      developerError: true,
      timedOut: false,
    });
  });

  it('otherwise wraps the body in the init-failed text', () => {
    expect(classifyInitReply(reply(500, 'oops'))?.response).toEqual({
      statusCode: 2,
      result: { error: 'The action failed during initialization: oops' },
    });
  });
});

describe('timeouts, exits, internal errors', () => {
  it('words timeouts as OpenWhisk does and flags them', () => {
    expect(classifyTimeout('run', 1000)).toEqual({
      response: { statusCode: 2, result: { error: 'The action exceeded its time limits of 1000 milliseconds.' } },
      developerError: true,
      timedOut: true,
    });
    expect(classifyTimeout('init', 500).response.result).toEqual({
      error: 'The action exceeded its time limits of 500 milliseconds during initialization.',
    });
  });

  it('words exits by phase and OOM', () => {
    expect(classifyExit('run', 'oom').response).toEqual({ statusCode: 2, result: { error: 'The action exhausted its memory and was aborted.' } });
    expect(classifyExit('run', 'other').response.result).toEqual({ error: 'The action did not produce a valid response and exited unexpectedly.' });
    expect(classifyExit('init', undefined).response.result).toEqual({ error: 'The action did not initialize and exited unexpectedly.' });
    expect(classifyExit('init', 'oom').timedOut).toBe(false);
  });

  it('internal errors are status 3 with the message as error', () => {
    expect(internalError('no capacity')).toEqual({ statusCode: 3, result: { error: 'no capacity' } });
  });
});
