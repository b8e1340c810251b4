/**
 * Images of a host: building, listing and pruning, with real image builds in a temporary images
 * directory; with runc, an old image that a running container uses survives a prune.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RuncBackend } from '../../../src/agent/backends/runc.js';
import { buildImage, currentImageId } from '../../../src/image/rootfs.js';
import { listImages, pruneImages } from '../../../src/image/store.js';
import { describeWithSystem, RUNC } from '../../support/require-system.js';

const DIST_SRC = fileURLToPath(new URL('../../../dist/src/', import.meta.url));

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'brisk-images-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A copy of the compiled runtime with one file changed: the image of "an older brisk". */
async function olderDist(): Promise<string> {
  const copy = join(dir, 'older-dist');
  for (const part of ['runtime', 'model', 'errors.js']) await cp(join(DIST_SRC, part), join(copy, part), { recursive: true });
  const file = join(copy, 'runtime', 'main.js');
  await writeFile(file, `${await readFile(file, 'utf8')}\n// an older build\n`);
  return copy;
}

describe('images of a host', () => {
  it('builds once per input, lists the current image first, and prunes the others', async () => {
    const imagesDir = join(dir, 'images');
    const older = await buildImage({ imagesDir, distSrc: await olderDist() });
    const current = await buildImage({ imagesDir });
    expect(older.manifest.id).not.toBe(current.manifest.id);
    expect(current.manifest.id).toBe(await currentImageId());
    expect((await buildImage({ imagesDir })).built).toBe(false);
    // (containers of other tests may run on the current image id from another images directory:
    // matching is by id, on purpose conservative, so only the older image's users are asserted)
    const listed = await listImages({ imagesDir });
    expect(listed.map((i) => [i.manifest.id, i.current])).toEqual([
      [current.manifest.id, true],
      [older.manifest.id, false],
    ]);
    expect(listed[1]?.usedBy).toEqual([]);
    expect(await pruneImages({ imagesDir })).toEqual({ removed: [older.manifest], inUse: [], staleBuilds: 0 });
    expect((await listImages({ imagesDir })).map((i) => i.manifest.id)).toEqual([current.manifest.id]);
    expect(await pruneImages({ imagesDir })).toEqual({ removed: [], inUse: [], staleBuilds: 0 });
  });
});

describeWithSystem(RUNC, 'images in use by runc containers', () => {
  it('keeps an older image while a container runs on it, and removes it afterwards', async () => {
    const imagesDir = join(dir, 'images');
    const older = await buildImage({ imagesDir, distSrc: await olderDist() });
    const backend = await RuncBackend.open({ dataDir: join(dir, 'agent'), image: older });
    try {
      await backend.create({ containerId: 'old-image-1', kind: 'nodejs:20', memoryMB: 128, env: {} });
      const listed = await listImages({ imagesDir });
      expect(listed.find((i) => i.manifest.id === older.manifest.id)?.usedBy).toHaveLength(1);
      expect(await pruneImages({ imagesDir })).toEqual({ removed: [], inUse: [older.manifest], staleBuilds: 0 });
      await backend.destroy('old-image-1');
      expect(await pruneImages({ imagesDir })).toEqual({ removed: [older.manifest], inUse: [], staleBuilds: 0 });
    } finally {
      await backend.close();
    }
  });
});
