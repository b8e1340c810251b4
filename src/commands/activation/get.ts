import { Args } from '@oclif/core';
import type { ActivationView } from '../../client/types.js';
import { ApiCommand } from '../../cli/base.js';
import { formatJson } from '../../cli/format.js';

export default class ActivationGet extends ApiCommand {
  static override summary = 'Show an activation record (result, logs, timings, annotations).';
  static override args = { id: Args.string({ description: 'activation id (32 hex characters)', required: true }) };

  async run(): Promise<ActivationView> {
    const { args, flags } = await this.parse(ActivationGet);
    const activation = await this.client(flags).activations.get(args.id);
    this.log(formatJson(activation));
    return activation;
  }
}
