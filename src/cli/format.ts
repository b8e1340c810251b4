/**
 * Human output: tables that fit the terminal and colour only on a TTY. Pure functions over values;
 * the base command decides the width and whether colour is on.
 */
import { styleText } from 'node:util';
import type { ActionSummary, ActivationSummary, ActivationView } from '../client/types.js';
import { STATUS_TEXT, type StatusCode } from '../model/activation.js';

export type Colour = 'green' | 'red' | 'yellow' | 'dim' | 'bold' | 'cyan';

export interface Style {
  paint(colour: Colour, text: string): string;
}

export const plainStyle: Style = { paint: (_colour, text) => text };
export const ttyStyle: Style = { paint: (colour, text) => styleText(colour, text) };

/** Colour only when the stream is a terminal and neither NO_COLOR nor TERM=dumb asks otherwise. */
export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  const wanted = stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
  return wanted ? ttyStyle : plainStyle;
}

export interface TableOptions {
  /** terminal columns; the table never exceeds it (cells are cut with `…`); default: no limit */
  width?: number;
  /** indexes of columns that are never cut (ids people copy) */
  keep?: readonly number[];
  style?: Style;
}

/**
 * Renders rows under headers, columns separated by two spaces. When too wide, the widest column
 * shrinks first (down to 4 characters), so short columns (status, duration) stay readable.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const width = Math.max(20, options.width ?? Number.POSITIVE_INFINITY);
  const keep = new Set(options.keep ?? []);
  const style = options.style ?? plainStyle;
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const gap = 2;
  const total = () => widths.reduce((sum, w) => sum + w, 0) + gap * (widths.length - 1);
  while (total() > width) {
    const candidates = widths.map((w, i) => (keep.has(i) ? 0 : w));
    const widest = candidates.indexOf(Math.max(...candidates));
    if (candidates[widest]! <= 4) break;
    widths[widest] = widths[widest]! - 1;
  }
  const fit = (text: string, w: number) => (text.length <= w ? text.padEnd(w) : `${text.slice(0, Math.max(0, w - 1))}…`);
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => fit(cell, widths[i]!))
      .join(' '.repeat(gap))
      .trimEnd();
  return [style.paint('bold', line(headers)), ...rows.map(line)].join('\n');
}

function annotation(annotations: readonly { key: string; value?: unknown }[], key: string): unknown {
  return annotations.find((a) => a.key === key)?.value;
}

function isoTime(ms: number | undefined): string {
  return ms === undefined || ms === 0 ? '' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

export function formatActionList(actions: readonly ActionSummary[], options: TableOptions = {}): string {
  if (actions.length === 0) return 'no actions';
  const rows = actions.map((a) => [
    `/${a.namespace}/${a.name}`,
    String(a.exec?.kind ?? annotation(a.annotations, 'exec') ?? ''),
    a.version,
    a.limits ? `${a.limits.memory} MB` : '',
    a.limits ? `${a.limits.timeout} ms` : '',
    isoTime(a.updated),
  ]);
  return renderTable(['NAME', 'KIND', 'VERSION', 'MEMORY', 'TIMEOUT', 'UPDATED'], rows, { keep: [0], ...options });
}

/** `success`, `application error`, ... from a numeric status code; `running` when absent. */
export function statusText(statusCode: number | undefined): string {
  if (statusCode === undefined) return 'running';
  return STATUS_TEXT[statusCode as StatusCode] ?? `status ${statusCode}`;
}

export function formatActivationList(activations: readonly ActivationSummary[], options: TableOptions = {}): string {
  if (activations.length === 0) return 'no activations';
  const style = options.style ?? plainStyle;
  const rows = activations.map((a) => {
    const status = statusText(a.statusCode);
    return [
      isoTime(a.start),
      a.activationId,
      String(annotation(a.annotations, 'kind') ?? ''),
      annotation(a.annotations, 'initTime') === undefined ? 'warm' : 'cold',
      a.duration === undefined ? '' : `${a.duration} ms`,
      status,
      `${a.namespace}/${a.name}:${a.version ?? ''}`,
    ];
  });
  const table = renderTable(['DATETIME', 'ACTIVATION ID', 'KIND', 'START', 'DURATION', 'STATUS', 'ENTITY'], rows, { keep: [1], ...options });
  // Colour the status words after layout so escape codes never count towards the widths.
  return table
    .split('\n')
    .map((line, i) => (i === 0 ? line : line.replace(/\b(success)\b/, style.paint('green', '$1')).replace(/\b(application error|action developer error|whisk internal error)\b/, style.paint('red', '$1'))))
    .join('\n');
}

/** Pretty JSON, as wsk prints results and records. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'undefined';
}

/** The one-line summary of an activation (`ok: invoked /_/hello with id ...`). */
export function invokedLine(name: string, activationId: string): string {
  return `ok: invoked ${name.startsWith('/') ? name : `/_/${name}`} with id ${activationId}`;
}

/** A finished activation for humans: the summary line, then the record. */
export function formatActivation(activation: ActivationView): string {
  return formatJson(activation);
}
