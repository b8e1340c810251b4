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
 * the runtime stays up in `stopped` state, refusing every later /init and /run with 403. It does
 * not exit: a run already on its way over a kept-alive connection would then meet a reset socket
 * and be charged to its action as "exited unexpectedly", while a 403 tells the controller the run
 * was never started, so it runs it on another container and has this one destroyed.
 * After an error outside any activation (e.g. a promise rejected at load time) every later /run
 * is answered 502 instead (the action is broken wherever it runs), with the error's report written
 * to that run's tagged stderr so that its logs say why (and, if no run was in flight, not untagged
 * at the time, which would duplicate it; so a container destroyed before any later run logs nothing).
 */
import { activationStorage, installActivationEnv } from './context.js';
import { fatalReport, installFatalErrorHandlers, type FatalError } from './fatal.js';
import { installOutputTagging } from './output.js';
import { ActionRuntime } from './runtime.js';
import { createRuntimeServer } from './server.js';

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
  writeStderr: (context, text) => output.writeFor(context, 'stderr', text),
});
const server = createRuntimeServer({ runtime });

let failing = false;
function onFatal(fatal: FatalError): void {
  try {
    const report = fatalReport(fatal);
    // The first error outside any activation with nothing in flight (e.g. at load time) goes to
    // the logs of the later runs it fails (runtime.ts `fail`) instead: written here too, untagged,
    // the agent would hand it to the first of them again (untagged output goes to the next
    // activation collected), duplicating the stack.
    const replayed = !failing && fatal.culprit === undefined && runtime.inFlight().length === 0;
    if (!replayed) output.writeFor(fatal.culprit, 'stderr', report);
    // a later error: reported (above), the runtime is stopped already
    if (failing) return;
    failing = true;
    runtime.fail({ error: fatal.error, culprit: fatal.culprit, report });
  } catch {
    // the error handling itself failed: no state can be trusted any more
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
