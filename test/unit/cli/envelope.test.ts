import { Errors } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import { errorEnvelope, successEnvelope } from '../../../src/cli/envelope.js';
import { ExitCode, exitCodeOf } from '../../../src/cli/exit-codes.js';
import { ActivationFailedError, ApiError, ApiUnreachableError, CapacityUnavailableError, ConfigError, InvalidInputError } from '../../../src/errors.js';

describe('output envelopes', () => {
  it('success: status 0 and the result', () => {
    expect(successEnvelope({ activationId: 'x' })).toEqual({ status: 0, result: { activationId: 'x' } });
  });

  it('a failed activation: exit 1 with its id, status and result', () => {
    const error = new ActivationFailedError({ activationId: 'a'.repeat(32), result: { error: 'boom' }, statusText: 'application error' });
    expect(errorEnvelope(error)).toEqual({
      status: 1,
      name: 'ActivationFailedError',
      code: 'ACTIVATION_FAILED',
      message: `The activation ${'a'.repeat(32)} ended with application error.`,
      exitCode: 1,
      hint: expect.stringContaining('brisk activation logs'),
      data: { activationId: 'a'.repeat(32), status: 'application error', result: { error: 'boom' } },
    });
  });

  it('an API 404: exit 3 with the HTTP status and transaction id', () => {
    const error = new ApiError('NOT_FOUND', 'user', 'The requested resource does not exist.', { status: 404, transactionId: 't1' });
    expect(errorEnvelope(error)).toEqual({
      status: 3,
      name: 'ApiError',
      code: 'NOT_FOUND',
      message: 'The requested resource does not exist.',
      exitCode: 3,
      hint: expect.stringContaining('brisk action list'),
      data: { httpStatus: 404, transactionId: 't1' },
    });
  });

  it('unreachable API: exit 4 and says to run brisk up', () => {
    const envelope = errorEnvelope(new ApiUnreachableError('http://127.0.0.1:1', 'The API at http://127.0.0.1:1 is not reachable.'));
    expect(envelope).toMatchObject({ status: 4, code: 'API_UNREACHABLE', exitCode: 4 });
    expect(envelope.hint).toContain('brisk up');
  });

  it('keeps an error\'s own hint and cleans oclif\'s flag-parse wrapping', () => {
    const error = new InvalidInputError('x', { hint: 'do y' });
    error.message = "Parsing --memory \n\t'abc' is not a memory size\nSee more help with --help";
    expect(errorEnvelope(error)).toMatchObject({ status: 2, code: 'INVALID_INPUT', message: "Parsing --memory: 'abc' is not a memory size", hint: 'do y' });
  });

  it('oclif parse errors are usage errors (exit 2); unknown errors exit 5', () => {
    expect(errorEnvelope(new Errors.CLIError('Missing 1 required arg'))).toMatchObject({ status: 2, code: 'USAGE', exitCode: 2 });
    expect(errorEnvelope(new TypeError('bad'))).toMatchObject({ status: 5, code: 'UNEXPECTED', name: 'TypeError', message: 'bad' });
  });
});

describe('exitCodeOf', () => {
  it.each([
    [new ConfigError('c'), ExitCode.usage],
    [new ApiError('CONFLICT', 'user', 'exists', { status: 409 }), ExitCode.usage],
    [new ApiError('UNAUTHENTICATED', 'user', 'no', { status: 401 }), ExitCode.unreachableOrAuth],
    [new ApiError('THROTTLED', 'user', 'slow down', { status: 429 }), ExitCode.platform],
    [new CapacityUnavailableError('noAgents', 'none'), ExitCode.platform],
  ])('%s → %d', (error, code) => {
    expect(exitCodeOf(error)).toBe(code);
  });
});
