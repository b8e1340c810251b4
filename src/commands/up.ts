import { totalmem } from 'node:os';
import { Flags } from '@oclif/core';
import { LOG_LEVELS, type LogLevel } from '../daemon/log.js';
import { createClient } from '../client/client.js';
import { BriskCommand } from '../cli/base.js';
import { EMBEDDED_STEM_CELLS } from '../scheduler/daemon.js';
import { DEFAULT_PROFILE, openCliConfig } from '../cli/config.js';
import { agentBackend, backendFlags, controllerPoolFlags, controllerPoolOptions, daemonFlags, loggerFor, metricsTokenOption, namespaceLimitFlags, namespaceLimits, placementOptions, schedulerPoolFlags, stemCellsOf } from '../cli/daemon-flags.js';
import { defaultAgentMemoryMB, resolveClusterToken, resolveDataDir } from '../cli/data-dir.js';
import { memoryFlag, portFlag } from '../cli/flags.js';
import { sampleActionFile } from '../cli/package-root.js';
import { startPlatform, type Platform } from '../cli/platform.js';
import { runSample, type SampleRun } from '../cli/sample.js';
import { errorEnvelope, type ErrorEnvelope } from '../cli/envelope.js';
import { waitForShutdown } from '../cli/shutdown.js';

export default class Up extends BriskCommand {
  static override summary = 'Run the whole platform here: scheduler, controller (REST API) and agent in one process.';
  static override description = `Stores entities and activations in SQLite in the data directory, runs actions in containers (--backend auto: runc, isolated, when running as root with runc installed; else plain processes), saves the guest namespace's API host and key as the current CLI profile, deploys and invokes the sample action, then runs until Ctrl-C (SIGINT) or SIGTERM, which stops every daemon and removes every container.`;
  static override examples = ['<%= config.bin %> up', '<%= config.bin %> up --port 0 --data-dir /tmp/brisk --json'];
  static override flags = {
    ...daemonFlags,
    ...namespaceLimitFlags,
    ...schedulerPoolFlags,
    ...controllerPoolFlags,
    ...backendFlags,
    port: portFlag({ description: 'REST API port (0 picks a free one)', default: 3233 }),
    memory: memoryFlag({ description: 'agent capacity for containers (default: half the host memory, 256..2048 MB)' }),
    profile: Flags.string({ description: 'CLI profile to save the API host and key in (default: the current one)' }),
    sample: Flags.boolean({ description: 'deploy and invoke the sample action', default: true, allowNo: true }),
    // Three daemons share one terminal here: only warnings and errors by default.
    'log-level': Flags.option({ options: LOG_LEVELS, description: 'lowest log level written to stderr', default: 'warn' as LogLevel })(),
  };

  async run(): Promise<undefined> {
    // Listen before starting anything: a Ctrl-C during start-up still cleans up.
    const waiter = waitForShutdown();
    const { flags, dataDir, platform, selection } = await this.start().catch((error: unknown) => {
      waiter.dispose();
      throw error;
    });
    let report;
    try {
      const config = openCliConfig();
      const profile = flags.profile ?? config.currentProfile() ?? DEFAULT_PROFILE;
      config.saveProfile(profile, { apihost: platform.apihost, auth: platform.auth }, { makeCurrent: true });
      const sample = flags.sample ? await this.sample(platform) : undefined;
      report = {
        apihost: platform.apihost,
        namespace: platform.namespace,
        auth: platform.auth,
        dataDir,
        schedulerUrl: platform.schedulerUrl,
        controllerId: platform.controllerId,
        agentId: platform.agentId,
        backend: platform.backend,
        backendReason: selection.reason,
        metrics: platform.metrics,
        pid: process.pid,
        profile,
        configFile: config.path,
        ...(sample === undefined ? {} : { sample }),
      };
    } catch (error) {
      await platform.close().catch(() => undefined);
      waiter.dispose();
      throw error;
    }
    if (this.jsonEnabled()) {
      this.emitJson(report);
    } else {
      const p = (label: string, value: string) => this.log(`  ${this.style.paint('dim', label.padEnd(10))} ${value}`);
      this.log(this.style.paint('green', 'brisk is up'));
      p('API host', report.apihost);
      p('namespace', report.namespace);
      p('auth', report.auth);
      p('data dir', report.dataDir);
      p('scheduler', report.schedulerUrl);
      p('backend', `${report.backend} (${report.backendReason})`);
      p('metrics', `${report.metrics.controller}  ${report.metrics.scheduler}  ${report.metrics.agent}`);
      p('config', `profile '${report.profile}' in ${report.configFile}`);
      if (report.sample !== undefined && 'error' in report.sample) {
        this.log(this.style.paint('red', `sample: ${report.sample.action} failed: [${report.sample.error.code}] ${report.sample.error.message}`));
        this.log(`        next: ${report.sample.error.hint}`);
      } else if (report.sample !== undefined) {
        this.log(`sample: ${report.sample.action} ${JSON.stringify(report.sample.params)} → ${JSON.stringify(report.sample.result)}  (activation ${report.sample.activationId})`);
      }
      this.log(`try:    brisk action invoke hello -p name Ada --result`);
      this.log(this.style.paint('dim', 'Ctrl-C stops every daemon and removes every container.'));
    }
    await this.runUntilSignal(() => platform.close(), waiter);
    return undefined;
  }

  /**
   * Deploys and invokes the sample. A failure is reported, not fatal: the platform stays up so the
   * operator can look at the activation and the daemons' output.
   */
  private async sample(platform: Platform): Promise<SampleRun | { action: string; error: ErrorEnvelope }> {
    try {
      return await runSample(createClient({ apihost: platform.apihost, auth: platform.auth }), { file: sampleActionFile() });
    } catch (error) {
      return { action: 'hello', error: errorEnvelope(error) };
    }
  }

  private async start() {
    const { flags } = await this.parse(Up);
    const dataDir = resolveDataDir(flags['data-dir']);
    const { token } = await resolveClusterToken({ flag: flags.token, dataDir, create: true });
    const { selection, backendName, backendOptions } = agentBackend(flags);
    this.note(`starting brisk (containers: ${selection.name}, ${selection.reason})…`);
    const platform = await startPlatform({
      backendName,
      backendOptions,
      dataDir,
      token,
      host: flags.host,
      port: flags.port,
      memoryMB: flags.memory ?? defaultAgentMemoryMB(totalmem()),
      limits: namespaceLimits(flags),
      stemCells: stemCellsOf(flags['stem-cell'], EMBEDDED_STEM_CELLS),
      ...(flags['queue-size'] === undefined ? {} : { queueSize: flags['queue-size'] }),
      ...placementOptions(flags),
      pool: controllerPoolOptions(flags),
      log: (component) => loggerFor(flags, component),
      ...metricsTokenOption(flags),
    });
    return { flags, dataDir, platform, selection };
  }
}
