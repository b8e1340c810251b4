/**
 * Tags the output of activations: `process.stdout.write` and `process.stderr.write` (which
 * `console` uses) are wrapped so that every complete line written inside an activation's async
 * context is framed with its activation id (see framing.ts). Partial lines are buffered per
 * activation and stream (bounded) and flushed when the activation ends, followed by the tagged
 * sentinels. Output outside any activation passes through untouched.
 */
import { LOG_SENTINEL } from '../model/activation.js';
import type { ActivationContext, StreamName } from './context.js';
import { tagLine } from './framing.js';

/** The part of a writable stream this module needs. */
export interface WritableLike {
  write: (...args: never[]) => boolean;
}

type WriteCallback = (error?: Error | null) => void;
type RawWrite = (chunk: string, callback?: WriteCallback) => boolean;

export interface OutputTaggerOptions {
  stdout: WritableLike;
  stderr: WritableLike;
  /** the context of the current call chain */
  current: () => ActivationContext | undefined;
  /** a partial line longer than this is emitted as a line of its own; default 64 KiB */
  maxPartialChars?: number;
}

export interface OutputTagger {
  /**
   * Writes text as the given activation's output, as if it had written it itself (tagged, its
   * partial line kept), whatever the current context; `undefined` (or a context without id) writes
   * it untagged, on a line of its own.
   */
  writeFor(context: ActivationContext | undefined, name: StreamName, text: string): void;
  /** Writes the activation's partial lines (tagged, newline-terminated) without ending it. */
  flush(context: ActivationContext): void;
  /** Flushes the activation's partial lines and writes its sentinel on stdout and stderr. */
  finish(context: ActivationContext): void;
  /** Writes the untagged sentinels (after a failed /init, outside any activation). */
  writeSentinels(): void;
  /** Puts the original write functions back. */
  uninstall(): void;
}

export function installOutputTagging(options: OutputTaggerOptions): OutputTagger {
  const maxPartial = options.maxPartialChars ?? 64 * 1024;
  const streams: Record<StreamName, WritableLike> = { stdout: options.stdout, stderr: options.stderr };
  const originals = {
    stdout: options.stdout.write,
    stderr: options.stderr.write,
  };
  const raw = (name: StreamName): RawWrite => originals[name].bind(streams[name]) as unknown as RawWrite;
  const rawWrite: Record<StreamName, RawWrite> = { stdout: raw('stdout'), stderr: raw('stderr') };

  // Whether untagged output last ended a line, so a sentinel never glues onto a partial line.
  const atLineStart: Record<StreamName, boolean> = { stdout: true, stderr: true };

  /** Writes through untouched, remembering whether the stream is now at a line start. */
  const passThrough = (name: StreamName, args: unknown[]): boolean => {
    const [first] = args;
    if (typeof first === 'string' && first !== '') atLineStart[name] = first.endsWith('\n');
    else if (first instanceof Uint8Array && first.byteLength > 0) atLineStart[name] = first[first.byteLength - 1] === 10;
    return (originals[name] as unknown as (...a: unknown[]) => boolean).apply(streams[name], args);
  };

  /** Writes the complete lines of the activation's output tagged; keeps the rest as its partial line. */
  const writeTagged = (context: ActivationContext, id: string, name: StreamName, text: string, cb?: WriteCallback): boolean => {
    const pieces = (context.partial[name] + text).split('\n');
    let rest = pieces.pop() ?? '';
    if (context.finished || rest.length > maxPartial) {
      if (rest !== '') pieces.push(rest);
      rest = '';
    }
    context.partial[name] = rest;
    if (pieces.length === 0) {
      if (cb !== undefined) process.nextTick(cb);
      return true;
    }
    return rawWrite[name](pieces.map((line) => tagLine(id, line) + '\n').join(''), cb);
  };

  const wrap = (name: StreamName) =>
    function write(this: unknown, ...args: unknown[]): boolean {
      const context = options.current();
      const id = context?.activationId;
      if (context === undefined || id === undefined) return passThrough(name, args);
      const [chunk, encodingOrCallback, callback] = args;
      const cb = (typeof encodingOrCallback === 'function' ? encodingOrCallback : callback) as WriteCallback | undefined;
      const encoding = typeof encodingOrCallback === 'string' ? (encodingOrCallback as BufferEncoding) : 'utf8';
      const text =
        typeof chunk === 'string'
          ? encoding === 'utf8' || encoding === 'utf-8'
            ? chunk
            : Buffer.from(chunk, encoding).toString('utf8')
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8')
            : String(chunk);
      return writeTagged(context, id, name, text, cb);
    };

  streams.stdout.write = wrap('stdout') as unknown as WritableLike['write'];
  streams.stderr.write = wrap('stderr') as unknown as WritableLike['write'];

  return {
    writeFor(context, name, text) {
      const id = context?.activationId;
      if (context === undefined || id === undefined) {
        // outside any activation: start on a fresh line so the text never glues onto a partial one
        passThrough(name, [(atLineStart[name] || text === '' ? '' : '\n') + text]);
        return;
      }
      writeTagged(context, id, name, text);
    },
    flush(context) {
      const id = context.activationId;
      if (id === undefined) return;
      for (const name of ['stdout', 'stderr'] as const) {
        const rest = context.partial[name];
        context.partial[name] = '';
        if (rest !== '') rawWrite[name](tagLine(id, rest) + '\n');
      }
    },
    finish(context) {
      context.finished = true;
      const id = context.activationId;
      for (const name of ['stdout', 'stderr'] as const) {
        const rest = context.partial[name];
        context.partial[name] = '';
        if (id === undefined) {
          rawWrite[name]((atLineStart[name] ? '' : '\n') + LOG_SENTINEL + '\n');
          atLineStart[name] = true;
        } else {
          rawWrite[name]((rest === '' ? '' : tagLine(id, rest) + '\n') + tagLine(id, LOG_SENTINEL) + '\n');
        }
      }
    },
    writeSentinels() {
      for (const name of ['stdout', 'stderr'] as const) {
        rawWrite[name]((atLineStart[name] ? '' : '\n') + LOG_SENTINEL + '\n');
        atLineStart[name] = true;
      }
    },
    uninstall() {
      streams.stdout.write = originals.stdout;
      streams.stderr.write = originals.stderr;
    },
  };
}
