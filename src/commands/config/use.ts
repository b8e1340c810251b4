import { Args } from '@oclif/core';
import { BriskCommand } from '../../cli/base.js';
import { openCliConfig } from '../../cli/config.js';

export default class ConfigUse extends BriskCommand {
  static override summary = 'Make a profile the current one.';
  static override examples = ['<%= config.bin %> config use prod'];
  static override args = { profile: Args.string({ description: 'profile name', required: true }) };

  async run(): Promise<{ currentProfile: string }> {
    const { args } = await this.parse(ConfigUse);
    openCliConfig().useProfile(args.profile);
    this.log(`ok: profile '${args.profile}' is current`);
    return { currentProfile: args.profile };
  }
}
