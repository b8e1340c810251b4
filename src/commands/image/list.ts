import { Flags } from '@oclif/core';
import { BriskCommand } from '../../cli/base.js';
import { DEFAULT_IMAGES_DIR } from '../../image/rootfs.js';
import { listImages, type ImageEntry } from '../../image/store.js';

export default class ImageList extends BriskCommand {
  static override summary = 'List the container images of this host (runc and docker backends).';
  static override examples = ['<%= config.bin %> image list', '<%= config.bin %> image list --json'];
  static override flags = {
    'images-dir': Flags.string({ description: `where images are (default ${DEFAULT_IMAGES_DIR})` }),
  };

  async run(): Promise<ImageEntry[]> {
    const { flags } = await this.parse(ImageList);
    const images = await listImages(flags['images-dir'] === undefined ? {} : { imagesDir: flags['images-dir'] });
    this.table(
      ['ID', 'NODE', 'SIZE', 'CREATED', 'CURRENT', 'CONTAINERS'],
      images.map((i) => [i.manifest.id, i.manifest.nodeVersion, `${(i.manifest.sizeBytes / 1024 / 1024).toFixed(1)} MiB`, i.manifest.createdAt, i.current ? 'yes' : '', String(i.usedBy.length)]),
    );
    return images;
  }
}
