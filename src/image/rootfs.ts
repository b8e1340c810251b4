/**
 * The minimal root filesystem of runc and Docker containers, built by brisk itself from this host:
 * the node binary, the shared libraries it links (as `ldd` resolves them), the brisk runtime's
 * compiled modules, and nothing else of the host. No shell, no package manager, no host directory.
 *
 * Layout of an image directory (`<imagesDir>/<id>/`):
 *   rootfs/            the filesystem, mounted read-only in every container
 *     usr/bin/node     the host's node binary (hard link when possible, else a copy)
 *     lib…/            the libraries `ldd` names, at the same paths as on the host
 *     opt/brisk/       the runtime (src/runtime, its imports from src/model and src/errors.js)
 *     etc/passwd, etc/group   only `nobody` (uid/gid 65534), the user actions run as
 *     tmp proc dev     empty mount points
 *   image.json         the manifest (ImageManifest)
 *
 * The image id is a hash of what goes in (node binary identity, runtime file contents), so a rebuild
 * with the same inputs is a no-op and a new node or runtime gives a new image. Builds are atomic:
 * written to a temp directory beside the final one, then renamed; a concurrent build of the same id
 * loses the rename race harmlessly.
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, link, mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ConfigError, messageOf } from '../errors.js';

/** Where images go unless told otherwise: shared by every agent of the host. */
export const DEFAULT_IMAGES_DIR = '/var/lib/brisk/images';

/** Inside the container: the runtime's entry module. */
export const RUNTIME_ENTRY_IN_IMAGE = '/opt/brisk/src/runtime/main.js';
/** Inside the container: the node binary. */
export const NODE_IN_IMAGE = '/usr/bin/node';
/** uid/gid actions run as (`nobody`). */
export const ACTION_USER = Object.freeze({ uid: 65534, gid: 65534 });

/** The compiled sources of the runtime: src/runtime and the two modules it imports. */
const DIST_SRC = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../dist/src/' : '../', import.meta.url));
const RUNTIME_PARTS: readonly string[] = ['runtime', 'model', 'errors.js'];
/** Bumped whenever the layout of the image changes, so a host's older images are not reused. */
const LAYOUT_VERSION = 2;

export interface ImageManifest {
  id: string;
  /** `node --version` of the binary inside */
  nodeVersion: string;
  createdAt: string;
  /** bytes of every file in rootfs/ */
  sizeBytes: number;
  /** host paths of the libraries that were copied */
  libraries: string[];
}

export interface BuiltImage {
  manifest: ImageManifest;
  /** the image directory */
  dir: string;
  /** `<dir>/rootfs` */
  rootfs: string;
  /** false when an image with this id was there already */
  built: boolean;
}

export interface BuildImageOptions {
  /** default DEFAULT_IMAGES_DIR */
  imagesDir?: string;
  /** default process.execPath */
  nodePath?: string;
  /** the compiled `src/` directory holding runtime/, model/ and errors.js; default this build's */
  distSrc?: string;
  /** rebuild even when the image exists */
  force?: boolean;
}

/** The id the image of this node and this runtime has (whether it is built or not). */
export async function currentImageId(options: Pick<BuildImageOptions, 'nodePath' | 'distSrc'> = {}): Promise<string> {
  const distSrc = options.distSrc ?? DIST_SRC;
  const runtimeFiles = await listRuntimeFiles(distSrc);
  if (runtimeFiles.length === 0) throw new ConfigError(`no compiled runtime under ${distSrc}`, { hint: 'run `npm run build` first' });
  return imageId(options.nodePath ?? process.execPath, distSrc, runtimeFiles);
}

