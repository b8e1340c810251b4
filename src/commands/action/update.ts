import { Args } from '@oclif/core';
import type { ActionView } from '../../client/types.js';
import { actionFlags, actionSpecOf } from '../../cli/action-flags.js';
import { updateAction } from '../../cli/actions.js';
import { ApiCommand } from '../../cli/base.js';

export default class ActionUpdate extends ApiCommand {
  static override summary = 'Update an action (or create it): code, parameters, limits, kind, entry.';
  static override description = 'Only what is given changes: without FILE the code stays; -p/-P replace all parameters.';
  static override examples = ['<%= config.bin %> action update hello hello.js', '<%= config.bin %> action update hello --memory 512 --timeout 10s', '<%= config.bin %> action update hello -p name Ada'];
  static override args = {
    name: Args.string({ description: 'action name', required: true }),
    file: Args.string({ description: 'new code file (optional)', required: false }),
  };
  static override flags = actionFlags;
  protected static override takesParamPairs = true;

  async run(): Promise<ActionView> {
    const { args, flags } = await this.parse(ActionUpdate);
    const action = await updateAction(this.client(flags), await actionSpecOf(args, flags, this.paramPairs));
    this.log(`ok: updated action ${args.name}`);
    return action;
  }
}
