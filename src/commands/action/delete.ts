import { Args } from '@oclif/core';
import type { ActionView } from '../../client/types.js';
import { ApiCommand } from '../../cli/base.js';

export default class ActionDelete extends ApiCommand {
  static override summary = 'Delete an action.';
  static override args = { name: Args.string({ description: 'action name', required: true }) };

  async run(): Promise<ActionView> {
    const { args, flags } = await this.parse(ActionDelete);
    const action = await this.client(flags).actions.delete(args.name);
    this.log(`ok: deleted action ${args.name}`);
    return action;
  }
}
