import { Args } from '@oclif/core';
import { BriskCommand, configProfileFlag } from '../../cli/base.js';
import { CONFIG_KEYS, openCliConfig, selectedProfile } from '../../cli/config.js';

export interface ConfigSetResult {
  profile: string;
  key: string;
  value: string;
}

export default class ConfigSet extends BriskCommand {
  static override summary = 'Set a key of a profile (creating the profile if needed).';
  static override description = `Keys: ${CONFIG_KEYS.join(', ')}. apihost is an http(s) URL, auth is UUID:KEY, namespace is a namespace name or _.`;
  static override examples = ['<%= config.bin %> config set apihost http://127.0.0.1:3233', '<%= config.bin %> config set auth UUID:KEY --profile prod'];
  static override args = {
    key: Args.string({ description: `one of ${CONFIG_KEYS.join(', ')}`, required: true }),
    value: Args.string({ description: 'the value', required: true }),
  };
  static override flags = { profile: configProfileFlag };

  async run(): Promise<ConfigSetResult> {
    const { args, flags } = await this.parse(ConfigSet);
    const config = openCliConfig();
    const profile = selectedProfile({ flag: flags.profile, config });
    const value = config.setKey(profile, args.key, args.value);
    this.log(`ok: set ${args.key} in profile '${profile}'`);
    return { profile, key: args.key, value };
  }
}
