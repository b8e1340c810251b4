import { Flags } from '@oclif/core';
import Dockerode from 'dockerode';
import { BriskCommand } from '../../cli/base.js';
import { DOCKER_IMAGE_REPOSITORY, pruneDockerImages, type DockerPruneResult } from '../../image/docker-image.js';
import { currentImageId, DEFAULT_IMAGES_DIR } from '../../image/rootfs.js';
import { pruneImages, type PruneResult } from '../../image/store.js';

export interface ImagePruneResult extends PruneResult {
  current: string;
  /** absent when no Docker daemon answered */
  docker?: DockerPruneResult;
}

export default class ImagePrune extends BriskCommand {
  static override summary = 'Remove the container images this brisk no longer builds, unless a container still runs on them.';
  static override description = `Keeps the current image (this node and this runtime). An older image that a running runc container uses is kept and listed; with a Docker daemon on /var/run/docker.sock (or DOCKER_HOST) the older ${DOCKER_IMAGE_REPOSITORY}:<id> tags go too, except those a container uses.`;
  static override examples = ['<%= config.bin %> image prune', '<%= config.bin %> image prune --no-docker --json'];
  static override flags = {
    'images-dir': Flags.string({ description: `where images are (default ${DEFAULT_IMAGES_DIR})` }),
    docker: Flags.boolean({ description: 'also remove older images from the local Docker daemon, when one answers', default: true, allowNo: true }),
  };

  async run(): Promise<ImagePruneResult> {
    const { flags } = await this.parse(ImagePrune);
    const current = await currentImageId();
    const result: ImagePruneResult = { current, ...(await pruneImages({ currentId: current, ...(flags['images-dir'] === undefined ? {} : { imagesDir: flags['images-dir'] }) })) };
    if (flags.docker) {
      // a bounded ping and removals: a wedged daemon must not hang the command
      const docker = new Dockerode({ timeout: 30_000 });
      const answers = await docker.ping().then(
        () => true,
        () => false,
      );
      if (answers) result.docker = await pruneDockerImages(docker, `${DOCKER_IMAGE_REPOSITORY}:${current}`);
    }
    for (const m of result.removed) this.log(`removed ${m.id}`);
    for (const m of result.inUse) this.log(`kept ${m.id}: a container runs on it`);
    for (const tag of result.docker?.removed ?? []) this.log(`removed docker image ${tag}`);
    for (const tag of result.docker?.inUse ?? []) this.log(`kept docker image ${tag}: a container uses it`);
    if (result.removed.length + (result.docker?.removed.length ?? 0) === 0) this.log(`nothing to remove (current image ${current})`);
    return result;
  }
}
