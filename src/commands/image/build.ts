import { Flags } from '@oclif/core';
import { BriskCommand } from '../../cli/base.js';
import { buildImage, DEFAULT_IMAGES_DIR, type ImageManifest } from '../../image/rootfs.js';

export interface ImageBuildResult extends ImageManifest {
  dir: string;
  rootfs: string;
  /** false when the image existed already */
  built: boolean;
}

export default class ImageBuild extends BriskCommand {
  static override summary = 'Build the container image (minimal root filesystem) the runc and docker backends run.';
  static override description = `Copies this host's node binary, the libraries it links and the brisk runtime into <images-dir>/<id>/rootfs, and nothing else of the host. The id is a hash of the inputs: an unchanged node and runtime reuse the image. Agents build it themselves on first start; run this ahead to prepare a host.`;
  static override examples = ['<%= config.bin %> image build', '<%= config.bin %> image build --images-dir /srv/brisk/images --json'];
  static override flags = {
    'images-dir': Flags.string({ description: `where images go (default ${DEFAULT_IMAGES_DIR})` }),
    force: Flags.boolean({ description: 'rebuild even when the image exists', default: false }),
  };

  async run(): Promise<ImageBuildResult> {
    const { flags } = await this.parse(ImageBuild);
    const image = await buildImage({ force: flags.force, ...(flags['images-dir'] === undefined ? {} : { imagesDir: flags['images-dir'] }) });
    const result: ImageBuildResult = { ...image.manifest, dir: image.dir, rootfs: image.rootfs, built: image.built };
    this.log(`${image.built ? 'built' : 'exists'} ${result.id} (node ${result.nodeVersion}, ${(result.sizeBytes / 1024 / 1024).toFixed(1)} MiB)`);
    this.log(`  rootfs ${result.rootfs}`);
    return result;
  }
}