/** Builds the image (or finds it) and returns where it is. */
export async function buildImage(options: BuildImageOptions = {}): Promise<BuiltImage> {
  const imagesDir = path.resolve(options.imagesDir ?? DEFAULT_IMAGES_DIR);
  const nodePath = options.nodePath ?? process.execPath;
  const distSrc = options.distSrc ?? DIST_SRC;
  const runtimeFiles = await listRuntimeFiles(distSrc);
  if (runtimeFiles.length === 0) throw new ConfigError(`no compiled runtime under ${distSrc}`, { hint: 'run `npm run build` first' });
  const id = await imageId(nodePath, distSrc, runtimeFiles);
  const dir = path.join(imagesDir, id);
  if (options.force !== true) {
    const existing = await readManifest(dir);
    if (existing !== undefined) return { manifest: existing, dir, rootfs: path.join(dir, 'rootfs'), built: false };
  }
  await mkdir(imagesDir, { recursive: true });
  const tmp = path.join(imagesDir, `.${id}.${process.pid}.${Date.now()}.tmp`);
  try {
    const rootfs = path.join(tmp, 'rootfs');
    for (const d of ['usr/bin', 'etc', 'tmp', 'proc', 'dev', 'sys', 'opt/brisk']) await mkdir(path.join(rootfs, d), { recursive: true });
    // runc gives a tmpfs the mode of the directory it covers: /tmp must be world-writable and sticky
    await chmod(path.join(rootfs, 'tmp'), 0o1777);
    await placeFile(nodePath, path.join(rootfs, NODE_IN_IMAGE), { link: true });
    const libraries = await linkedLibraries(nodePath);
    for (const lib of libraries) await placeFile(lib, path.join(rootfs, lib), { link: true });
    // copied, never linked: the build rewrites these files in place
    for (const rel of runtimeFiles) await placeFile(path.join(distSrc, rel), path.join(rootfs, 'opt/brisk/src', rel), { link: false });
    await writeFile(path.join(rootfs, 'opt/brisk/package.json'), '{ "type": "module" }\n');
    await writeFile(path.join(rootfs, 'etc/passwd'), `nobody:x:${ACTION_USER.uid}:${ACTION_USER.gid}:nobody:/nonexistent:/usr/sbin/nologin\n`);
    await writeFile(path.join(rootfs, 'etc/group'), `nogroup:x:${ACTION_USER.gid}:\n`);
    const { stdout: nodeVersion } = await execa(nodePath, ['--version'], { timeout: 10_000 });
    const manifest: ImageManifest = {
      id,
      nodeVersion: nodeVersion.trim(),
      createdAt: new Date().toISOString(),
      sizeBytes: await directorySize(rootfs),
      libraries,
    };
    await writeFile(path.join(tmp, 'image.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(tmp, dir);
    } catch (err) {
      // another build of the same inputs won the race: its image is as good as ours
      const other = await readManifest(dir);
      if (other === undefined) throw err;
      return { manifest: other, dir, rootfs: path.join(dir, 'rootfs'), built: false };
    }
    return { manifest, dir, rootfs: path.join(dir, 'rootfs'), built: true };
  } catch (err) {
    throw err instanceof ConfigError ? err : new ConfigError(`cannot build the container image in ${imagesDir}: ${messageOf(err)}`, { cause: err });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The manifest of the image in `dir`, or undefined when there is no complete image there. */
export async function readManifest(dir: string): Promise<ImageManifest | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'image.json'), 'utf8')) as ImageManifest;
  } catch {
    return undefined;
  }
}

/**
 * The libraries the dynamic loader maps for `binary`, as absolute host paths (the loader itself
 * included). Parsed from `ldd`; a statically linked binary has none.
 */
export async function linkedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await execa('ldd', [binary], { timeout: 10_000 }));
  } catch (err) {
    if (/not a dynamic executable/.test(messageOf(err))) return [];
    throw new ConfigError(`cannot list the libraries of ${binary} with ldd: ${messageOf(err)}`, { cause: err, hint: 'install libc-bin (ldd)' });
  }
  return parseLdd(stdout);
}

/** Pure: the absolute paths in `ldd` output (`libx.so => /lib/libx.so (0x…)` and `/lib64/ld-linux… (0x…)`). */
export function parseLdd(output: string): string[] {
  const paths = new Set<string>();
  for (const line of output.split('\n')) {
    const resolved = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (resolved?.[1] !== undefined) paths.add(resolved[1]);
  }
  return [...paths].sort();
}

async function listRuntimeFiles(distSrc: string): Promise<string[]> {
  const out: string[] = [];
  for (const part of RUNTIME_PARTS) {
    const full = path.join(distSrc, part);
    const info = await stat(full).catch(() => undefined);
    if (info === undefined) continue;
    if (info.isFile()) {
      out.push(part);
      continue;
    }
    for (const name of await readdir(full)) if (name.endsWith('.js')) out.push(path.join(part, name));
  }
  return out.sort();
}

async function imageId(nodePath: string, distSrc: string, runtimeFiles: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  const node = await stat(nodePath);
  hash.update(`layout ${LAYOUT_VERSION}\nnode ${path.resolve(nodePath)} ${node.size} ${node.mtimeMs}\n`);
  for (const rel of runtimeFiles) {
    hash.update(`${rel}\n`);
    hash.update(await readFile(path.join(distSrc, rel)));
  }
  return `brisk-${hash.digest('hex').slice(0, 16)}`;
}

/**
 * With `link`, a hard link when source and target share a filesystem (no 100 MB copy of node; the
 * package manager replaces binaries by rename, so the image keeps the old inode), else a copy.
 */
async function placeFile(source: string, target: string, options: { link: boolean }): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  // link() does not follow symlinks (the loader in /lib64 is one, to an absolute path the image lacks)
  source = await realpath(source);
  if (options.link) {
    try {
      await link(source, target);
      return;
    } catch {
      // another filesystem: copy
    }
  }
  await copyFile(source, target);
}

async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}
