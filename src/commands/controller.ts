import { join } from 'node:path';
import { Flags } from '@oclif/core';
import { BriskCommand } from '../cli/base.js';
import { openCliConfig } from '../cli/config.js';
import { controllerPoolFlags, controllerPoolOptions, daemonFlags, loggerFor, metricsTokenOption, namespaceLimitFlags, namespaceLimits, portFlag, schedulerUrlFlag } from '../cli/daemon-flags.js';
import { STORE_FILE, ensureDataDir, resolveClusterToken, resolveDataDir } from '../cli/data-dir.js';
import { reachableUrl } from '../cli/platform.js';
import { waitForShutdown } from '../cli/shutdown.js';
import { startController } from '../controller/daemon.js';
import { createControllerMetrics } from '../controller/metrics.js';
import { logWriteErrors, openSqliteStore } from '../store/index.js';

export default class Controller extends BriskCommand {
  static override summary = 'Run a controller (the REST API) until SIGINT/SIGTERM.';
  static override description =
    'Keeps entities and activations in SQLite in the data directory, ensures the guest namespace, and saves its API host and key as a CLI profile so that `brisk action ...` works without flags.';
  static override examples = ['<%= config.bin %> controller --scheduler ws://127.0.0.1:3234'];
  static override flags = {
    ...daemonFlags,
    ...namespaceLimitFlags,
    ...controllerPoolFlags,
    scheduler: schedulerUrlFlag,
    port: portFlag({ description: 'REST API port (0 picks a free one)', default: 3233 }),
    id: Flags.string({ description: 'controller id (default: generated)' }),
    profile: Flags.string({ description: 'CLI profile to save the API host and key in and make current (default: saved only when the CLI has no profile yet)' }),
  };

  async run(): Promise<undefined> {
    const waiter = waitForShutdown();
    try {
      const { flags } = await this.parse(Controller);
      const dataDir = resolveDataDir(flags['data-dir']);
      const { token } = await resolveClusterToken({ flag: flags.token, dataDir, create: false });
      await ensureDataDir(dataDir);
      const metrics = createControllerMetrics();
      const store = openSqliteStore({ file: join(dataDir, STORE_FILE), writeBehind: { onWriteError: metrics.storeWriteErrors(logWriteErrors(loggerFor(flags, 'controller'))) } });
      let controller;
      try {
        const identity = store.entities.ensureIdentity('guest');
        controller = await startController({
          schedulerUrl: flags.scheduler,
          token,
          store,
          host: flags.host,
          port: flags.port,
          log: loggerFor(flags, 'controller'),
          limits: namespaceLimits(flags),
          ...controllerPoolOptions(flags),
          ...(flags.id === undefined ? {} : { controllerId: flags.id }),
          metrics,
          ...metricsTokenOption(flags),
        });
        const apihost = reachableUrl(controller.url);
        const auth = `${identity.uuid}:${identity.key}`;
        // Saved when asked (--profile), or when the CLI has no profile yet: a second controller (or a
        // restart on another port) must not silently repoint the operator's current profile.
        const config = openCliConfig();
        const profile = flags.profile ?? config.currentProfile();
        const save = flags.profile !== undefined || config.profile(profile) === undefined;
        if (save) config.saveProfile(profile, { apihost, auth }, { makeCurrent: true });
        const report = { url: controller.url, apihost, port: controller.port, controllerId: controller.controllerId, namespace: identity.namespace, auth, dataDir, profile: save ? profile : null, pid: process.pid };
        if (this.jsonEnabled()) this.emitJson(report);
        else {
          const saved = save ? `saved as profile '${profile}'` : `profile '${profile}' left as it was; pass --profile NAME to save this controller`;
          this.log(`controller ${controller.controllerId} serving the API on ${apihost} (namespace guest, auth ${auth}, ${saved})`);
        }
      } catch (error) {
        await controller?.close().catch(() => undefined);
        await store.close().catch(() => undefined);
        throw error;
      }
      const started = controller;
      await this.runUntilSignal(async () => {
        try {
          await started.close();
        } finally {
          await store.close();
        }
      }, waiter);
    } finally {
      waiter.dispose();
    }
    return undefined;
  }
}
