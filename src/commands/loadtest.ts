import { Args, Flags } from '@oclif/core';
import { ApiCommand } from '../cli/base.js';
import { openCliConfig, resolveApiTarget } from '../cli/config.js';
import { countFlag, durationFlag } from '../cli/flags.js';
import { readParamFile } from '../cli/params.js';
import { createClient } from '../client/client.js';
import { actionsWithPrefix, runLoadtest } from '../loadtest/loadtest.js';
import { DEFAULT_MAX_IN_FLIGHT, parseRate, planOf, targetsOf } from '../loadtest/plan.js';
import { createProgressPrinter } from '../loadtest/progress.js';
import { formatReport, type LoadtestReport } from '../loadtest/report.js';

const rateFlag = Flags.custom<number>({ parse: async (input) => parseRate(input), helpValue: 'REQ/S' });

export default class Loadtest extends ApiCommand {
  static override summary = 'Load-test one or more actions with blocking invokes.';
  static override description =
    'Closed loop (--concurrency N workers, each sending its next request when the previous answers) or open loop (--rate R requests per second, latency measured from when each request was meant to be sent, so queueing is not hidden). ' +
    'Stops after --count requests or --duration, whichever comes first. Reports throughput, answers by HTTP status, and latency percentiles split into cold, warm and resumed-from-pause activations, read from the activation records of the run. ' +
    'ACTION may be NAME:WEIGHT to send it that share of the requests. Ctrl-C stops sending and reports what was sent.';
  static override examples = [
    '<%= config.bin %> loadtest hello --count 1000 --concurrency 8',
    '<%= config.bin %> loadtest hello --rate 200 --duration 30s',
    '<%= config.bin %> loadtest a:3 b:1 --duration 10s -P payload.json --json',
    '<%= config.bin %> loadtest --actions-prefix lt- --count 500',
  ];
  // Any number of actions: the first is declared for the help text, the rest come through argv.
  static override strict = false;
  static override args = { action: Args.string({ description: 'action to load, NAME or NAME:WEIGHT; more may follow' }) };
  static override flags = {
    concurrency: countFlag({ char: 'c', description: 'closed loop: requests in flight at once (default 1)' }),
    rate: rateFlag({ char: 'r', description: 'open loop: requests per second' }),
    'max-in-flight': countFlag({ description: `open loop: most requests waiting for an answer at once (default ${DEFAULT_MAX_IN_FLIGHT})` }),
    count: countFlag({ char: 'n', description: 'requests to send' }),
    duration: durationFlag({ char: 'd', description: 'how long to send, e.g. 30s' }),
    'payload-file': Flags.string({ char: 'P', description: 'JSON object file: the invoke payload of every request', helpValue: 'FILE' }),
    'actions-prefix': Flags.string({ description: 'load every action whose name starts with PREFIX', helpValue: 'PREFIX' }),
  };

  async run(): Promise<LoadtestReport> {
    const { argv, flags } = await this.parse(Loadtest);
    const plan = planOf({ concurrency: flags.concurrency, ratePerSec: flags.rate, maxInFlight: flags['max-in-flight'], count: flags.count, durationMs: flags.duration });
    const payload = flags['payload-file'] === undefined ? {} : await readParamFile(flags['payload-file']);
    const target = resolveApiTarget({ flags, config: openCliConfig() });
    const client = createClient({ apihost: target.apihost, auth: target.auth });
    const byPrefix = flags['actions-prefix'] === undefined ? undefined : await actionsWithPrefix(client, flags['actions-prefix']);
    const targets = targetsOf(argv as string[], byPrefix);

    const printer = this.jsonEnabled() ? undefined : createProgressPrinter({ stream: process.stderr });
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const { report } = await runLoadtest({
        apihost: target.apihost,
        auth: target.auth,
        client,
        targets,
        ...plan,
        payload,
        signal: stop.signal,
        ...(printer === undefined ? {} : { onProgress: (p) => printer.update(p) }),
      });
      printer?.done();
      this.log(formatReport(report, { width: this.width, style: this.style }));
      return report;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
