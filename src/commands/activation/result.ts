import { Args } from '@oclif/core';
import type { ActivationResultView } from '../../client/types.js';
import { ApiCommand } from '../../cli/base.js';
import { formatJson } from '../../cli/format.js';

export default class ActivationResult extends ApiCommand {
  static override summary = 'Print the result of an activation.';
  static override description = 'With --json the result comes with its status: {result, success, status}.';
  static override args = { id: Args.string({ description: 'activation id', required: true }) };

  async run(): Promise<ActivationResultView> {
    const { args, flags } = await this.parse(ActivationResult);
    const result = await this.client(flags).activations.result(args.id);
    this.log(formatJson(result.result));
    return result;
  }
}
