import { ApiCommand } from '../cli/base.js';
import { openCliConfig, resolveApiTarget } from '../cli/config.js';
import { checkAuth } from '../client/client.js';
import { InvalidInputError } from '../errors.js';

export default class Top extends ApiCommand {
  static override summary = 'Live view of the platform: agents, actions, activations and scheduler decisions.';
  static override description =
    "Connects to the controller's watch stream (GET /api/v1/watch) with the saved profile or --apihost/--auth and redraws about twice a second. Keys: 1-5 or Tab switch panes, s sorts, r reverses, / filters (Esc clears), up/down select, q or Ctrl-C quit. A lost connection is shown and retried. Needs a terminal; for scripts use `brisk status --json`.";
  static override examples = ['<%= config.bin %> top', '<%= config.bin %> top --apihost http://127.0.0.1:3233 --auth UUID:KEY'];
  static override enableJsonFlag = false;

  async run(): Promise<void> {
    const { flags } = await this.parse(Top);
    if (process.stdout.isTTY !== true || process.stdin.isTTY !== true) {
      throw new InvalidInputError('brisk top draws a live screen and needs a terminal (stdin and stdout must be a TTY).', {
        hint: 'Run it in a terminal, or use `brisk status` (one snapshot; `--json` for scripts).',
      });
    }
    const target = resolveApiTarget({ flags, config: openCliConfig() });
    // Ink draws only a final frame when it believes it runs under CI (a CI variable inherited by a
    // terminal session, say). This command only runs on a terminal, so that guess is wrong here:
    // drop the variables before Ink is loaded (it reads them once, at import).
    delete process.env.CI;
    delete process.env.CONTINUOUS_INTEGRATION;
    const { runTop } = await import('../tui/run.js');
    await runTop({ apihost: target.apihost, auth: checkAuth(target.auth) });
  }
}
