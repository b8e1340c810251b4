/**
 * The images of a host: listing them and removing the ones nothing uses.
 *
 * Each build of a new node or a new brisk adds an image (about 100 MB, mostly node) beside the
 * earlier ones, which agents of an older brisk may still run. `pruneImages` removes every image but
 * the current one, except those a running container uses: a process whose root mount (in
 * `/proc/<pid>/mountinfo`, the source path of the mount at `/`) is an image's rootfs, matched by the
 * image id, which is unique, since the source path is relative to its filesystem. Half-written builds
 * (`.<id>.*.tmp`) older than an hour go too.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { currentImageId, DEFAULT_IMAGES_DIR, readManifest, type ImageManifest } from './rootfs.js';

export interface ImageEntry {
  manifest: ImageManifest;
  dir: string;
  /** the image this brisk builds (its node and runtime) */
  current: boolean;
  /** pids of processes running on it (runc containers) */
  usedBy: number[];
}

export interface ImageStoreOptions {
  /** default DEFAULT_IMAGES_DIR */
  imagesDir?: string;
  /** the id treated as current; default currentImageId() */
  currentId?: string;
  /** default /proc */
  procRoot?: string;
}

const STALE_BUILD_MS = 60 * 60 * 1000;

/** Every complete image in the directory, current first, then newest first. */
export async function listImages(options: ImageStoreOptions = {}): Promise<ImageEntry[]> {
  const imagesDir = path.resolve(options.imagesDir ?? DEFAULT_IMAGES_DIR);
  const currentId = options.currentId ?? (await currentImageId());
  const roots = await processRoots(options.procRoot ?? '/proc');
  const entries: ImageEntry[] = [];
  for (const name of await readdir(imagesDir).catch(() => [] as string[])) {
    if (name.startsWith('.')) continue;
    const dir = path.join(imagesDir, name);
    const manifest = await readManifest(dir);
    if (manifest === undefined) continue;
    const suffix = `/${manifest.id}/rootfs`;
    const usedBy = [...roots].filter(([, root]) => root.endsWith(suffix)).map(([pid]) => pid);
    entries.push({ manifest, dir, current: manifest.id === currentId, usedBy });
  }
  return entries.sort((a, b) => Number(b.current) - Number(a.current) || b.manifest.createdAt.localeCompare(a.manifest.createdAt));
}

export interface PruneResult {
  removed: ImageManifest[];
  /** old images kept because a container runs on them */
  inUse: ImageManifest[];
  /** abandoned half-written builds removed */
  staleBuilds: number;
}

/** Removes every image but the current one that no running container uses. */
export async function pruneImages(options: ImageStoreOptions = {}): Promise<PruneResult> {
  const imagesDir = path.resolve(options.imagesDir ?? DEFAULT_IMAGES_DIR);
  const result: PruneResult = { removed: [], inUse: [], staleBuilds: 0 };
  for (const entry of await listImages(options)) {
    if (entry.current) continue;
    if (entry.usedBy.length > 0) {
      result.inUse.push(entry.manifest);
      continue;
    }
    await rm(entry.dir, { recursive: true, force: true });
    result.removed.push(entry.manifest);
  }
  for (const name of await readdir(imagesDir).catch(() => [] as string[])) {
    if (!/^\..*\.tmp$/.test(name)) continue;
    const info = await stat(path.join(imagesDir, name)).catch(() => undefined);
    if (info === undefined || Date.now() - info.mtimeMs < STALE_BUILD_MS) continue;
    await rm(path.join(imagesDir, name), { recursive: true, force: true });
    result.staleBuilds += 1;
  }
  return result;
}

/**
 * pid → the source path of its root mount, for every process whose root is not the host's (others,
 * and processes we may not look at, are skipped). mountinfo fields: id, parent, dev, root, mount point, …
 */
async function processRoots(procRoot: string): Promise<Map<number, string>> {
  const roots = new Map<number, string>();
  for (const name of await readdir(procRoot).catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const info = await readFile(path.join(procRoot, name, 'mountinfo'), 'utf8').catch(() => '');
    for (const line of info.split('\n')) {
      const fields = line.split(' ');
      if (fields[4] !== '/') continue;
      if (fields[3] !== undefined && fields[3] !== '/') roots.set(Number(name), fields[3]);
      break;
    }
  }
  return roots;
}
