/**
 * `node dist/bench/docker-lifecycle.js [--containers N] [--cycles N] [--memory MB]
 * [--pause-method docker|freezer]`: the docker
 * backend's lifecycle figures on this machine (bench/lib/container-lifecycle.ts says what is
 * measured). Needs root and a running dockerd; builds and imports the brisk image when missing
 * (first run only). Prints one JSON document.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerBackend, type DockerPauseMethod } from '../src/agent/backends/docker.js';
import { measureLifecycle } from './lib/container-lifecycle.js';

function flag(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  const value = i === -1 ? fallback : Number(argv[i + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} takes a positive integer`);
  return value;
}

const argv = process.argv.slice(2);
const methodAt = argv.indexOf('--pause-method');
const pauseMethod: DockerPauseMethod = methodAt !== -1 && argv[methodAt + 1] === 'freezer' ? 'freezer' : 'docker';
const dataDir = await mkdtemp(join(tmpdir(), 'brisk-bench-docker-'));
const backend = await DockerBackend.open({ dataDir, imagesDir: join(tmpdir(), 'brisk-test-images'), pull: false, pauseMethod });
try {
  const figures = await measureLifecycle({
    backend,
    containers: flag(argv, '--containers', 10),
    cycles: flag(argv, '--cycles', 10),
    memoryMB: flag(argv, '--memory', 256),
  });
  console.log(JSON.stringify({ ...figures, pauseMethod }, null, 2));
} finally {
  await backend.close();
  await rm(dataDir, { recursive: true, force: true });
}
