import { Flags } from '@oclif/core';
import { BriskCommand } from '../../cli/base.js';
import { CONFIG_KEYS, listProfiles, maskAuth, openCliConfig, type ProfileListing } from '../../cli/config.js';

export interface ConfigListResult {
  configFile: string;
  currentProfile: string;
  profiles: ProfileListing[];
}

export default class ConfigList extends BriskCommand {
  static override summary = 'List the profiles and their settings; * marks the current one.';
  static override description = 'API keys are shortened in the table unless --show-keys is given; --json always has them whole.';
  static override examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --json'];
  static override flags = { 'show-keys': Flags.boolean({ description: 'show API keys whole', default: false }) };

  async run(): Promise<ConfigListResult> {
    const { flags } = await this.parse(ConfigList);
    const config = openCliConfig();
    const profiles = listProfiles(config);
    const rows = profiles.map((p) => [
      `${p.current ? '*' : ' '} ${p.name}`,
      ...CONFIG_KEYS.map((key) => {
        const value = p.settings[key];
        if (value === undefined) return '';
        return key === 'auth' && !flags['show-keys'] ? maskAuth(value) : value;
      }),
    ]);
    if (rows.length === 0) this.log(`no profiles yet (${config.path}); \`brisk up\` or \`brisk config set apihost URL\` creates one`);
    else this.table(['profile', ...CONFIG_KEYS], rows);
    return { configFile: config.path, currentProfile: config.currentProfile(), profiles };
  }
}
