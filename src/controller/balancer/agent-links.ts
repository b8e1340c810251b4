/**
 * The controller's connections to agents: one WebSocket per agent control URL, created on first
 * use and kept open (with heartbeats) so that a resume on the hot path is one round trip.
 */
import { ContainerOperationError, PeerUnavailableError } from '../../errors.js';
import type { ExitReason, MessageOf } from '../../daemon/protocol.js';
import { connectWs, type WsClient, type WsClientOptions } from '../../daemon/transport.js';
import type { LogFn } from '../../daemon/log.js';

export interface AgentLinksOptions {
  token: string;
  controllerId: string;
  /** timeout of pause and destroy requests; default 5000 ms */
  requestTimeoutMs?: number;
  /**
   * Budget of a resume, connecting included; default 2000 ms. Shorter than the other requests
   * because a request waits on it before its run, and a resume (SIGCONT, cgroup thaw, docker
   * unpause) takes milliseconds: an agent that does not answer within it is taken as gone, and the
   * caller moves the request to another container.
   */
  resumeTimeoutMs?: number;
  /** how long a first request waits for a new connection; default 5000 ms */
  connectTimeoutMs?: number;
  log: LogFn;
  /** injectable for tests; default connectWs */
  connect?: (options: WsClientOptions) => WsClient;
}

export interface LogsRequest {
  containerId: string;
  activationId: string;
  limitBytes: number;
  waitForSentinels: boolean;
  /** wait this long for the container's exit to be seen (the connection to it died); default 0 */
  awaitExitMs?: number;
  timeoutMs: number;
}

export class AgentLinks {
  private readonly clients = new Map<string, WsClient>();
  /** requests under way per agent URL */
  private readonly inflight = new Map<string, number>();
  private readonly requestTimeoutMs: number;
  private readonly resumeTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly connect: (options: WsClientOptions) => WsClient;
  private sequence = 0;
  private closed = false;

  constructor(private readonly options: AgentLinksOptions) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.resumeTimeoutMs = options.resumeTimeoutMs ?? 2_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.connect = options.connect ?? connectWs;
  }

  /**
   * Closes the connections to agents that none of `inUse` names (no owned container lives there any
   * more) and that have no request under way, so that links to agents that went away or restarted on a new port stop reconnecting.
   * Returns the URLs dropped.
   */
  prune(inUse: ReadonlySet<string>): string[] {
    const dropped: string[] = [];
    for (const [url, client] of this.clients) {
      if (inUse.has(url) || this.inflight.has(url)) continue;
      this.clients.delete(url);
      void client.close();
      dropped.push(url);
    }
    return dropped;
  }

  /** Opens the connection to an agent ahead of need (a granted container's agent). */
  warm(agentUrl: string): void {
    this.client(agentUrl);
  }

  pause(agentUrl: string, containerId: string): Promise<void> {
    return this.control(agentUrl, { type: 'pause', requestId: this.nextId(), containerId });
  }

  /** Resumes a paused container; rejects (PeerUnavailableError, ContainerOperationError) when not done within `resumeTimeoutMs`, connecting included. */
  resume(agentUrl: string, containerId: string): Promise<void> {
    return this.control(agentUrl, { type: 'resume', requestId: this.nextId(), containerId }, this.resumeTimeoutMs);
  }

  destroy(agentUrl: string, containerId: string, reason: ExitReason): Promise<void> {
    return this.control(agentUrl, { type: 'destroy', requestId: this.nextId(), containerId, reason });
  }

  /** Collects an activation's logs. Rejects PeerUnavailableError when the agent does not answer. */
  async collectLogs(agentUrl: string, request: LogsRequest): Promise<MessageOf<'logs.result'>> {
    const reply = await this.exchange(
      agentUrl,
      {
        type: 'logs.collect',
        requestId: this.nextId(),
        containerId: request.containerId,
        activationId: request.activationId,
        limitBytes: request.limitBytes,
        waitForSentinels: request.waitForSentinels,
        ...(request.awaitExitMs === undefined ? {} : { awaitExitMs: request.awaitExitMs }),
      },
      request.timeoutMs,
    );
    if (reply.type !== 'logs.result') throw new PeerUnavailableError(`agent ${agentUrl} answered logs.collect with ${reply.type}`);
    return reply;
  }

  async close(): Promise<void> {
    this.closed = true;
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((c) => c.close()));
  }

  private async control(agentUrl: string, message: MessageOf<'pause' | 'resume' | 'destroy'>, timeoutMs = this.requestTimeoutMs): Promise<void> {
    const reply = await this.exchange(agentUrl, message, timeoutMs);
    if (reply.type !== 'result') throw new PeerUnavailableError(`agent ${agentUrl} answered ${message.type} with ${reply.type}`);
    if (reply.error !== undefined) {
      throw new ContainerOperationError(`${message.type} of container ${message.containerId} failed: ${reply.error.message}`);
    }
  }

  /**
   * One request to an agent; the link is not pruned while it runs. Waiting for the connection
   * counts against `timeoutMs` too (and against `connectTimeoutMs`), so that a request to an agent
   * that is gone fails within its own timeout.
   */
  private async exchange(agentUrl: string, message: MessageOf<'pause' | 'resume' | 'destroy' | 'logs.collect'>, timeoutMs: number) {
    this.inflight.set(agentUrl, (this.inflight.get(agentUrl) ?? 0) + 1);
    try {
      const began = Date.now();
      const client = await this.connected(agentUrl, Math.min(this.connectTimeoutMs, timeoutMs));
      return await client.request(message, Math.max(1, timeoutMs - (Date.now() - began)));
    } finally {
      const left = (this.inflight.get(agentUrl) ?? 1) - 1;
      if (left === 0) this.inflight.delete(agentUrl);
      else this.inflight.set(agentUrl, left);
    }
  }

  private connected(agentUrl: string, timeoutMs: number): Promise<WsClient> | WsClient {
    const client = this.client(agentUrl);
    if (client.connected) return client;
    return client.whenConnected(timeoutMs).then(() => client);
  }

  private client(agentUrl: string): WsClient {
    if (this.closed) throw new PeerUnavailableError('the controller is shutting down');
    let client = this.clients.get(agentUrl);
    if (client === undefined) {
      const log = this.options.log;
      client = this.connect({
        url: agentUrl,
        token: this.options.token,
        role: 'controller',
        id: this.options.controllerId,
        onMessage: (message) => log('debug', 'unexpected message from agent', { agentUrl, type: message.type }),
        onDisconnected: (info) => log('warn', 'agent connection lost', { agentUrl, code: info.code }),
        onRefused: (error) => log('error', error.message, { agentUrl, code: error.code }),
      });
      this.clients.set(agentUrl, client);
    }
    return client;
  }

  private nextId(): string {
    this.sequence = (this.sequence + 1) % Number.MAX_SAFE_INTEGER;
    return `a${this.sequence}`;
  }
}
