/**
 * A small world for balancer integration tests: a fake scheduler and a fake agent (real
 * WebSocket servers from src/daemon/transport.ts) and real action containers (the brisk runtime
 * as child processes from dist/src/runtime/main.js, which `npm test` builds first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Message, MessageOf } from '../../../src/daemon/protocol.js';
import { startWsServer, type Connection, type WsServer } from '../../../src/daemon/transport.js';
import { formatLogLine, LOG_SENTINEL } from '../../../src/model/activation.js';
import { parseLine } from '../../../src/runtime/framing.js';

export const TOKEN = 'test-token';
const RUNTIME_ENTRY = fileURLToPath(new URL('../../../dist/src/runtime/main.js', import.meta.url));

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

/** One action container: the real runtime process and its collected output. */
export class TestContainer {
  readonly lines = new Map<string, { lines: string[]; sentinels: number }>();
  private child: ChildProcess | undefined;
  exited = false;

  constructor(
    readonly containerId: string,
    readonly port: number,
  ) {}

  static async start(containerId: string): Promise<TestContainer> {
    const port = await freePort();
    const container = new TestContainer(containerId, port);
    if (!existsSync(RUNTIME_ENTRY)) throw new Error(`${RUNTIME_ENTRY} is missing: run \`npm run build\` first (npm test does)`);
    container.spawnRuntime();
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
  }
}

type AcquireHandler = (message: MessageOf<'acquire'>, conn: Connection) => void | Promise<void>;

/** A fake daemon that controllers connect to: a real WebSocket server recording every message it gets. */
abstract class RecordingPeer {
  readonly received: Message[] = [];
  #server: WsServer | undefined;

  get server(): WsServer {
    if (this.#server === undefined) throw new Error('not listening yet');
    return this.#server;
  }

  get url(): string {
    return this.server.url;
  }

  of<T extends Message['type']>(type: T): MessageOf<T>[] {
    return this.received.filter((m): m is MessageOf<T> => m.type === type);
  }

  /** Called for every message, after it was recorded. */
  protected abstract handle(message: Message, conn: Connection): void;

  protected async listen(serverId: string): Promise<this> {
    this.#server = await startWsServer({
      token: TOKEN,
      serverId,
      roles: ['controller'],
      onConnection: (conn) => ({
        onMessage: (message) => {
          this.received.push(message);
          this.handle(message, conn);
        },
        onClose: () => undefined,
      }),
    });
    return this;
  }
}

/** The fake scheduler: records every message; acquires are answered by the test's handler. */
export class FakeScheduler extends RecordingPeer {
  onAcquire: AcquireHandler = () => undefined;

  static start(): Promise<FakeScheduler> {
    return new FakeScheduler().listen('fake-scheduler');
  }

  protected handle(message: Message, conn: Connection): void {
    if (message.type === 'acquire') void this.onAcquire(message, conn);
  }

  send(message: Message): void {
    for (const conn of this.server.connections()) conn.send(message);
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/** The fake agent: pause/resume as SIGSTOP/SIGCONT of the runtime process, destroy kills it, logs from its tagged output. */
export class FakeAgent extends RecordingPeer {
  readonly containers = new Map<string, TestContainer>();
  /** exit reason reported by logs.collect, per container */
  readonly exits = new Map<string, 'oom' | 'crash'>();
  /**
   * How `resume` is handled: 'answer' (SIGCONT, then a result), 'refuse' (a result with an error,
   * the container stays stopped) or 'ignore' (no reply at all, like an agent that hangs).
   */
  resumeMode: 'answer' | 'refuse' | 'ignore' = 'answer';

  static start(): Promise<FakeAgent> {
    return new FakeAgent().listen('fake-agent');
  }

  protected handle(message: Message, conn: Connection): void {
    void this.reply(message, conn);
  }

  async create(containerId: string): Promise<TestContainer> {
    const container = await TestContainer.start(containerId);
    this.containers.set(containerId, container);
    return container;
  }

  private async reply(message: Message, conn: Connection): Promise<void> {
    switch (message.type) {
      case 'pause':
      case 'resume': {
        const container = this.containers.get(message.containerId);
        if (container === undefined) {
          conn.send({ type: 'result', requestId: message.requestId, error: { code: 'NOT_FOUND', message: 'no such container' } });
          return;
        }
        if (message.type === 'resume' && this.resumeMode === 'ignore') return;
        if (message.type === 'resume' && this.resumeMode === 'refuse') {
          conn.send({ type: 'result', requestId: message.requestId, error: { code: 'RESUME_FAILED', message: 'resume refused by the test' } });
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
