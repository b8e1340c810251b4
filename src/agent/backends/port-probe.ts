/**
 * Small TCP probes the backends share: a free port to hand a runtime, and "does this port answer yet".
 */
import net from 'node:net';

/** Asks the kernel for a free port on the address the runtime will listen on. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True when a TCP connection to host:port is accepted. */
export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Polls host:port until it accepts a connection. Rejects with what `failure()` returns when it says
 * the runtime is gone (checked before each attempt), or with `timeout()` after `timeoutMs`.
 */
export async function waitForPort(options: {
  host: string;
  port: number;
  timeoutMs: number;
  failure: () => Error | undefined;
  timeout: () => Error;
}): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const failed = options.failure();
    if (failed !== undefined) throw failed;
    if (await canConnect(options.host, options.port)) return;
    if (Date.now() > deadline) throw options.timeout();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
