/**
 * Builds activation records exactly as compat §1.7 lays them out. Pure.
 */
import type { KeyValue } from '../../model/action.js';
import { formatLogLine, LogText, type ActivationRecord, type ActivationResponse } from '../../model/activation.js';
import type { ActionInfo } from './action-info.js';

const TIMEOUT_FALSE: KeyValue = Object.freeze({ key: 'timeout', value: false }) as KeyValue;
const TIMEOUT_TRUE: KeyValue = Object.freeze({ key: 'timeout', value: true }) as KeyValue;

export interface RecordInput {
  info: ActionInfo;
  /** namespace of the invoking identity: the record's `namespace` and `subject` */
  subject: string;
  activationId: string;
  /** epoch ms when the controller received the request */
  receivedAt: number;
  /** epoch ms when init (cold start) or run (warm) began; on a failure before either, when it ended */
  start: number;
  /** epoch ms when the result was known */
  end: number;
  /** ms spent in /init when this activation did the cold start; undefined when warm */
  initTime?: number | undefined;
  /**
   * ms this activation waited for its paused container to be resumed before its run (brisk-specific);
   * undefined when the container was running already
   */
  resumeTime?: number | undefined;
  timedOut: boolean;
  response: ActivationResponse;
  logs?: string[];
}

/**
 * The record: `start` is the start of init on a cold start (so `duration` includes init), else of
 * run. Annotations, in order: limits, path, kind, timeout, initTime (cold start only), waitTime
 * (receipt → start of init or run, never negative), then resumeTime (brisk-specific, only when the
 * run had to resume its paused container first; that time is part of waitTime). Appended last so
 * that OpenWhisk's order is unchanged for clients that read annotations by position.
 */
export function buildRecord(input: RecordInput): ActivationRecord {
  const { info } = input;
  const annotations: KeyValue[] = [info.limitsAnnotation, info.pathAnnotation, info.kindAnnotation, input.timedOut ? TIMEOUT_TRUE : TIMEOUT_FALSE];
  if (input.initTime !== undefined) annotations.push({ key: 'initTime', value: input.initTime });
  annotations.push({ key: 'waitTime', value: Math.max(0, input.start - input.receivedAt) });
  if (input.resumeTime !== undefined) annotations.push({ key: 'resumeTime', value: input.resumeTime });
  const end = Math.max(input.end, input.start);
  return {
    namespace: input.subject,
    name: info.doc.name,
    subject: input.subject,
    activationId: input.activationId,
    version: info.doc.version,
    publish: info.doc.publish,
    start: input.start,
    end,
    duration: end - input.start,
    response: input.response,
    logs: input.logs ?? [],
    annotations,
  };
}

/** What log collection returned, as the balancer hands it to `finalLogs`. */
export interface CollectedLogs {
  lines: readonly string[];
  truncated: boolean;
  limitBytes: number;
  /** collection failed or was incomplete */
  issue: boolean;
  /** the activation ended in a developer error */
  developerError: boolean;
}

/**
 * The stored log lines: the collected lines, then (each at most once, as stderr lines stamped
 * `now`) the truncation notice, the collection-issue notice and the developer-error notice.
 */
export function finalLogs(input: CollectedLogs, now: Date): string[] {
  const out = [...input.lines];
  // The agent may have added a notice already (it sees missing sentinels and cut-offs first): each one appears once.
  const appendOnce = (text: string) => {
    if (!out.some((line) => line.endsWith(text))) out.push(formatLogLine(now, 'stderr', text));
  };
  if (input.truncated) appendOnce(LogText.truncated(input.limitBytes));
  if (input.issue) appendOnce(LogText.collectionIssue);
  if (input.developerError) appendOnce(LogText.developerError);
  return out;
}
