/**
 * The `--json` contract (convention 11): every command prints exactly one envelope, on success
 * `{status: 0, result}` and on failure `{status, name, code, message, exitCode, hint, data?}`.
 * `status` equals the process exit code in both, so scripts can read one field.
 */
import { Errors } from '@oclif/core';
import { ActivationFailedError, ApiError, isBriskError, messageOf } from '../errors.js';
import { DEFAULT_HINTS, exitCodeOf, type ExitCode } from './exit-codes.js';

export interface SuccessEnvelope<T> {
  status: 0;
  result: T;
}

export interface ErrorEnvelope {
  status: ExitCode;
  /** error class name, e.g. `ApiError`, `ActivationFailedError` */
  name: string;
  /** stable catalogue code, e.g. `NOT_FOUND`, `API_UNREACHABLE`, `USAGE` */
  code: string;
  message: string;
  exitCode: ExitCode;
  /** what the operator should do next */
  hint: string;
  /** details some errors carry: the failed activation's id and result, the API's HTTP status */
  data?: Record<string, unknown>;
}

export function successEnvelope<T>(result: T): SuccessEnvelope<T> {
  return { status: 0, result };
}

/** Oclif prefixes flag-parse failures with "Parsing --flag \n\t"; keep the flag name, drop the layout. */
function cleanMessage(message: string): string {
  return message.replace(/\s*\n\t/g, ': ').replace(/\nSee more help with --help$/, '').trim();
}

/** Builds the error envelope for anything thrown by a command. */
export function errorEnvelope(error: unknown): ErrorEnvelope {
  const exitCode = exitCodeOf(error);
  if (isBriskError(error)) {
    const envelope: ErrorEnvelope = {
      status: exitCode,
      name: error.name,
      code: error.code,
      message: cleanMessage(error.message),
      exitCode,
      hint: error.hint ?? DEFAULT_HINTS[error.code] ?? DEFAULT_HINTS.API_ERROR!,
    };
    if (error instanceof ActivationFailedError) {
      envelope.data = { activationId: error.activationId, status: error.statusText, result: error.result };
    } else if (error instanceof ApiError) {
      // A 503 for want of a container names the activation whose record says so.
      const activationId = typeof error.body === 'object' && error.body !== null ? (error.body as { activationId?: unknown }).activationId : undefined;
      envelope.data = {
        httpStatus: error.status,
        ...(error.transactionId === undefined ? {} : { transactionId: error.transactionId }),
        ...(typeof activationId === 'string' ? { activationId } : {}),
      };
    }
    return envelope;
  }
  if (error instanceof Errors.CLIError) {
    return { status: exitCode, name: error.name, code: 'USAGE', message: cleanMessage(error.message), exitCode, hint: DEFAULT_HINTS.USAGE! };
  }
  const message = messageOf(error);
  return {
    status: exitCode,
    name: error instanceof Error ? error.name : 'Error',
    code: 'UNEXPECTED',
    message,
    exitCode,
    hint: 'This is a bug or an unexpected condition; run again with DEBUG=1 (prints the stack) and report the output.',
  };
}
