/**
 * Flags that parse into domain values (convention 6): memory sizes, durations, points in time.
 * The parsers are pure and throw InvalidInputError, which the base command turns into exit code 2.
 */
import { Flags } from '@oclif/core';
import { InvalidInputError } from '../errors.js';
import { resolveKind } from '../model/kinds.js';

const MEMORY_UNITS: Record<string, number> = { '': 1, m: 1, mb: 1, mib: 1, g: 1024, gb: 1024, gib: 1024 };

/** `256`, `256M`, `256MB`, `256MiB` → 256; `1G`, `1GB`, `1.5GiB` → megabytes. Must be a positive whole number of MB. */
export function parseMemoryMB(input: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(input);
  const factor = match ? MEMORY_UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new InvalidInputError(`'${input}' is not a memory size; use megabytes like 256, 256MB or 1GB.`);
  }
  const mb = Number(match[1]) * factor;
  if (!Number.isInteger(mb) || mb <= 0) throw new InvalidInputError(`'${input}' is not a whole, positive number of megabytes.`);
  return mb;
}

const DURATION_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** `3000` and `3000ms` → 3000; `3s` → 3000; `1.5s` → 1500; `2m` → 120000. Must be a whole, non-negative number of ms. */
export function parseDurationMs(input: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(input);
  const factor = match ? DURATION_UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new InvalidInputError(`'${input}' is not a duration; use milliseconds like 3000, or 3s, 500ms, 2m.`);
  }
  const ms = Number(match[1]) * factor;
  if (!Number.isInteger(ms)) throw new InvalidInputError(`'${input}' is not a whole number of milliseconds.`);
  return ms;
}

/** Epoch milliseconds (`1700000000000`) or any date `Date.parse` reads (`2024-05-01T10:00:00Z`). */
export function parseTimeMs(input: string): number {
  if (/^\d+$/.test(input.trim())) return Number(input.trim());
  const ms = Date.parse(input);
  if (Number.isNaN(ms)) throw new InvalidInputError(`'${input}' is not a time; use epoch milliseconds or an ISO date like 2024-05-01T10:00:00Z.`);
  return ms;
}

/** A non-negative integer (ports, counts, limits). */
export function parseNonNegativeInt(input: string): number {
  if (!/^\s*\d+\s*$/.test(input)) throw new InvalidInputError(`'${input}' is not a whole, non-negative number.`);
  return Number(input);
}

export const memoryFlag = Flags.custom<number>({ parse: async (input) => parseMemoryMB(input), helpValue: 'MB' });
export const durationFlag = Flags.custom<number>({ parse: async (input) => parseDurationMs(input), helpValue: 'DURATION' });
export const timeFlag = Flags.custom<number>({ parse: async (input) => parseTimeMs(input), helpValue: 'TIME' });
export const countFlag = Flags.custom<number>({ parse: async (input) => parseNonNegativeInt(input), helpValue: 'N' });
export const portFlag = Flags.custom<number>({
  parse: async (input) => {
    const port = parseNonNegativeInt(input);
    if (port > 65535) throw new InvalidInputError(`'${input}' is not a port; use 0..65535 (0 picks a free port).`);
    return port;
  },
  helpValue: 'PORT',
});

/** A stem-cell setting: keep `count` prewarmed containers of `kind` and `memoryMB` on every agent. */
export interface StemCellSetting {
  kind: string;
  memoryMB: number;
  count: number;
}

/**
 * `KIND,MEMORY[,COUNT]` → a stem-cell setting, e.g. `nodejs:20,256` (count 1) or `nodejs:20,512MB,2`;
 * `none` → null (no stem cells). The kind must be one this platform runs (`nodejs:default` resolves).
 */
export function parseStemCell(input: string): StemCellSetting | null {
  if (input.trim() === 'none') return null;
  const [kindText = '', memoryText = '', countText = '1', ...rest] = input.split(',').map((part) => part.trim());
  const kind = resolveKind(kindText);
  if (rest.length > 0 || kind === undefined || memoryText === '') {
    throw new InvalidInputError(`'${input}' is not a stem-cell setting; use KIND,MEMORY[,COUNT] with a supported kind, e.g. nodejs:20,256,2 (or none).`);
  }
  const count = parseNonNegativeInt(countText);
  if (count === 0 || count > 100) throw new InvalidInputError(`'${input}': the count of stem cells must be 1..100.`);
  return { kind, memoryMB: parseMemoryMB(memoryText), count };
}

export const stemCellFlag = Flags.custom<StemCellSetting | null>({ parse: async (input) => parseStemCell(input), helpValue: 'KIND,MEMORY[,COUNT]' });
