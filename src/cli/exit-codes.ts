/**
 * The CLI's exit codes, one per kind of outcome an operator or a script reacts to differently.
 * Documented in the README; `--json` error envelopes carry the same number.
 */
import { Errors } from '@oclif/core';
import { isBriskError } from '../errors.js';

export const ExitCode = {
  /** the command did what was asked */
  ok: 0,
  /** the action ran but its activation failed (application, developer or whisk error) */
  activationFailed: 1,
  /** bad flags, arguments, files or values (also: the API rejected the input, 400/409/413) */
  usage: 2,
  /** the action, activation or route does not exist */
  notFound: 3,
  /** the API is not reachable, or it refused the credentials (401/403) */
  unreachableOrAuth: 4,
  /** the platform failed: no capacity, throttled, a daemon is down, an internal error */
  platform: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

const BY_CODE: Record<string, ExitCode> = {
  ACTIVATION_FAILED: ExitCode.activationFailed,
  INVALID_INPUT: ExitCode.usage,
  CONFIG_INVALID: ExitCode.usage,
  CONFLICT: ExitCode.usage,
  PAYLOAD_TOO_LARGE: ExitCode.usage,
  METHOD_NOT_ALLOWED: ExitCode.usage,
  USAGE: ExitCode.usage,
  NOT_FOUND: ExitCode.notFound,
  API_UNREACHABLE: ExitCode.unreachableOrAuth,
  UNAUTHENTICATED: ExitCode.unreachableOrAuth,
  FORBIDDEN: ExitCode.unreachableOrAuth,
};

/** The exit code for an error: by catalogue code; oclif parse errors are usage errors; anything else is a platform failure. */
export function exitCodeOf(error: unknown): ExitCode {
  if (isBriskError(error)) return BY_CODE[error.code] ?? ExitCode.platform;
  if (error instanceof Errors.CLIError) return ExitCode.usage;
  return ExitCode.platform;
}

/** What to do next, by catalogue code, for errors that did not bring their own hint. */
export const DEFAULT_HINTS: Record<string, string> = {
  API_UNREACHABLE: 'Start the platform with `brisk up` (or `brisk controller`), or point --apihost at a running API.',
  UNAUTHENTICATED: 'Check --auth (UUID:KEY); `brisk up` prints and saves the guest key.',
  FORBIDDEN: 'Use the credentials of the namespace that owns the entity (--auth), or drop the /namespace/ prefix.',
  NOT_FOUND: 'Check the name with `brisk action list` or `brisk activation list`.',
  CONFLICT: 'The action exists: use `brisk action update` to change it.',
  INVALID_INPUT: 'Fix the value named in the message; `brisk <command> --help` lists the flags.',
  USAGE: 'See `brisk <command> --help`.',
  CONFIG_INVALID: 'Fix the flag, environment variable or config file named in the message.',
  PAYLOAD_TOO_LARGE: 'Make the code, parameters or payload smaller (limits are in the README).',
  THROTTLED: 'Retry later, or raise the namespace limits.',
  ACTIVATION_FAILED: 'Read the activation with `brisk activation get <id>` and its logs with `brisk activation logs <id>`.',
  CAPACITY_UNAVAILABLE: 'Add agent memory (`brisk agent --memory`) or wait for running activations to finish.',
  SCHEDULER_UNAVAILABLE: 'Check that the scheduler is running and that controllers and agents use its URL and token.',
  API_ERROR: 'Check the daemons\' output for the failure; retry once it is fixed.',
};
