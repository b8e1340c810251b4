import { Flags } from '@oclif/core';
import { BriskCommand } from '../cli/base.js';
import { resolveDataDir } from '../cli/data-dir.js';
import { ExitCode } from '../cli/exit-codes.js';
import { portFlag } from '../cli/flags.js';
import { runDoctor, type CheckStatus, type DoctorReport } from '../doctor/index.js';

const MARK: Record<CheckStatus, { text: string; colour: 'green' | 'yellow' | 'red' }> = {
  pass: { text: 'pass', colour: 'green' },
  warn: { text: 'warn', colour: 'yellow' },
  fail: { text: 'FAIL', colour: 'red' },
};

export default class Doctor extends BriskCommand {
  static override summary = 'Check this host before it runs brisk daemons, and say how to fix what fails.';
  static override description = `Checks Node.js, runc, cgroups (memory, pids, freezer), network namespaces (as root), nftables, the Docker daemon (GET /_ping on its socket), the data directory (writable, not locked by a running agent), a port, and the clock (local report only, no network). Each check passes, warns or fails; the exit code is ${ExitCode.platform} when any fails (the --json envelope's status too), else 0. With --backend, what that backend needs fails instead of warning.`;
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --backend runc --port 3234', '<%= config.bin %> doctor --json'];
  static override flags = {
    'data-dir': Flags.string({ description: 'data directory to check (default: ./.brisk-data; env BRISK_DATA_DIR)' }),
    port: portFlag({ description: 'port that must be free (the API port by default)', default: 3233 }),
    host: Flags.string({ description: 'interface of that port', default: '127.0.0.1' }),
    backend: Flags.option({ options: ['process', 'runc', 'docker'] as const, description: 'the agent backend this host will run; what it needs fails instead of warning', default: 'process' as const })(),
  };

  #status: number = ExitCode.ok;

  override toSuccessJson(result: unknown): unknown {
    return { status: this.#status, result };
  }

  async run(): Promise<DoctorReport> {
    const { flags } = await this.parse(Doctor);
    const report = await runDoctor({ dataDir: resolveDataDir(flags['data-dir']), port: flags.port, host: flags.host, backend: flags.backend });
    this.#status = report.summary.ok ? ExitCode.ok : ExitCode.platform;
    if (!report.summary.ok) process.exitCode = this.#status;
    this.table(
      ['', 'check', 'result'],
      report.checks.map((c) => [this.style.paint(MARK[c.status].colour, MARK[c.status].text), c.title, c.message]),
    );
    const fixes = report.checks.filter((c) => c.fix !== undefined);
    if (fixes.length > 0) {
      this.log('');
      for (const c of fixes) this.log(`${this.style.paint(MARK[c.status].colour, MARK[c.status].text)} ${c.title}: ${c.fix}`);
    }
    const { pass, warn, fail } = report.summary;
    this.log(`\n${pass} passed, ${warn} warned, ${fail} failed`);
    return report;
  }
}
