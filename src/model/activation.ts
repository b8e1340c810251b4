import { randomUUID } from 'node:crypto';
import type { KeyValue } from './action.js';

/** OpenWhisk status codes of an activation response (compat §1.8). */
export const StatusCode = {
  success: 0,
  applicationError: 1,
  developerError: 2,
  internalError: 3,
} as const;
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

export const STATUS_TEXT: Record<StatusCode, string> = {
  0: 'success',
  1: 'application error',
  2: 'action developer error',
  3: 'whisk internal error',
};

export interface ActivationResponse {
  statusCode: StatusCode;
  result: unknown;
  size?: number;
}

/** An activation as stored. The REST view adds `response.success`/`response.status`. */
export interface ActivationRecord {
  namespace: string;
  name: string;
  subject: string;
  activationId: string;
  version: string;
  publish: boolean;
  /** epoch ms; moved back by initTime on a cold start, so duration includes init */
  start: number;
  end: number;
  duration: number;
  response: ActivationResponse;
  logs: string[];
  annotations: KeyValue[];
}

/** 32 lowercase hex characters, as OpenWhisk generates them. */
export function newActivationId(): string {
  return randomUUID().replaceAll('-', '');
}

export const ACTIVATION_ID_PATTERN = /^[0-9a-f]{32}$/;

/** Developer-error texts, exactly as OpenWhisk words them. */
export const DeveloperErrorText = {
  timeout: (ms: number) => `The action exceeded its time limits of ${ms} milliseconds.`,
  initTimeout: (ms: number) => `The action exceeded its time limits of ${ms} milliseconds during initialization.`,
  memoryExhausted: 'The action exhausted its memory and was aborted.',
  exitedDuringRun: 'The action did not produce a valid response and exited unexpectedly.',
  exitedDuringInit: 'The action did not initialize and exited unexpectedly.',
  invalidJson: (body: string) => `The action did not produce a valid JSON or JSON Array response: ${body}`,
  initFailed: (body: string) => `The action failed during initialization: ${body}`,
  resultTooLarge: (size: number, max: number, truncated: string) =>
    `The action produced a response that exceeded the allowed length: ${size} > ${max} bytes. The truncated response was: ${truncated}`,
} as const;

export const LogText = {
  truncated: (limitBytes: number) => `Logs were truncated because the total bytes size exceeds the limit of ${limitBytes} bytes.`,
  collectionIssue: 'There was an issue while collecting your logs. Data might be missing.',
  developerError: 'The action did not initialize or run as expected. Log data might be missing.',
} as const;

/** The line the runtime prints on stdout and on stderr after each activation. */
export const LOG_SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';

/** Formats one log line the way OpenWhisk stores it: `%-30s %s: %s` (ISO time, stream, text). */
export function formatLogLine(time: Date | string, stream: 'stdout' | 'stderr', text: string): string {
  const iso = typeof time === 'string' ? time : time.toISOString();
  return `${iso.padEnd(30)} ${stream}: ${text}`;
}
