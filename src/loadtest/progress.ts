/**
 * Progress while a load test runs, on stderr: a bar redrawn in place on a terminal, a plain line every
 * few seconds otherwise (logs, CI). The text is built by a pure function.
 */
import type { LoadtestProgress } from './run.js';

/** One progress line; with `barWidth` > 0, a bar of that many cells leads it. */
export function progressLine(p: LoadtestProgress, barWidth: number): string {
  const pct = Math.floor(p.fraction * 100);
  const filled = Math.round(p.fraction * barWidth);
  const bar = barWidth > 0 ? `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ` : '';
  return (
    `${bar}${String(pct).padStart(3)}%  ${(p.elapsedMs / 1000).toFixed(1)}s  ${p.completed} done  ${p.inFlight} in flight  ` +
    `${p.errors} errors  ${p.throughputPerSec.toFixed(1)} req/s  p50 ${p.p50Ms.toFixed(2)} ms  p99 ${p.p99Ms.toFixed(2)} ms`
  );
}

export interface ProgressPrinterOptions {
  stream: NodeJS.WriteStream;
  /** plain mode: least time between two lines; default 2000 ms */
  plainIntervalMs?: number;
}

export interface ProgressPrinter {
  update(progress: LoadtestProgress): void;
  /** ends the bar's line (terminal) so what follows starts on a fresh line */
  done(): void;
}

export function createProgressPrinter(options: ProgressPrinterOptions): ProgressPrinter {
  const { stream } = options;
  const tty = stream.isTTY === true;
  const interval = options.plainIntervalMs ?? 2_000;
  let lastPlain = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(progress) {
      if (tty) {
        const columns = stream.columns > 0 ? stream.columns : 80;
        const line = progressLine(progress, 20);
        // Clear the line, then redraw; cut to the terminal so it never wraps (a wrapped line cannot be redrawn).
        stream.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
        drawn = true;
      } else if (progress.elapsedMs - lastPlain >= interval) {
        lastPlain = progress.elapsedMs;
        stream.write(`${progressLine(progress, 0)}\n`);
      }
    },
    done() {
      if (tty && drawn) stream.write('\n');
    },
  };
}
