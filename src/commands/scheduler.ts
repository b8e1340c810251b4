import { BriskCommand } from '../cli/base.js';
import { daemonFlags, loggerFor, metricsTokenOption, placementOptions, portFlag, schedulerPoolFlags, stemCellsOf } from '../cli/daemon-flags.js';
import { resolveClusterToken, resolveDataDir } from '../cli/data-dir.js';
import { waitForShutdown } from '../cli/shutdown.js';
import { EMBEDDED_STEM_CELLS, startScheduler } from '../scheduler/daemon.js';

export default class Scheduler extends BriskCommand {
  static override summary = 'Run the scheduler (the singleton that places containers) until SIGINT/SIGTERM.';
  static override description =
    'Agents and controllers connect to it with --scheduler ws://HOST:PORT and the same cluster token. Without --token or BRISK_CLUSTER_TOKEN, the token is read from (or created in) the data directory.';
  static override examples = ['<%= config.bin %> scheduler', '<%= config.bin %> scheduler --host 0.0.0.0 --port 3234 --token "$BRISK_CLUSTER_TOKEN"'];
  static override flags = {
    ...daemonFlags,
    ...schedulerPoolFlags,
    port: portFlag({ description: 'port for agents and controllers (0 picks a free one)', default: 3234 }),
  };

  async run(): Promise<undefined> {
    const waiter = waitForShutdown();
    try {
      const { flags } = await this.parse(Scheduler);
      const dataDir = resolveDataDir(flags['data-dir']);
      const { token, source } = await resolveClusterToken({ flag: flags.token, dataDir, create: true });
      const scheduler = await startScheduler({
        host: flags.host,
        port: flags.port,
        token,
        stemCells: stemCellsOf(flags['stem-cell'], EMBEDDED_STEM_CELLS),
        ...(flags['queue-size'] === undefined ? {} : { queue: { maxSize: flags['queue-size'] } }),
        ...placementOptions(flags),
        log: loggerFor(flags, 'scheduler'),
        ...metricsTokenOption(flags),
      });
      const report = { url: scheduler.url, port: scheduler.port, tokenSource: source, dataDir, pid: process.pid };
      if (this.jsonEnabled()) this.emitJson(report);
      else this.log(`scheduler listening on ${scheduler.url} (cluster token from ${source === 'created' || source === 'file' ? `${dataDir}/cluster-token` : source})`);
      await this.runUntilSignal(() => scheduler.close(), waiter);
    } finally {
      waiter.dispose();
    }
    return undefined;
  }
}
