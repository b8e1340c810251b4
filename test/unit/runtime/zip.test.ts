import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ENTRIES, extractZip, normaliseEntryName, readZipDirectory, readZipEntryData, ZipError } from '../../../src/runtime/zip.js';
import { makeZip } from '../../support/zip-writer.js';

// ---------------------------------------------------------------- tests

let parent: string;

beforeEach(() => {
  parent = fs.mkdtempSync(path.join(os.tmpdir(), 'brisk-zip-test-'));
});

afterEach(() => {
  fs.rmSync(parent, { recursive: true, force: true });
});

/** Extracts into the test's parent directory; on refusal, also checks nothing was left behind. */
function extract(archive: Buffer, limits?: { maxEntries?: number; maxTotalBytes?: number }) {
  try {
    return extractZip({ archive, parentDir: parent, limits });
  } catch (err) {
    expect(fs.readdirSync(parent)).toEqual([]);
    throw err;
  }
}

function treeOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const full = path.join(dir, name);
    out[name.split(path.sep).join('/')] = fs.statSync(full).isDirectory() ? '<dir>' : fs.readFileSync(full, 'utf8');
  }
  return out;
}

const big = 'const x = 1;\n'.repeat(500);

describe('extractZip', () => {
  it('extracts stored and deflated entries, nested directories and empty files into a fresh directory', () => {
    const archive = makeZip(
      [
        { name: 'package.json', data: '{"main":"lib/app.js"}' },
        { name: 'lib/', unixMode: 0o040755 },
        { name: 'lib/app.js', data: big, method: 8 },
        { name: 'lib/deep/er/x.txt', data: 'x', method: 8 },
        { name: 'empty.txt', data: '' },
        { name: 'bin/run', data: '#!/bin/sh\n', unixMode: 0o100755 },
        { name: './dot/./y.txt', data: 'y' },
      ],
      { comment: 'a comment that mentions PK\x05\x06 on purpose' },
    );
    const result = extract(archive);
    expect(path.dirname(result.dir)).toBe(parent);
    expect(path.basename(result.dir)).toMatch(/^brisk-zip-/);
    expect(result.files).toEqual(['package.json', 'lib/app.js', 'lib/deep/er/x.txt', 'empty.txt', 'bin/run', 'dot/y.txt']);
    expect(treeOf(result.dir)).toEqual({
      'package.json': '{"main":"lib/app.js"}',
      lib: '<dir>',
      'lib/app.js': big,
      'lib/deep': '<dir>',
      'lib/deep/er': '<dir>',
      'lib/deep/er/x.txt': 'x',
      'empty.txt': '',
      bin: '<dir>',
      'bin/run': '#!/bin/sh\n',
      dot: '<dir>',
      'dot/y.txt': 'y',
    });
    expect(fs.statSync(path.join(result.dir, 'bin/run')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(result.dir, 'empty.txt')).mode & 0o777).toBe(0o644);
  });

  it('extracts an empty archive to an empty directory', () => {
    const result = extract(makeZip([]));
    expect(result.files).toEqual([]);
    expect(fs.readdirSync(result.dir)).toEqual([]);
  });

  it('creates a new directory on every call', () => {
    const archive = makeZip([{ name: 'a.txt', data: 'a' }]);
    const first = extract(archive);
    const second = extract(archive);
    expect(first.dir).not.toBe(second.dir);
    expect(fs.readdirSync(parent).sort()).toEqual([path.basename(first.dir), path.basename(second.dir)].sort());
  });
});

describe('readZipDirectory and readZipEntryData', () => {
  it('lists validated entries and reads their data', () => {
    const archive = makeZip([
      { name: 'd/', data: '' },
      { name: 'd/a.js', data: 'hello hello hello', method: 8, unixMode: 0o100644 },
    ]);
    const entries = readZipDirectory(archive);
    expect(entries).toEqual([
      { path: 'd', rawName: 'd/', directory: true, method: 0, compressedSize: 0, uncompressedSize: 0, crc32: 0, localHeaderOffset: 0, unixMode: undefined },
      {
        path: 'd/a.js',
        rawName: 'd/a.js',
        directory: false,
        method: 8,
        compressedSize: zlib.deflateRawSync('hello hello hello').length,
        uncompressedSize: 17,
        crc32: zlib.crc32('hello hello hello'),
        localHeaderOffset: 32,
        unixMode: 0o644,
      },
    ]);
    expect(readZipEntryData(archive, entries[1]!).toString()).toBe('hello hello hello');
  });
});

