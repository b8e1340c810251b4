import { Args } from '@oclif/core';
import type { ActivationSummary } from '../../client/types.js';
import { ApiCommand } from '../../cli/base.js';
import { countFlag, timeFlag } from '../../cli/flags.js';
import { formatActivationList } from '../../cli/format.js';

export default class ActivationList extends ApiCommand {
  static override summary = 'List activations, newest first.';
  static override examples = ['<%= config.bin %> activation list', '<%= config.bin %> activation list hello --limit 5', '<%= config.bin %> activation list --since 2024-05-01T10:00:00Z'];
  static override args = { name: Args.string({ description: 'only activations of this action', required: false }) };
  static override flags = {
    limit: countFlag({ description: 'at most this many (1..200, default 30; 0 means 200)' }),
    skip: countFlag({ description: 'skip this many' }),
    since: timeFlag({ description: 'started at or after this time (epoch ms or ISO date)' }),
    upto: timeFlag({ description: 'started at or before this time (epoch ms or ISO date)' }),
  };

  async run(): Promise<ActivationSummary[]> {
    const { args, flags } = await this.parse(ActivationList);
    const activations = await this.client(flags).activations.list({ name: args.name, limit: flags.limit, skip: flags.skip, since: flags.since, upto: flags.upto });
    this.log(formatActivationList(activations, { width: this.width, style: this.style }));
    return activations;
  }
}
