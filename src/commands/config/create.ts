import { Args, Flags } from '@oclif/core';
import { BriskCommand } from '../../cli/base.js';
import { openCliConfig, type ProfileSettings } from '../../cli/config.js';

export default class ConfigCreate extends BriskCommand {
  static override summary = 'Create a profile, optionally with its settings.';
  static override examples = ['<%= config.bin %> config create prod --apihost https://brisk.example:3233 --auth UUID:KEY --use'];
  static override args = { profile: Args.string({ description: 'profile name', required: true }) };
  static override flags = {
    apihost: Flags.string({ description: 'API host URL' }),
    auth: Flags.string({ description: 'API key UUID:KEY' }),
    namespace: Flags.string({ description: 'namespace (default _)' }),
    use: Flags.boolean({ description: 'make it the current profile', default: false }),
  };

  async run(): Promise<{ profile: string; current: boolean; settings: ProfileSettings }> {
    const { args, flags } = await this.parse(ConfigCreate);
    const settings = openCliConfig().createProfile(
      args.profile,
      { apihost: flags.apihost, auth: flags.auth, namespace: flags.namespace },
      { makeCurrent: flags.use },
    );
    this.log(`ok: created profile '${args.profile}'${flags.use ? ' (current)' : ''}`);
    return { profile: args.profile, current: flags.use, settings };
  }
}
