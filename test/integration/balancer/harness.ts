/**
 * A small world for balancer integration tests: a fake scheduler and a fake agent (real
 * WebSocket servers from src/daemon/transport.ts) and real action containers (the brisk runtime
 * as child processes from dist/src/runtime/main.js, or an in-test /init+/run server when the
 * runtime is not built).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Message, MessageOf } from '../../../src/daemon/protocol.js';
import { startWsServer, type Connection, type WsServer } from '../../../src/daemon/transport.js';
import { formatLogLine, LOG_SENTINEL } from '../../../src/model/activation.js';
import { parseLine } from '../../../src/runtime/framing.js';

export const TOKEN = 'test-token';
const RUNTIME_ENTRY = fileURLToPath(new URL('../../../dist/src/runtime/main.js', import.meta.url));

let probe: Promise<boolean> | undefined;
/**
 * Whether the built runtime exists and runs an activation the way the balancer calls it (probed
 * once per test file); otherwise the tests use the in-test stand-in.
 */
export function realRuntime(): Promise<boolean> {
  probe ??= (async () => {
    if (!existsSync(RUNTIME_ENTRY)) return false;
    const container = new TestContainer('probe', await freePort());
    container.spawnRuntime();
    try {
      await waitListening(container.port);
      const post = async (path: string, body: unknown) => {
        const res = await fetch(`http://127.0.0.1:${container.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return { status: res.status, body: await res.text() };
      };
      const init = await post('/init', { value: { name: 'p', main: 'main', binary: false, code: 'function main(p) { return { ok: p.x }; }', env: { __OW_NAMESPACE: 'guest' } } });
      const run = await post('/run', { value: { x: 1 }, namespace: 'guest', action_name: '/guest/p', action_version: '0.0.1', activation_id: 'f'.repeat(32), transaction_id: 't', deadline: String(Date.now() + 10_000) });
      const works = init.status === 200 && run.status === 200 && run.body === '{"ok":1}';
      if (!works) process.stderr.write(`balancer tests: the built runtime failed the probe (${run.status} ${run.body}); using the in-test stand-in\n`);
      return works;
    } catch {
      return false;
    } finally {
      await container.stop();
    }
  })();
  return probe;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitListening(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} never answered`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One action container: the real runtime process (or the in-test stand-in) and its collected output. */
export class TestContainer {
  readonly lines = new Map<string, { lines: string[]; sentinels: number }>();
  private child: ChildProcess | undefined;
  private server: Server | undefined;
  exited = false;

  constructor(
    readonly containerId: string,
    readonly port: number,
  ) {}

  static async start(containerId: string): Promise<TestContainer> {
    const port = await freePort();
    const container = new TestContainer(containerId, port);
    if (await realRuntime()) container.spawnRuntime();
    else await container.serveStandIn();
    await waitListening(port);
    return container;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** @internal */
  spawnRuntime(): void {
    const child = spawn(process.execPath, [RUNTIME_ENTRY], {
      env: { ...process.env, __OW_PORT: String(this.port), __OW_HOST: '127.0.0.1', __OW_ALLOW_CONCURRENT: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.on('exit', () => {
      this.exited = true;
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      let rest = '';
      child[stream]?.setEncoding('utf8');
      child[stream]?.on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const raw of parts) {
          const { activationId, text } = parseLine(raw);
          if (activationId === undefined) continue;
          let entry = this.lines.get(activationId);
          if (entry === undefined) {
            entry = { lines: [], sentinels: 0 };
            this.lines.set(activationId, entry);
          }
          if (text === LOG_SENTINEL) entry.sentinels += 1;
          else entry.lines.push(formatLogLine(new Date(), stream, text));
        }
      });
    }
  }

  /**
   * A minimal /init + /run server for when the runtime is not usable: runs `main` of the code
   * in-process, answers like the nodejs runtime (sync throw → 502, rejection → 200 {error}) and
   * records `console.log` lines as the activation's logs.
   */
  private async serveStandIn(): Promise<void> {
    let main: ((p: unknown) => unknown) | undefined;
    let current = '';
    const log = (...args: unknown[]) => {
      let entry = this.lines.get(current);
      if (entry === undefined) {
        entry = { lines: [], sentinels: 0 };
        this.lines.set(current, entry);
      }
      entry.lines.push(formatLogLine(new Date(), 'stdout', args.map(String).join(' ')));
    };
    const reply = (res: import('node:http').ServerResponse, status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const parsed = JSON.parse(body) as { value: Record<string, unknown>; activation_id?: string };
        if (req.url === '/init') {
          main = new Function('console', `${String(parsed.value.code)}; return main;`)({ log, error: log }) as (p: unknown) => unknown;
          reply(res, 200, { OK: true });
          return;
        }
        const id = parsed.activation_id ?? '';
        current = id;
        let pending: unknown;
        try {
          pending = main?.(parsed.value);
        } catch (error) {
          reply(res, 502, { error: `An error has occurred: ${String(error)}` });
          return;
        }
        const ended = () => {
          const entry = this.lines.get(id) ?? { lines: [], sentinels: 0 };
          entry.sentinels = 2;
          this.lines.set(id, entry);
        };
        Promise.resolve(pending).then(
          (result) => {
            ended();
            reply(res, 200, result ?? {});
          },
          (error: unknown) => {
            ended();
            reply(res, 200, { error });
          },
        );
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.child !== undefined && !this.exited) {
      const child = this.child;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await gone;
    }
    if (this.server !== undefined) {
      const server = this.server;
      this.server = undefined;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

type AcquireHandler = (message: MessageOf<'acquire'>, conn: Connection) => void | Promise<void>;

/** The fake scheduler: records every message; acquires are answered by the test's handler. */
export class FakeScheduler {
  readonly received: Message[] = [];
  onAcquire: AcquireHandler = () => undefined;
  private constructor(readonly server: WsServer) {}

  static async start(): Promise<FakeScheduler> {
    let self: FakeScheduler | undefined;
    const server = await startWsServer({
      token: TOKEN,
      serverId: 'fake-scheduler',
      roles: ['controller'],
      onConnection: (conn) => ({
        onMessage: (message) => {
          self?.received.push(message);
          if (message.type === 'acquire') void self?.onAcquire(message, conn);
        },
        onClose: () => undefined,
      }),
    });
    self = new FakeScheduler(server);
    return self;
  }

  get url(): string {
    return this.server.url;
  }

  of<T extends Message['type']>(type: T): MessageOf<T>[] {
    return this.received.filter((m): m is MessageOf<T> => m.type === type);
  }

  send(message: Message): void {
    for (const conn of this.server.connections()) conn.send(message);
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/** The fake agent: pause/resume as SIGSTOP/SIGCONT of the runtime process, destroy kills it, logs from its tagged output. */
export class FakeAgent {
  readonly received: Message[] = [];
  readonly containers = new Map<string, TestContainer>();
  /** exit reason reported by logs.collect, per container */
  readonly exits = new Map<string, 'oom' | 'crash'>();
  private constructor(readonly server: WsServer) {}

  static async start(): Promise<FakeAgent> {
    let self: FakeAgent | undefined;
    const server = await startWsServer({
      token: TOKEN,
      serverId: 'fake-agent',
      roles: ['controller'],
      onConnection: (conn) => ({
        onMessage: (message) => {
          self?.received.push(message);
          void self?.handle(message, conn);
        },
        onClose: () => undefined,
      }),
    });
    self = new FakeAgent(server);
    return self;
  }

  get url(): string {
    return this.server.url;
  }

  of<T extends Message['type']>(type: T): MessageOf<T>[] {
    return this.received.filter((m): m is MessageOf<T> => m.type === type);
  }

  async create(containerId: string): Promise<TestContainer> {
    const container = await TestContainer.start(containerId);
    this.containers.set(containerId, container);
    return container;
  }

  private async handle(message: Message, conn: Connection): Promise<void> {
    switch (message.type) {
      case 'pause':
      case 'resume': {
        const container = this.containers.get(message.containerId);
        if (container === undefined) {
          conn.send({ type: 'result', requestId: message.requestId, error: { code: 'NOT_FOUND', message: 'no such container' } });
          return;
        }
        container.signal(message.type === 'pause' ? 'SIGSTOP' : 'SIGCONT');
        conn.send({ type: 'result', requestId: message.requestId });
        return;
      }
      case 'destroy': {
        const container = this.containers.get(message.containerId);
        this.containers.delete(message.containerId);
        await container?.stop();
        conn.send({ type: 'result', requestId: message.requestId });
        return;
      }
      case 'logs.collect': {
        const container = this.containers.get(message.containerId);
        const until = Date.now() + 2_000;
        while (message.waitForSentinels && container !== undefined && (container.lines.get(message.activationId)?.sentinels ?? 0) < 2 && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 5));
        }
        const exit = this.exits.get(message.containerId);
        conn.send({
          type: 'logs.result',
          requestId: message.requestId,
          logs: container?.lines.get(message.activationId)?.lines ?? [],
          truncated: false,
          ...(exit === undefined ? {} : { exit: { reason: exit } }),
        });
        return;
      }
      default:
        return;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.containers.values()].map((c) => c.stop()));
    this.containers.clear();
    await this.server.close();
  }
}
