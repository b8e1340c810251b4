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
 */
import { activationStorage, installActivationEnv } from './context.js';
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
});
const server = createRuntimeServer({ runtime });

server.on('error', (err) => {
  process.stderr.write(`brisk runtime: cannot listen on ${host}:${port}: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, host);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => process.exit(0));
}
