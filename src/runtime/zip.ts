/**
 * A small, strict ZIP reader and extractor for zip actions, on node built-ins only (the action runtime
 * must run in a root filesystem that holds nothing but node and the compiled tree).
 *
 * Reading is split in two: {@link readZipDirectory} parses and validates the whole central directory
 * (structure, limits, entry names) without writing anything; {@link extractZip} then inflates entry by
 * entry, checks each against its declared size and CRC-32, and writes it into a fresh directory.
 *
 * Deliberately unsupported (refused with a clear error): ZIP64, multi-disk archives, encryption, compression
 * methods other than stored (0) and deflate (8), symbolic links and other special files, and archives with
 * data before the first local header (self-extracting archives).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { messageOf, ZipError } from '../errors.js';

export { ZipError, type ZipErrorCode } from '../errors.js';

/** Default cap on the sum of the declared uncompressed sizes: 256 MiB. */
export const DEFAULT_MAX_TOTAL_BYTES = 256 * 1024 * 1024;
/** Default cap on the number of entries (files and directories): 10 000. */
export const DEFAULT_MAX_ENTRIES = 10_000;

/**
 * - `ZIP_MALFORMED`: not a zip, truncated, or internally inconsistent (also duplicate entry names)
 * - `ZIP_UNSUPPORTED`: a valid zip feature brisk refuses (ZIP64, encryption, multi-disk, a compression method)
 * - `ZIP_LIMIT_EXCEEDED`: too many entries or too many uncompressed bytes
 * - `ZIP_UNSAFE_ENTRY`: an entry that would land outside the extraction directory, or a symlink/special file
 * - `ZIP_INTEGRITY`: an entry's data does not match its declared size or CRC-32
 */
export interface ZipLimits {
  /** maximum number of entries, directories included; default {@link DEFAULT_MAX_ENTRIES} */
  maxEntries?: number;
  /** maximum sum of declared uncompressed sizes in bytes; default {@link DEFAULT_MAX_TOTAL_BYTES} */
  maxTotalBytes?: number;
}

