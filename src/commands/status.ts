import { ApiCommand } from '../cli/base.js';
import { fetchStatus, formatPools, statusView } from '../watch/status.js';
import type { WatchSnapshot } from '../watch/snapshot.js';

export default class Status extends ApiCommand {
  static override summary = 'Show the cluster at a glance: scheduler, controller, agents with health and capacity, pools, queue, last decisions.';
  static override description =
    'Reads one snapshot from the controller (GET /api/v1/status) with the saved CLI configuration or --apihost/--auth. Agents and pools are cluster-wide; actions are those of your namespace. With --json the result is the whole snapshot (the same document `brisk top` streams).';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json', '<%= config.bin %> status --apihost http://127.0.0.1:3233 --auth UUID:KEY'];

  async run(): Promise<WatchSnapshot> {
    const { flags } = await this.parse(Status);
    const snapshot = await fetchStatus(this.client(flags));
    const view = statusView(snapshot);
    const labelWidth = Math.max(...view.summary.map(([label]) => label.length));
    for (const [label, value] of view.summary) this.log(`${this.style.paint('bold', label.padEnd(labelWidth))}  ${value}`);
    if (view.pools !== undefined) this.log(`${this.style.paint('bold', 'pools'.padEnd(labelWidth))}  ${formatPools(view.pools)}`);
    for (const [title, table] of [['agents', view.agents], ['actions', view.actions], ['last decisions', view.decisions]] as const) {
      this.log('');
      if (table.rows.length === 0) {
        this.log(this.style.paint('dim', `no ${title}`));
        continue;
      }
      this.table(table.headers, table.rows);
    }
    return snapshot;
  }
}
