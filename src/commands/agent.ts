import { totalmem } from 'node:os';
import { join } from 'node:path';
import { Flags } from '@oclif/core';
import { startAgent } from '../agent/daemon.js';
import { BriskCommand } from '../cli/base.js';
import { agentBackend, backendFlags, daemonFlags, loggerFor, metricsTokenOption, portFlag, schedulerUrlFlag } from '../cli/daemon-flags.js';
import { AGENT_DIR, defaultAgentMemoryMB, resolveClusterToken, resolveDataDir } from '../cli/data-dir.js';
import { memoryFlag } from '../cli/flags.js';
import { waitForShutdown } from '../cli/shutdown.js';

export default class Agent extends BriskCommand {
  static override summary = 'Run an agent (creates, pauses and removes action containers on this host) until SIGINT/SIGTERM.';
  static override description =
    'Runs containers with --backend: runc (isolated; needs root), docker (isolated; needs dockerd) or process (no isolation); auto picks runc when root and runc is installed. On start it removes the containers an earlier run left; on shutdown every container it started.';
  static override examples = ['<%= config.bin %> agent --scheduler ws://127.0.0.1:3234 --memory 2GB'];
  static override flags = {
    ...daemonFlags,
    ...backendFlags,
    scheduler: schedulerUrlFlag,
    port: portFlag({ description: 'control port for controllers (pause, resume, logs); 0 picks a free one', default: 0 }),
    memory: memoryFlag({ description: 'capacity for containers (default: half the host memory, 256..2048 MB)' }),
    apihost: Flags.string({ description: 'API host given to actions as __OW_API_HOST, e.g. http://127.0.0.1:3233' }),
    id: Flags.string({ description: 'agent id (default: generated)' }),
  };

  async run(): Promise<undefined> {
    const waiter = waitForShutdown();
    try {
      const { flags } = await this.parse(Agent);
      const dataDir = resolveDataDir(flags['data-dir']);
      const { token } = await resolveClusterToken({ flag: flags.token, dataDir, create: false });
      const memoryMB = flags.memory ?? defaultAgentMemoryMB(totalmem());
      const { selection, backendName, backendOptions } = agentBackend(flags);
      const agent = await startAgent({
        backendName,
        backendOptions,
        schedulerUrl: flags.scheduler,
        token,
        host: flags.host,
        port: flags.port,
        memoryMB,
        dataDir: join(dataDir, AGENT_DIR),
        log: loggerFor(flags, 'agent'),
        ...(flags.apihost === undefined ? {} : { apiHost: flags.apihost }),
        ...(flags.id === undefined ? {} : { agentId: flags.id }),
        ...metricsTokenOption(flags),
      });
      const report = { agentId: agent.agentId, controlUrl: agent.controlUrl, memoryMB, dataDir, backend: agent.backend, backendReason: selection.reason, pid: process.pid };
      if (this.jsonEnabled()) this.emitJson(report);
      // The agent (re)connects to the scheduler by itself and logs when it does; do not claim it here.
      else {
        this.log(`agent ${agent.agentId} with ${memoryMB} MB, control on ${agent.controlUrl}, scheduler ${flags.scheduler}`);
        this.log(`backend ${agent.backend}: ${selection.reason}`);
      }
      await this.runUntilSignal(() => agent.close(), waiter);
    } finally {
      waiter.dispose();
    }
    return undefined;
  }
}
