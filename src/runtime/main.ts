/**
 * Entry of the action runtime (compiled to dist/src/runtime/main.js). Runs as the only process of
 * an action container: `node main.js`, or `node --max-old-space-size=<MB> main.js` under the
 * process backend. Uses node built-ins only, so it runs in a root filesystem holding just node and
 * this compiled tree.
 *
 * Environment:
 * - `__OW_PORT` or `PORT`: port to listen on, default 8080; `__OW_HOST`: address, default 0.0.0.0
 * - `__OW_ALLOW_CONCURRENT=true`: accept overlapping /run calls (brisk sets it for its containers)
 * - `__OW_API_HOST` and the like are passed through to the action untouched
 *
 * An error that escapes the action asynchronously (see fatal.ts) is written to stderr tagged with
 * the activation it came from, every in-flight /run is answered with 502 (runtime.ts `fail`), and
 * then the process exits with code 1 once those replies are out. Exiting rather than lingering in
 * `stopped` state: the agent then reports the container gone, so the scheduler stops routing to it
 * at once; a stopped but living container would stay in the pool until its next activation, which
 * would then be failed with "System not ready" through no fault of its own.
 */
import { activationStorage, installActivationEnv } from './context.js';
import { fatalReport, installFatalErrorHandlers, type FatalError } from './fatal.js';
import { installOutputTagging } from './output.js';
import { ActionRuntime } from './runtime.js';
import { createRuntimeServer, trackRequests } from './server.js';

/** Upper bound on waiting for the replies of a failed runtime before exiting anyway. */
const EXIT_GRACE_MS = 5000;

const port = Number(process.env.__OW_PORT ?? process.env.PORT ?? 8080);
const host = process.env.__OW_HOST ?? '0.0.0.0';

installActivationEnv();
const output = installOutputTagging({
  stdout: process.stdout,
  stderr: process.stderr,
  current: () => activationStorage.getStore(),
});
const runtime = new ActionRuntime({
  allowConcurrent: process.env.__OW_ALLOW_CONCURRENT === 'true',
  onActivationEnd: (context) => output.finish(context),
  onInitFailed: () => output.writeSentinels(),
});
const server = createRuntimeServer({ runtime });
const requests = trackRequests(server);

let failing = false;
function onFatal(fatal: FatalError): void {
  try {
    output.writeFor(fatal.culprit, 'stderr', fatalReport(fatal));
    // a second error while the replies drain: reported (above), nothing more to decide
    if (failing) return;
    failing = true;
    runtime.fail({ error: fatal.error, culprit: fatal.culprit });
    // the replies are sent from resolved promises, i.e. after this handler: wait for them
    const grace = setTimeout(() => process.exit(1), EXIT_GRACE_MS);
    void requests.idle().then(() => {
      clearTimeout(grace);
      process.exit(1);
    });
  } catch {
    process.exit(1);
  }
}
installFatalErrorHandlers({ current: () => activationStorage.getStore(), onFatal });

// process.exit() called by action code: its activation's (and its siblings') unfinished lines go
// out tagged instead of being lost; nothing untagged is written.
process.on('exit', () => {
  for (const context of runtime.inFlight()) output.flush(context);
});

server.on('error', (err) => {
  process.stderr.write(`brisk runtime: cannot listen on ${host}:${port}: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, host);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => process.exit(0));
}
