import { Args } from '@oclif/core';
import { BriskCommand, configProfileFlag } from '../../cli/base.js';
import { CONFIG_KEYS, openCliConfig, selectedProfile } from '../../cli/config.js';

export default class ConfigUnset extends BriskCommand {
  static override summary = 'Remove a key from a profile.';
  static override examples = ['<%= config.bin %> config unset namespace'];
  static override args = { key: Args.string({ description: `one of ${CONFIG_KEYS.join(', ')}`, required: true }) };
  static override flags = { profile: configProfileFlag };

  async run(): Promise<{ profile: string; key: string }> {
    const { args, flags } = await this.parse(ConfigUnset);
    const config = openCliConfig();
    const profile = selectedProfile({ flag: flags.profile, config });
    config.unsetKey(profile, args.key);
    this.log(`ok: unset ${args.key} in profile '${profile}'`);
    return { profile, key: args.key };
  }
}
