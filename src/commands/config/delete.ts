import { Args } from '@oclif/core';
import { BriskCommand } from '../../cli/base.js';
import { openCliConfig } from '../../cli/config.js';

export default class ConfigDelete extends BriskCommand {
  static override summary = 'Delete a profile (deleting the current one makes `default` current).';
  static override examples = ['<%= config.bin %> config delete staging'];
  static override args = { profile: Args.string({ description: 'profile name', required: true }) };

  async run(): Promise<{ profile: string; currentProfile: string }> {
    const { args } = await this.parse(ConfigDelete);
    const config = openCliConfig();
    config.deleteProfile(args.profile);
    this.log(`ok: deleted profile '${args.profile}'`);
    return { profile: args.profile, currentProfile: config.currentProfile() };
  }
}