/** One validated central directory entry. */
export interface ZipEntry {
  /** normalised relative POSIX path, without a trailing slash (`lib/a.js`, `lib`) */
  path: string;
  /** the name as stored in the archive */
  rawName: string;
  directory: boolean;
  /** 0 (stored) or 8 (deflate) */
  method: 0 | 8;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  /** offset of the local file header in the archive */
  localHeaderOffset: number;
  /** unix permission bits when the archive was made on unix, else undefined */
  unixMode: number | undefined;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const ZIP64_LOCATOR_SIZE = 20;
const MAX_COMMENT = 0xffff;

const FLAG_ENCRYPTED = 0x0001;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const FLAG_UTF8 = 0x0800;
const HOST_UNIX = 3;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const DOS_DIRECTORY = 0x10;

/**
 * Parses and validates the central directory of `archive`. Pure: reads the buffer, writes nothing.
 * Checks, before any entry is inflated: the archive starts with a zip signature, the End Of Central
 * Directory record is found and consistent, the entry count and the total declared size are within
 * `limits`, every entry is supported and safe to extract, local headers agree with the central directory,
 * entry data ranges lie inside the archive and do not overlap, and no two entries collide.
 * @throws ZipError
 */
export function readZipDirectory(archive: Buffer, limits: ZipLimits = {}): ZipEntry[] {
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxTotalBytes = limits.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
  checkLeadingSignature(archive);

  const eocd = findEndOfCentralDirectory(archive);
  const diskNumber = archive.readUInt16LE(eocd + 4);
  const cdDisk = archive.readUInt16LE(eocd + 6);
  const entriesOnDisk = archive.readUInt16LE(eocd + 8);
  const totalEntries = archive.readUInt16LE(eocd + 10);
  const cdSize = archive.readUInt32LE(eocd + 12);
  const cdOffset = archive.readUInt32LE(eocd + 16);
  if (totalEntries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff || hasZip64Locator(archive, eocd)) {
    throw new ZipError('ZIP_UNSUPPORTED', 'ZIP64 archives are not supported.');
  }
  if (diskNumber !== 0 || cdDisk !== 0 || entriesOnDisk !== totalEntries) {
    throw new ZipError('ZIP_UNSUPPORTED', 'multi-disk (split or spanned) archives are not supported.');
  }
  // Checked on the declared count, before walking, so a huge count costs nothing.
  if (totalEntries > maxEntries) {
    throw new ZipError('ZIP_LIMIT_EXCEEDED', `the archive has ${totalEntries} entries, more than the limit of ${maxEntries}.`);
  }
  if (cdOffset + cdSize > eocd) {
    throw new ZipError('ZIP_MALFORMED', 'the central directory lies outside the archive (truncated?).');
  }

  const entries: ZipEntry[] = [];
  let totalBytes = 0;
  let cursor = cdOffset;
  const cdEnd = cdOffset + cdSize;
  for (let index = 0; index < totalEntries; index++) {
    const { entry, next } = readCentralEntry(archive, cursor, cdEnd, index);
    totalBytes += entry.uncompressedSize;
    if (totalBytes > maxTotalBytes) {
      throw new ZipError('ZIP_LIMIT_EXCEEDED', `the archive expands to more than the limit of ${maxTotalBytes} bytes.`);
    }
    entries.push(entry);
    cursor = next;
  }
  if (cursor !== cdEnd) {
    throw new ZipError('ZIP_MALFORMED', `the central directory is ${cdSize} bytes long but its ${totalEntries} entries take ${cursor - cdOffset}.`);
  }

  checkDataRanges(archive, entries, cdOffset);
  checkCollisions(entries);
  return entries;
}

/**
 * Returns the uncompressed data of one entry of `archive` (as returned by {@link readZipDirectory}),
 * verified against the declared size and CRC-32. Never allocates more than the declared size (+1 byte
 * for a zero-length entry), so a lying entry cannot inflate without bound.
 * @throws ZipError
 */
export function readZipEntryData(archive: Buffer, entry: ZipEntry): Buffer {
  const start = dataOffset(archive, entry);
  const compressed = archive.subarray(start, start + entry.compressedSize);
  let data: Buffer;
  if (entry.method === 0) {
    data = compressed;
  } else {
    try {
      // maxOutputLength must be at least 1; an empty entry that inflates to 1 byte fails the size check below.
      data = zlib.inflateRawSync(compressed, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
    } catch (err) {
      if (isNodeError(err) && err.code === 'ERR_BUFFER_TOO_LARGE') {
        throw new ZipError('ZIP_INTEGRITY', `entry '${entry.rawName}' inflates to more than its declared ${entry.uncompressedSize} bytes.`);
      }
      throw new ZipError('ZIP_MALFORMED', `entry '${entry.rawName}' has invalid deflate data: ${messageOf(err)}.`, { cause: err });
    }
  }
  if (data.length !== entry.uncompressedSize) {
    throw new ZipError('ZIP_INTEGRITY', `entry '${entry.rawName}' has ${data.length} bytes but declares ${entry.uncompressedSize}.`);
  }
  // zlib.crc32 exists from node 20.15 (package.json requires >= 20.18).
  const actualCrc = zlib.crc32(data) >>> 0;
  if (actualCrc !== entry.crc32) {
    throw new ZipError('ZIP_INTEGRITY', `entry '${entry.rawName}' fails its CRC-32 check.`);
  }
  return data;
}

export interface ExtractZipOptions {
  archive: Buffer;
  /** directory in which a fresh `brisk-zip-XXXXXX` directory is created; default os.tmpdir() */
  parentDir?: string;
  limits?: ZipLimits;
}

export interface ExtractedZip {
  /** the fresh directory holding the archive's contents (absolute) */
  dir: string;
  /** the normalised relative paths of the extracted files (not directories), in archive order */
  files: string[];
}

/**
 * Validates the whole archive first ({@link readZipDirectory}), then extracts it into a fresh directory
 * created with mkdtemp (mode 0700). Files are created exclusively (never overwriting or following an
 * existing path) with mode 0644, or 0755 when the archive marks them executable. On any failure the
 * fresh directory is removed again and the error is rethrown.
 * @throws ZipError, or the file system's error when writing fails
 */
export function extractZip(options: ExtractZipOptions): ExtractedZip {
  const entries = readZipDirectory(options.archive, options.limits);
  const dir = fs.mkdtempSync(path.join(options.parentDir ?? os.tmpdir(), 'brisk-zip-'));
  try {
    const files: string[] = [];
    for (const entry of entries) {
      const target = resolveInside(dir, entry.path);
      if (entry.directory) {
        fs.mkdirSync(target, { recursive: true });
        continue;
      }
      const data = readZipEntryData(options.archive, entry);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      const executable = entry.unixMode !== undefined && (entry.unixMode & 0o111) !== 0;
      fs.writeFileSync(target, data, { flag: 'wx', mode: executable ? 0o755 : 0o644 });
      files.push(entry.path);
    }
    return { dir, files };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Normalises an entry name to a relative POSIX path, refusing anything that could leave the extraction
 * directory: absolute paths, drive letters, backslashes (refused, not reinterpreted), `..` segments
 * (even those that would stay inside), and NUL bytes. `.` and empty segments are dropped.
 * Returns '' for a name that names the root itself (such as `./`).
 * @throws ZipError with code ZIP_UNSAFE_ENTRY
 */
export function normaliseEntryName(name: string): string {
  const unsafe = (why: string): ZipError => new ZipError('ZIP_UNSAFE_ENTRY', `entry '${name}' is refused: ${why}.`);
  if (name.includes('\0')) throw unsafe('it contains a NUL byte');
  if (name.includes('\\')) throw unsafe('it contains a backslash');
  if (name.startsWith('/')) throw unsafe('it is an absolute path');
  if (/^[A-Za-z]:/.test(name)) throw unsafe('it starts with a drive letter');
  const segments = name.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw unsafe("it contains a '..' segment");
  return segments.join('/');
}

// ---------------------------------------------------------------- internals

function checkLeadingSignature(archive: Buffer): void {
  if (archive.length >= 2 && archive[0] === 0x1f && archive[1] === 0x8b) {
    throw new ZipError('ZIP_MALFORMED', 'this is a gzip (tar.gz) archive; only zip archives are supported.');
  }
  if (archive.length < 4) throw new ZipError('ZIP_MALFORMED', 'not a zip archive: it is too short.');
  const signature = archive.readUInt32LE(0);
  // An archive starts with its first local header, or is empty and is just the EOCD record.
  if (signature !== SIG_LOCAL && signature !== SIG_EOCD) {
    throw new ZipError('ZIP_MALFORMED', 'not a zip archive: bad signature.');
  }
}

/**
 * Searches backwards for the EOCD record, at most MAX_COMMENT bytes before the minimal position. A
 * candidate counts only if its comment length reaches exactly to the end of the archive, so a signature
 * inside a comment (or trailing garbage) cannot be mistaken for the record.
 */
function findEndOfCentralDirectory(archive: Buffer): number {
  const last = archive.length - EOCD_SIZE;
  const first = Math.max(0, last - MAX_COMMENT);
  for (let pos = last; pos >= first; pos--) {
    if (archive.readUInt32LE(pos) === SIG_EOCD && pos + EOCD_SIZE + archive.readUInt16LE(pos + 20) === archive.length) return pos;
  }
  throw new ZipError('ZIP_MALFORMED', 'the end of central directory record is missing (truncated or not a zip archive).');
}

function hasZip64Locator(archive: Buffer, eocd: number): boolean {
  const at = eocd - ZIP64_LOCATOR_SIZE;
  return at >= 0 && archive.readUInt32LE(at) === SIG_ZIP64_LOCATOR;
}

function readCentralEntry(archive: Buffer, at: number, cdEnd: number, index: number): { entry: ZipEntry; next: number } {
  if (at + CENTRAL_SIZE > cdEnd || archive.readUInt32LE(at) !== SIG_CENTRAL) {
    throw new ZipError('ZIP_MALFORMED', `central directory entry ${index} is missing or has a bad signature.`);
  }
  const madeBy = archive.readUInt16LE(at + 4);
  const flags = archive.readUInt16LE(at + 8);
  const method = archive.readUInt16LE(at + 10);
  const crc32 = archive.readUInt32LE(at + 16);
  const compressedSize = archive.readUInt32LE(at + 20);
  const uncompressedSize = archive.readUInt32LE(at + 24);
  const nameLength = archive.readUInt16LE(at + 28);
  const extraLength = archive.readUInt16LE(at + 30);
  const commentLength = archive.readUInt16LE(at + 32);
  const diskStart = archive.readUInt16LE(at + 34);
  const externalAttributes = archive.readUInt32LE(at + 38);
  const localHeaderOffset = archive.readUInt32LE(at + 42);
  const next = at + CENTRAL_SIZE + nameLength + extraLength + commentLength;
  if (next > cdEnd) throw new ZipError('ZIP_MALFORMED', `central directory entry ${index} runs past the central directory.`);

  const nameBytes = archive.subarray(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength);
  // Without the UTF-8 flag the name is CP437 by the spec; latin1 is exact for ASCII, which is what tools write.
  const rawName = nameBytes.toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1');
  if (rawName === '') throw new ZipError('ZIP_MALFORMED', `central directory entry ${index} has an empty name.`);

  if (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff || localHeaderOffset === 0xffffffff || diskStart === 0xffff) {
    throw new ZipError('ZIP_UNSUPPORTED', `entry '${rawName}' uses ZIP64, which is not supported.`);
  }
  if (diskStart !== 0) throw new ZipError('ZIP_UNSUPPORTED', 'multi-disk (split or spanned) archives are not supported.');
  if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) {
    throw new ZipError('ZIP_UNSUPPORTED', `entry '${rawName}' is encrypted, which is not supported.`);
  }
  if (method !== 0 && method !== 8) {
    throw new ZipError('ZIP_UNSUPPORTED', `entry '${rawName}' uses compression method ${method}; only 0 (stored) and 8 (deflate) are supported.`);
  }
  if (method === 0 && compressedSize !== uncompressedSize) {
    throw new ZipError('ZIP_INTEGRITY', `stored entry '${rawName}' declares ${uncompressedSize} bytes but holds ${compressedSize}.`);
  }

  const unix = madeBy >>> 8 === HOST_UNIX;
  const mode = unix ? externalAttributes >>> 16 : 0;
  const fileType = mode & S_IFMT;
  if (fileType === S_IFLNK) throw new ZipError('ZIP_UNSAFE_ENTRY', `entry '${rawName}' is refused: it is a symbolic link.`);
  if (fileType !== 0 && fileType !== S_IFREG && fileType !== S_IFDIR) {
    throw new ZipError('ZIP_UNSAFE_ENTRY', `entry '${rawName}' is refused: it is a special file.`);
  }
  const directory = rawName.endsWith('/') || fileType === S_IFDIR || (!unix && (externalAttributes & DOS_DIRECTORY) !== 0);
  if (directory && uncompressedSize !== 0) {
    throw new ZipError('ZIP_MALFORMED', `directory entry '${rawName}' has data.`);
  }
  const normalised = normaliseEntryName(rawName);
  if (normalised === '' && !directory) throw new ZipError('ZIP_UNSAFE_ENTRY', `entry '${rawName}' is refused: it names the extraction directory.`);

  return {
    entry: {
      path: normalised,
      rawName,
      directory,
      method: method as 0 | 8, // narrowed by the check above
      compressedSize,
      uncompressedSize,
      crc32,
      localHeaderOffset,
      unixMode: unix && fileType !== 0 ? mode & 0o7777 : undefined,
    },
    next,
  };
}

/** Validates an entry's local header against the central directory and returns where its data starts. */
function dataOffset(archive: Buffer, entry: ZipEntry): number {
  const at = entry.localHeaderOffset;
  if (at + LOCAL_SIZE > archive.length || archive.readUInt32LE(at) !== SIG_LOCAL) {
    throw new ZipError('ZIP_MALFORMED', `the local header of entry '${entry.rawName}' is missing or has a bad signature.`);
  }
  const flags = archive.readUInt16LE(at + 6);
  const method = archive.readUInt16LE(at + 8);
  const nameLength = archive.readUInt16LE(at + 26);
  const extraLength = archive.readUInt16LE(at + 28);
  if (method !== entry.method || (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0) {
    throw new ZipError('ZIP_MALFORMED', `the local header of entry '${entry.rawName}' disagrees with the central directory.`);
  }
  const nameStart = at + LOCAL_SIZE;
  const start = nameStart + nameLength + extraLength;
  if (start + entry.compressedSize > archive.length) {
    throw new ZipError('ZIP_MALFORMED', `the data of entry '${entry.rawName}' runs past the end of the archive (truncated?).`);
  }
  // The two copies of a name must agree: extractors that read different copies must not see different files.
  const localName = archive.subarray(nameStart, nameStart + nameLength).toString(flags & FLAG_UTF8 ? 'utf8' : 'latin1');
  if (localName !== entry.rawName) {
    throw new ZipError('ZIP_MALFORMED', `the local header of entry '${entry.rawName}' names '${localName}'.`);
  }
  return start;
}

/**
 * Every entry's local header and data must lie before the central directory and must not overlap
 * another entry's: overlapping entries are how "non-recursive" zip bombs reuse one compressed stream.
 */
function checkDataRanges(archive: Buffer, entries: readonly ZipEntry[], cdOffset: number): void {
  const ranges = entries
    .map((entry) => ({ entry, start: entry.localHeaderOffset, end: dataOffset(archive, entry) + entry.compressedSize }))
    .sort((a, b) => a.start - b.start);
  let previousEnd = 0;
  for (const { entry, start, end } of ranges) {
    if (start < previousEnd) throw new ZipError('ZIP_MALFORMED', `entry '${entry.rawName}' overlaps another entry.`);
    if (end > cdOffset) throw new ZipError('ZIP_MALFORMED', `entry '${entry.rawName}' overlaps the central directory.`);
    previousEnd = end;
  }
}

/** Refuses two files with one path, and a file that is also (an ancestor of) another entry's directory. */
function checkCollisions(entries: readonly ZipEntry[]): void {
  const files = new Set<string>();
  const directories = new Set<string>();
  for (const entry of entries) {
    if (entry.path === '') continue;
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i++) directories.add(parts.slice(0, i).join('/'));
    if (entry.directory) {
      directories.add(entry.path);
    } else {
      if (files.has(entry.path)) throw new ZipError('ZIP_MALFORMED', `the archive holds '${entry.path}' twice.`);
      files.add(entry.path);
    }
  }
  for (const file of files) {
    if (directories.has(file)) throw new ZipError('ZIP_MALFORMED', `'${file}' is both a file and a directory in the archive.`);
  }
}

/** Defence in depth behind normaliseEntryName: the resolved target must stay inside `root`. */
function resolveInside(root: string, relative: string): string {
  const target = path.resolve(root, relative);
  if (target !== root && !target.startsWith(root + path.sep)) {
    throw new ZipError('ZIP_UNSAFE_ENTRY', `entry '${relative}' is refused: it resolves outside the extraction directory.`);
  }
  return target;
}

function isNodeError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}
