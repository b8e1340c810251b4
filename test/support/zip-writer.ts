/**
 * A tiny ZIP writer for tests: stored and deflated entries, unix modes, and fields that can be made
 * to lie (sizes, CRC, entry count) to exercise the runtime's zip reader.
 */
import zlib from 'node:zlib';

export interface TestEntry {
  name: string;
  data?: string | Buffer;
  /** 0 stored (default), 8 deflate */
  method?: number;
  /** unix mode incl. file type bits (written with "made by unix"); default none (made by DOS) */
  unixMode?: number;
  flags?: number;
  /** overrides of what the headers declare */
  declaredSize?: number;
  crc?: number;
  compressedSize?: number;
}

export interface ZipOptions {
  comment?: string;
  /** overrides the entry count written in the EOCD record */
  eocdEntries?: number;
  /** bytes inserted between the central directory and the EOCD record (a fake ZIP64 locator, say) */
  beforeEocd?: Buffer;
}

export function makeZip(entries: TestEntry[], options: ZipOptions = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const raw = typeof entry.data === 'string' ? Buffer.from(entry.data) : (entry.data ?? Buffer.alloc(0));
    const method = entry.method ?? 0;
    const stored = method === 8 ? zlib.deflateRawSync(raw) : raw;
    const name = Buffer.from(entry.name, 'utf8');
    const crc = entry.crc ?? zlib.crc32(raw);
    const size = entry.declaredSize ?? raw.length;
    const compressed = entry.compressedSize ?? stored.length;
    const flags = (entry.flags ?? 0) | 0x0800;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(compressed >>> 0, 18);
    local.writeUInt32LE(size >>> 0, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, stored);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(entry.unixMode === undefined ? 20 : (3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(compressed >>> 0, 20);
    central.writeUInt32LE(size >>> 0, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(entry.unixMode === undefined ? 0 : (entry.unixMode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += 30 + name.length + stored.length;
  }
  const cd = Buffer.concat(centrals);
  const comment = Buffer.from(options.comment ?? '');
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(options.eocdEntries ?? entries.length, 8);
  eocd.writeUInt16LE(options.eocdEntries ?? entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  eocd.writeUInt16LE(comment.length, 20);
  return Buffer.concat([...locals, cd, options.beforeEocd ?? Buffer.alloc(0), eocd, comment]);
}

/** file name → content; names ending in '/' are directory entries; odd-indexed files are deflated. */
export function zipOf(files: Record<string, string>): Buffer {
  return makeZip(
    Object.entries(files).map(([name, data], index) => ({ name, data, method: index % 2 === 1 && !name.endsWith('/') ? 8 : 0 })),
  );
}
