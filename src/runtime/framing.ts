/**
 * How the brisk runtime marks which activation a log line belongs to, so that the agent can
 * attribute the output of concurrent activations in one container.
 *
 * A tagged line is `\u0001<activationId>\u0001<text>`: SOH cannot appear in an activation id and
 * almost never starts real output, and a line that merely starts with SOH but does not match the
 * whole frame is treated as untagged text. Lines without the frame (OpenWhisk images, blackbox,
 * output outside any activation) are attributed sequentially by sentinels instead.
 *
 * This module is shared by the runtime and the agent; it must not import npm packages.
 */

export const TAG_MARK = '\u0001';

/** Activation ids the runtime is willing to tag with (OpenWhisk ids are 32 hex chars). */
export const TAGGABLE_ID = /^[0-9A-Za-z_-]{1,64}$/;

/** Prefixes one line of text (without its newline) with the activation tag. */
export function tagLine(activationId: string, text: string): string {
  return `${TAG_MARK}${activationId}${TAG_MARK}${text}`;
}

export interface ParsedLine {
  /** set when the line carried a well-formed tag */
  activationId: string | undefined;
  text: string;
}

/** Splits a received line (without its newline) into its tag and its text. */
export function parseLine(line: string): ParsedLine {
  if (line.charCodeAt(0) !== 1) return { activationId: undefined, text: line };
  const end = line.indexOf(TAG_MARK, 1);
  if (end < 2 || end > 65) return { activationId: undefined, text: line };
  const activationId = line.slice(1, end);
  if (!TAGGABLE_ID.test(activationId)) return { activationId: undefined, text: line };
  return { activationId, text: line.slice(end + 1) };
}
