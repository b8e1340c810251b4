/**
 * The brisk root filesystem (rootfs.ts) as a local Docker image, for the docker backend.
 *
 * The image is made on this host, never pulled: the rootfs directory is streamed as a tar archive
 * (`tar` CLI) into Docker's import endpoint (`POST /images/create?fromSrc=-`) and tagged
 * `brisk-runtime:<image id>`. The image id already names the inputs (node binary, runtime files), so
 * an existing tag is the same image and the import is skipped. Two agents importing at once both
 * succeed: the later import re-points the tag at identical content.
 */
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { execa } from 'execa';
import { ConfigError, messageOf } from '../errors.js';
import { NODE_IN_IMAGE, RUNTIME_ENTRY_IN_IMAGE, type BuiltImage } from './rootfs.js';

/** The repository of brisk's runtime images in the local Docker image store. */
export const DOCKER_IMAGE_REPOSITORY = 'brisk-runtime';

/** The reference (`repository:tag`) of the Docker image made from `image`. Pure. */
export function dockerImageRef(image: Pick<BuiltImage, 'manifest'>): string {
  return `${DOCKER_IMAGE_REPOSITORY}:${image.manifest.id}`;
}

export interface EnsureDockerImageOptions {
  /** bound on the whole import; default 300 000 ms (the archive holds node, ~100 MB) */
  timeoutMs?: number;
}

/**
 * Imports `image`'s rootfs into Docker unless `brisk-runtime:<id>` exists; resolves with that
 * reference. The image's default command runs the runtime, like the backend does, so an operator can
 * `docker run` it by hand; the backend always sets the command itself. Throws ConfigError on failure.
 */
export async function ensureDockerImage(docker: Dockerode, image: BuiltImage, options: EnsureDockerImageOptions = {}): Promise<string> {
  const ref = dockerImageRef(image);
  if (await hasImage(docker, ref)) return ref;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  // Docker gives a tmpfs the mode of the image's directory under it, so /tmp must be 1777 in the
  // image (the rootfs has it 0755; runc sets the mode on its own tmpfs mount): it comes from here.
  const staging = await mkdtemp(path.join(tmpdir(), 'brisk-docker-import-'));
  await mkdir(path.join(staging, 'brisk-tmp'));
  await chmod(path.join(staging, 'brisk-tmp'), 0o1777);
  // numeric owners: the image's own /etc/passwd is what names them inside
  const tar = execa('tar', [
    '--numeric-owner',
    '-c',
    '-C',
    image.rootfs,
    '--exclude=./tmp',
    '.',
    '-C',
    staging,
    // (the exclusion is global: the staged directory has another name, renamed in the archive)
    '--transform=s,^\\./brisk-tmp$,./tmp,',
    './brisk-tmp',
  ], {
    stdin: 'ignore',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    cancelSignal: abort.signal,
    reject: false,
  });
  try {
    const progress = await docker.importImage(tar.stdout, {
      repo: DOCKER_IMAGE_REPOSITORY,
      tag: image.manifest.id,
      changes: [`CMD ["${NODE_IN_IMAGE}", "${RUNTIME_ENTRY_IN_IMAGE}"]`],
      abortSignal: abort.signal,
    });
    await followImport(docker, progress);
    const result = await tar;
    if (result.failed) throw new Error(`tar of ${image.rootfs} failed: ${String(result.stderr).trim() || result.message}`);
    if (!(await hasImage(docker, ref))) throw new Error(`Docker accepted the archive but has no image ${ref}`);
    return ref;
  } catch (err) {
    tar.kill();
    const why = abort.signal.aborted ? `did not finish within ${timeoutMs} ms` : messageOf(err);
    throw new ConfigError(`cannot import the brisk image into Docker as ${ref}: ${why}`, {
      cause: err,
      hint: 'check that dockerd runs and has disk space (docker info, docker system df)',
    });
  } finally {
    clearTimeout(timer);
    await rm(staging, { recursive: true, force: true });
  }
}

/** True when the local image store has `ref` (never pulls). */
export async function hasImage(docker: Dockerode, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Waits for the end of an import's progress stream; an `error` line in it is a failure. */
function followImport(docker: Dockerode, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: unknown[]) => {
      if (err !== null) return reject(err);
      const failed = output.find((line): line is { error: unknown } => typeof line === 'object' && line !== null && 'error' in line);
      if (failed !== undefined) return reject(new Error(String(failed.error)));
      resolve();
    });
  });
}

export interface DockerPruneResult {
  /** tags removed */
  removed: string[];
  /** tags kept because a container (running or stopped) uses them */
  inUse: string[];
}

/**
 * Removes every `brisk-runtime:<id>` tag but `keep`'s. Docker refuses (409) to remove an image a
 * container uses, and that refusal is respected (never forced): such tags are reported in `inUse`.
 */
export async function pruneDockerImages(docker: Dockerode, keep: string): Promise<DockerPruneResult> {
  const result: DockerPruneResult = { removed: [], inUse: [] };
  const images = await docker.listImages({ filters: JSON.stringify({ reference: [`${DOCKER_IMAGE_REPOSITORY}:*`] }) });
  for (const tag of images.flatMap((i) => i.RepoTags ?? []).filter((t) => t.startsWith(`${DOCKER_IMAGE_REPOSITORY}:`) && t !== keep).sort()) {
    try {
      await docker.getImage(tag).remove();
      result.removed.push(tag);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 409) result.inUse.push(tag);
      else if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }
  return result;
}
