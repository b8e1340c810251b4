import { Args, Flags } from '@oclif/core';
import type { ActionView } from '../../client/types.js';
import { ApiCommand } from '../../cli/base.js';
import { formatJson } from '../../cli/format.js';

export default class ActionGet extends ApiCommand {
  static override summary = 'Show an action.';
  static override examples = ['<%= config.bin %> action get hello', '<%= config.bin %> action get hello --no-code'];
  static override args = { name: Args.string({ description: 'action name', required: true }) };
  static override flags = { code: Flags.boolean({ description: 'include the code', default: true, allowNo: true }) };

  async run(): Promise<ActionView> {
    const { args, flags } = await this.parse(ActionGet);
    const action = await this.client(flags).actions.get(args.name, { code: flags.code });
    this.log(formatJson(action));
    return action;
  }
}
