import { Args } from '@oclif/core';
import { BriskCommand, configProfileFlag } from '../../cli/base.js';
import { CONFIG_KEYS, openCliConfig, parseConfigKey, selectedProfile } from '../../cli/config.js';
import { NotFoundError } from '../../errors.js';

export interface ConfigGetResult {
  profile: string;
  key: string;
  value: string;
}

export default class ConfigGet extends BriskCommand {
  static override summary = 'Print a key of a profile.';
  static override examples = ['<%= config.bin %> config get apihost', '<%= config.bin %> config get auth --profile prod'];
  static override args = { key: Args.string({ description: `one of ${CONFIG_KEYS.join(', ')}`, required: true }) };
  static override flags = { profile: configProfileFlag };

  async run(): Promise<ConfigGetResult> {
    const { args, flags } = await this.parse(ConfigGet);
    const key = parseConfigKey(args.key);
    const config = openCliConfig();
    const profile = selectedProfile({ flag: flags.profile, config });
    const value = config.profile(profile)?.[key];
    if (value === undefined) {
      throw new NotFoundError(`${key} is not set in profile '${profile}'.`, { hint: `Set it with \`brisk config set ${key} VALUE${flags.profile === undefined ? '' : ` --profile ${profile}`}\`.` });
    }
    this.log(value);
    return { profile, key, value };
  }
}