describe('refusals', () => {
  const refused = (archive: Buffer, code: string, message: string | RegExp, limits?: { maxEntries?: number; maxTotalBytes?: number }) => {
    let caught: unknown;
    try {
      extract(archive, limits);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ZipError);
    expect(caught).toMatchObject({ code, fault: 'user', status: 400 });
    if (typeof message === 'string') expect((caught as Error).message).toBe(message);
    else expect((caught as Error).message).toMatch(message);
  };

  it('refuses bad magic, gzip and short input', () => {
    refused(Buffer.from('function main() {}'), 'ZIP_MALFORMED', 'not a zip archive: bad signature.');
    refused(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]), 'ZIP_MALFORMED', 'this is a gzip (tar.gz) archive; only zip archives are supported.');
    refused(Buffer.from('PK'), 'ZIP_MALFORMED', 'not a zip archive: it is too short.');
    refused(Buffer.alloc(0), 'ZIP_MALFORMED', 'not a zip archive: it is too short.');
  });

  it('refuses truncated archives', () => {
    const archive = makeZip([{ name: 'index.js', data: big, method: 8 }]);
    const missingEocd = 'the end of central directory record is missing (truncated or not a zip archive).';
    refused(archive.subarray(0, archive.length - 1), 'ZIP_MALFORMED', missingEocd);
    refused(archive.subarray(0, 40), 'ZIP_MALFORMED', missingEocd);
    // data cut short but the directory records intact: the directory then points past the end
    const cut = 30 + 8 + 5; // inside the deflated data of index.js
    const shortened = Buffer.concat([archive.subarray(0, cut), archive.subarray(archive.length - (46 + 8 + 22))]);
    refused(shortened, 'ZIP_MALFORMED', 'the central directory lies outside the archive (truncated?).');
    // 'UEsDBA==' is what a zip action whose code is only a local header signature decodes to
    refused(Buffer.from('UEsDBA==', 'base64'), 'ZIP_MALFORMED', missingEocd);
  });

  it('refuses an EOCD whose comment length does not reach the end, and a bad central signature', () => {
    const archive = makeZip([{ name: 'a', data: 'a' }]);
    refused(Buffer.concat([archive, Buffer.from('trailing')]), 'ZIP_MALFORMED', /end of central directory record is missing/);
    const corrupt = Buffer.from(archive);
    corrupt.writeUInt32LE(0x12345678, 31 + 1); // first central header
    refused(corrupt, 'ZIP_MALFORMED', 'central directory entry 0 is missing or has a bad signature.');
  });

  it('refuses zip slip', () => {
    refused(makeZip([{ name: '../x', data: 'x' }]), 'ZIP_UNSAFE_ENTRY', "entry '../x' is refused: it contains a '..' segment.");
    refused(makeZip([{ name: 'a/../../x', data: 'x' }]), 'ZIP_UNSAFE_ENTRY', "entry 'a/../../x' is refused: it contains a '..' segment.");
    refused(makeZip([{ name: 'a/../b', data: 'x' }]), 'ZIP_UNSAFE_ENTRY', "entry 'a/../b' is refused: it contains a '..' segment.");
    refused(makeZip([{ name: '/etc/passwd', data: 'x' }]), 'ZIP_UNSAFE_ENTRY', "entry '/etc/passwd' is refused: it is an absolute path.");
    refused(makeZip([{ name: 'C:/x', data: 'x' }]), 'ZIP_UNSAFE_ENTRY', "entry 'C:/x' is refused: it starts with a drive letter.");
    refused(makeZip([{ name: '..\\x', data: 'x' }]), 'ZIP_UNSAFE_ENTRY', "entry '..\\x' is refused: it contains a backslash.");
    refused(makeZip([{ name: 'a\0b', data: 'x' }]), 'ZIP_UNSAFE_ENTRY', "entry 'a\0b' is refused: it contains a NUL byte.");
    refused(makeZip([{ name: '.', data: 'x' }]), 'ZIP_UNSAFE_ENTRY', "entry '.' is refused: it names the extraction directory.");
    // a safe entry before the bad one is not left behind either
    refused(makeZip([{ name: 'ok.txt', data: 'ok' }, { name: '../x', data: 'x' }]), 'ZIP_UNSAFE_ENTRY', "entry '../x' is refused: it contains a '..' segment.");
    expect(fs.existsSync(path.join(parent, '..', 'x'))).toBe(false);
  });

  it('refuses symbolic links and special files', () => {
    refused(makeZip([{ name: 'link', data: '/etc/passwd', unixMode: 0o120777 }]), 'ZIP_UNSAFE_ENTRY', "entry 'link' is refused: it is a symbolic link.");
    refused(makeZip([{ name: 'fifo', data: '', unixMode: 0o010644 }]), 'ZIP_UNSAFE_ENTRY', "entry 'fifo' is refused: it is a special file.");
  });

  it('refuses entries whose size or CRC does not match what they declare', () => {
    refused(makeZip([{ name: 'a', data: 'abc', declaredSize: 5 }]), 'ZIP_INTEGRITY', "stored entry 'a' declares 5 bytes but holds 3.");
    refused(makeZip([{ name: 'bomb', data: big, method: 8, declaredSize: 10 }]), 'ZIP_INTEGRITY', "entry 'bomb' inflates to more than its declared 10 bytes.");
    refused(makeZip([{ name: 'zero', data: 'a', method: 8, declaredSize: 0 }]), 'ZIP_INTEGRITY', "entry 'zero' has 1 bytes but declares 0.");
    refused(makeZip([{ name: 'short', data: 'abc', method: 8, declaredSize: 50 }]), 'ZIP_INTEGRITY', "entry 'short' has 3 bytes but declares 50.");
    refused(makeZip([{ name: 'crc', data: 'abc', crc: 1234 }]), 'ZIP_INTEGRITY', "entry 'crc' fails its CRC-32 check.");
  });

  it('refuses broken deflate data', () => {
    const archive = makeZip([{ name: 'a', data: 'hello', method: 8 }]);
    archive.fill(0xff, 31, 31 + 3); // garble the deflate stream (after the 30-byte header and the 1-byte name)
    refused(archive, 'ZIP_MALFORMED', /^entry 'a' has invalid deflate data: .+\.$/);
  });

  it('refuses too many entries, by default over 10 000', () => {
    expect(DEFAULT_MAX_ENTRIES).toBe(10_000);
    const many = makeZip(Array.from({ length: 10_001 }, (_, i) => ({ name: `f${i}` })));
    refused(many, 'ZIP_LIMIT_EXCEEDED', 'the archive has 10001 entries, more than the limit of 10000.');
    const three = makeZip([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    refused(three, 'ZIP_LIMIT_EXCEEDED', 'the archive has 3 entries, more than the limit of 2.', { maxEntries: 2 });
    expect(extract(three, { maxEntries: 3 }).files).toEqual(['a', 'b', 'c']);
  });

  it('refuses archives that expand past the size limit, by default 256 MiB, before inflating anything', () => {
    const huge = makeZip([
      { name: 'a', data: 'a', method: 8, declaredSize: 200 * 1024 * 1024 },
      { name: 'b', data: 'b', method: 8, declaredSize: 57 * 1024 * 1024 },
    ]);
    refused(huge, 'ZIP_LIMIT_EXCEEDED', `the archive expands to more than the limit of ${256 * 1024 * 1024} bytes.`);
    const eleven = makeZip([{ name: 'a', data: 'hello' }, { name: 'b', data: 'world!' }]);
    refused(eleven, 'ZIP_LIMIT_EXCEEDED', 'the archive expands to more than the limit of 10 bytes.', { maxTotalBytes: 10 });
    expect(extract(eleven, { maxTotalBytes: 11 }).files).toEqual(['a', 'b']);
  });

  it('refuses ZIP64, encryption, multi-disk and unknown compression methods', () => {
    refused(makeZip([{ name: 'a', data: 'a', compressedSize: 0xffffffff }]), 'ZIP_UNSUPPORTED', "entry 'a' uses ZIP64, which is not supported.");
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    refused(makeZip([{ name: 'a', data: 'a' }], { beforeEocd: locator }), 'ZIP_UNSUPPORTED', 'ZIP64 archives are not supported.');
    refused(makeZip([{ name: 'a', data: 'a', flags: 1 }]), 'ZIP_UNSUPPORTED', "entry 'a' is encrypted, which is not supported.");
    refused(makeZip([{ name: 'a', data: 'a', method: 12 }]), 'ZIP_UNSUPPORTED', "entry 'a' uses compression method 12; only 0 (stored) and 8 (deflate) are supported.");
    const multiDisk = makeZip([{ name: 'a', data: 'a' }]);
    multiDisk.writeUInt16LE(1, multiDisk.length - 22 + 4);
    refused(multiDisk, 'ZIP_UNSUPPORTED', 'multi-disk (split or spanned) archives are not supported.');
  });

  it('refuses inconsistent archives: wrong entry count, duplicates, file/directory clashes, overlaps', () => {
    refused(makeZip([{ name: 'a', data: 'a' }, { name: 'b', data: 'b' }], { eocdEntries: 1 }), 'ZIP_MALFORMED', /^the central directory is \d+ bytes long but its 1 entries take \d+\.$/);
    refused(makeZip([{ name: 'a', data: 'a' }, { name: './a', data: 'b' }]), 'ZIP_MALFORMED', "the archive holds 'a' twice.");
    refused(makeZip([{ name: 'a', data: 'a' }, { name: 'a/b', data: 'b' }]), 'ZIP_MALFORMED', "'a' is both a file and a directory in the archive.");
    refused(makeZip([{ name: 'd/', data: 'x' }]), 'ZIP_MALFORMED', "directory entry 'd/' has data.");
    // two central entries pointing at the same local header (an overlapping "zip bomb")
    const one = makeZip([{ name: 'a', data: 'a' }]);
    const local = one.subarray(0, 31 + 1);
    const central = one.subarray(32, 32 + 47);
    const cd = Buffer.concat([central, central]);
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(2, 8);
    eocd.writeUInt16LE(2, 10);
    eocd.writeUInt32LE(cd.length, 12);
    eocd.writeUInt32LE(local.length, 16);
    refused(Buffer.concat([local, cd, eocd]), 'ZIP_MALFORMED', "entry 'a' overlaps another entry.");
  });

  it('refuses a local header that disagrees with the central directory', () => {
    const archive = makeZip([{ name: 'a', data: 'a' }]);
    archive.write('b', 30); // the local copy of the name
    refused(archive, 'ZIP_MALFORMED', "the local header of entry 'a' names 'b'.");
    const badSig = makeZip([{ name: 'a', data: 'a' }, { name: 'b', data: 'b' }]);
    badSig.writeUInt32LE(0, 32); // the second local header
    refused(badSig, 'ZIP_MALFORMED', "the local header of entry 'b' is missing or has a bad signature.");
    const pastEnd = makeZip([{ name: 'a', data: 'a', declaredSize: 1000, compressedSize: 1000 }]);
    refused(pastEnd, 'ZIP_MALFORMED', "the data of entry 'a' runs past the end of the archive (truncated?).");
  });
});

describe('normaliseEntryName', () => {
  it('normalises harmless names', () => {
    expect(normaliseEntryName('a/b.js')).toBe('a/b.js');
    expect(normaliseEntryName('./a//b/')).toBe('a/b');
    expect(normaliseEntryName('./')).toBe('');
    expect(normaliseEntryName('..a/b..')).toBe('..a/b..');
  });

  it('refuses escaping names with ZIP_UNSAFE_ENTRY', () => {
    for (const name of ['..', '../a', 'a/..', '/a', 'c:a', 'a\\b']) {
      expect(() => normaliseEntryName(name)).toThrow(expect.objectContaining({ code: 'ZIP_UNSAFE_ENTRY' }));
    }
  });
});
