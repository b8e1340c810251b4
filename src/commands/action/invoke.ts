import { Args, Flags } from '@oclif/core';
import { paramsOf } from '../../cli/action-flags.js';
import { invokeAction, invokeResultOf, type InvokeResult } from '../../cli/actions.js';
import { ApiCommand, paramFileFlag, paramFlag } from '../../cli/base.js';
import { formatJson, invokedLine } from '../../cli/format.js';

export default class ActionInvoke extends ApiCommand {
  static override summary = 'Invoke an action.';
  static override description =
    'Non-blocking by default: prints the activation id. --blocking waits for the activation (up to 60 s) and prints it; --result prints only its result. A blocking invoke whose activation fails exits with code 1.';
  static override examples = ['<%= config.bin %> action invoke hello -p name Ada --result', '<%= config.bin %> action invoke hello', '<%= config.bin %> action invoke hello -P params.json --blocking'];
  static override args = { name: Args.string({ description: 'action name', required: true }) };
  static override flags = {
    blocking: Flags.boolean({ char: 'b', description: 'wait for the activation and print it' }),
    result: Flags.boolean({ char: 'r', description: 'wait and print only the result (implies --blocking)' }),
    param: paramFlag,
    'param-file': paramFileFlag,
  };
  protected static override takesParamPairs = true;

  async run(): Promise<InvokeResult> {
    const { args, flags } = await this.parse(ActionInvoke);
    const blocking = flags.blocking || flags.result;
    const params = (await paramsOf(flags['param-file'], this.paramPairs)) ?? {};
    const outcome = await invokeAction(this.client(flags), { name: args.name, params, blocking });
    if (outcome.kind === 'accepted') {
      this.log(invokedLine(args.name, outcome.activationId));
      if (blocking) this.note(`still running after the blocking wait; read it later with: brisk activation get ${outcome.activationId}`);
    } else if (flags.result) {
      this.log(formatJson(outcome.activation.response.result));
    } else {
      this.log(invokedLine(args.name, outcome.activation.activationId));
      this.log(formatJson(outcome.activation));
    }
    return invokeResultOf(outcome, { result: flags.result });
  }
}
