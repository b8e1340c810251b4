import { describe, expect, it } from 'vitest';
import { LOG_SENTINEL } from '../../../src/model/activation.js';
import { activationStorage, newActivationContext } from '../../../src/runtime/context.js';
import { parseLine, tagLine } from '../../../src/runtime/framing.js';
import { installOutputTagging } from '../../../src/runtime/output.js';

function fakeStream() {
  const written: string[] = [];
  return {
    written,
    write(chunk: string | Uint8Array, cb?: unknown) {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      if (typeof cb === 'function') (cb as () => void)();
      return true;
    },
  };
}

/** Runs `fn` with output tagging installed over two fake streams, and uninstalls it after. */
function withTagger(
  fn: (io: { stdout: ReturnType<typeof fakeStream>; stderr: ReturnType<typeof fakeStream>; tagger: ReturnType<typeof installOutputTagging> }) => void,
  options: { maxPartialChars?: number } = {},
): void {
  const stdout = fakeStream();
  const stderr = fakeStream();
  const tagger = installOutputTagging({ stdout, stderr, current: () => activationStorage.getStore(), ...options });
  try {
    fn({ stdout, stderr, tagger });
  } finally {
    tagger.uninstall();
  }
}

describe('framing', () => {
  it('round-trips a tagged line', () => {
    expect(parseLine(tagLine('0123abcd', 'hello world'))).toEqual({ activationId: '0123abcd', text: 'hello world' });
  });

  it('treats lines without a well-formed tag as untagged', () => {
    expect(parseLine('plain')).toEqual({ activationId: undefined, text: 'plain' });
    expect(parseLine('\u0001no end')).toEqual({ activationId: undefined, text: '\u0001no end' });
    expect(parseLine('\u0001bad id\u0001x')).toEqual({ activationId: undefined, text: '\u0001bad id\u0001x' });
    expect(parseLine('\u0001\u0001x')).toEqual({ activationId: undefined, text: '\u0001\u0001x' });
  });
});

describe('installOutputTagging', () => {
  it('tags complete lines inside an activation and buffers partial lines until the end', () => {
    withTagger(({ stdout, stderr, tagger }) => {
      const context = newActivationContext('a1', {});
      activationStorage.run(context, () => {
        stdout.write('one\ntw');
        stdout.write('o\nthr');
        stderr.write(Buffer.from('err\n'));
    });
    stdout.write('outside\n');
    tagger.finish(context);
    expect(stdout.written.join('')).toBe(
      [tagLine('a1', 'one'), tagLine('a1', 'two'), 'outside', tagLine('a1', 'thr'), tagLine('a1', LOG_SENTINEL), ''].join('\n'),
    );
    expect(stderr.written.join('')).toBe([tagLine('a1', 'err'), tagLine('a1', LOG_SENTINEL), ''].join('\n'));
    });
  });

  it('keeps concurrent activations apart', () => {
    withTagger(({ stdout, stderr, tagger }) => {
      const a = newActivationContext('aa', {});
      const b = newActivationContext('bb', {});
      activationStorage.run(a, () => stdout.write('a-'));
      activationStorage.run(b, () => stdout.write('b-line\n'));
      activationStorage.run(a, () => stdout.write('end\n'));
      expect(stdout.written.join('')).toBe(`${tagLine('bb', 'b-line')}\n${tagLine('aa', 'a-end')}\n`);
    });
  });

  it('writes untagged sentinels on a fresh line when the activation has no id', () => {
    withTagger(({ stdout, stderr, tagger }) => {
      const context = newActivationContext(undefined, {});
      activationStorage.run(context, () => stdout.write('partial'));
      tagger.finish(context);
      expect(stdout.written.join('')).toBe(`partial\n${LOG_SENTINEL}\n`);
      expect(stderr.written.join('')).toBe(`${LOG_SENTINEL}\n`);
    });
  });

  it('cuts an overlong partial line', () => {
    withTagger(({ stdout, stderr, tagger }) => {
      activationStorage.run(newActivationContext('a1', {}), () => stdout.write('abcdefgh'));
      expect(stdout.written.join('')).toBe(`${tagLine('a1', 'abcdefgh')}\n`);
    }, { maxPartialChars: 4 });
  });

  it('writes text for a given activation tagged, whatever the current context', () => {
    withTagger(({ stdout, stderr, tagger }) => {
      const culprit = newActivationContext('cc', {});
      const other = newActivationContext('oo', {});
      activationStorage.run(culprit, () => stderr.write('half'));
      // written from another activation's context (as an error handler may be): still the culprit's
      activationStorage.run(other, () => tagger.writeFor(culprit, 'stderr', 'Error: x\n    at y\n'));
      expect(stderr.written.join('')).toBe(`${tagLine('cc', 'halfError: x')}\n${tagLine('cc', '    at y')}\n`);
      // after the end of the activation, lines are written at once, also the last partial one
      tagger.finish(culprit);
      stderr.written.length = 0;
      tagger.writeFor(culprit, 'stderr', 'late\nrest');
      expect(stderr.written.join('')).toBe(`${tagLine('cc', 'late')}\n${tagLine('cc', 'rest')}\n`);
    });
  });

  it('writes text without an activation untagged on a fresh line', () => {
    withTagger(({ stdout, stderr, tagger }) => {
      stderr.write('partial');
      tagger.writeFor(undefined, 'stderr', 'Error: x\n');
      tagger.writeFor(newActivationContext(undefined, {}), 'stderr', 'more\n');
      expect(stderr.written.join('')).toBe('partial\nError: x\nmore\n');
    });
  });

  it('flushes partial lines tagged without ending the activation', () => {
    withTagger(({ stdout, stderr, tagger }) => {
      const context = newActivationContext('a1', {});
      activationStorage.run(context, () => {
        stdout.write('out');
        stderr.write('err');
    });
    tagger.flush(context);
    tagger.flush(context);
    expect(stdout.written.join('')).toBe(`${tagLine('a1', 'out')}\n`);
    expect(stderr.written.join('')).toBe(`${tagLine('a1', 'err')}\n`);
    expect(context.finished).toBe(false);
    });
  });
});
