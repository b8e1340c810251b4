import { Args } from '@oclif/core';
import type { ActionView } from '../../client/types.js';
import { actionFlags, actionSpecOf } from '../../cli/action-flags.js';
import { createAction } from '../../cli/actions.js';
import { ApiCommand } from '../../cli/base.js';

export default class ActionCreate extends ApiCommand {
  static override summary = 'Create an action from a code file.';
  static override examples = [
    '<%= config.bin %> action create hello hello.js',
    '<%= config.bin %> action create hello hello.js -p greeting Hi --memory 128MB --timeout 3s',
    '<%= config.bin %> action create skeleton --docker my-runtime:1.0',
  ];
  static override args = {
    name: Args.string({ description: 'action name (name, pkg/name or /namespace/name)', required: true }),
    file: Args.string({ description: 'code file: .js source, or a .zip (package.json main or index.js); optional with --docker' }),
  };
  static override flags = actionFlags;
  protected static override takesParamPairs = true;

  async run(): Promise<ActionView> {
    const { args, flags } = await this.parse(ActionCreate);
    const action = await createAction(this.client(flags), await actionSpecOf(args, flags, this.paramPairs));
    this.log(`ok: created action ${args.name}`);
    return action;
  }
}
