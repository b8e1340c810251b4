import { Args } from '@oclif/core';
import { ApiCommand } from '../../cli/base.js';

export default class ActivationLogs extends ApiCommand {
  static override summary = 'Print the logs of an activation.';
  static override args = { id: Args.string({ description: 'activation id', required: true }) };

  async run(): Promise<{ logs: string[] }> {
    const { args, flags } = await this.parse(ActivationLogs);
    const logs = await this.client(flags).activations.logs(args.id);
    if (logs.length > 0) this.log(logs.join('\n'));
    return { logs };
  }
}
