import type { ActionSummary } from '../../client/types.js';
import { ApiCommand } from '../../cli/base.js';
import { countFlag } from '../../cli/flags.js';
import { formatActionList } from '../../cli/format.js';

export default class ActionList extends ApiCommand {
  static override summary = 'List actions, newest first.';
  static override flags = {
    limit: countFlag({ description: 'at most this many (1..200, default 30; 0 means 200)' }),
    skip: countFlag({ description: 'skip this many' }),
  };

  async run(): Promise<ActionSummary[]> {
    const { flags } = await this.parse(ActionList);
    const actions = await this.client(flags).actions.list({ limit: flags.limit, skip: flags.skip });
    this.log(formatActionList(actions, { width: this.width, style: this.style }));
    return actions;
  }
}
