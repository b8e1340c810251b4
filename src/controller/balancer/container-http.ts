/**
 * Direct HTTP to one action container: a kept-alive undici Pool sized to the action's
 * concurrency (pipelining 1: the runtime answers one request per connection at a time).
 * Never throws for container-side failures: every call resolves with a reply or a failure kind,
 * so the balancer's classification is one switch.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import type { Address } from '../../daemon/protocol.js';
import { MAX_PAYLOAD_BYTES } from '../../model/limits.js';
import type { ContainerReply } from './classify.js';

export type ExchangeResult =
  | { kind: 'reply'; reply: ContainerReply }
  | { kind: 'timeout' }
  /** connection refused or reset, socket closed mid-reply: the container is likely gone */
  | { kind: 'died'; error: unknown }
  /** /run could not connect at all (refused): nothing reached the container, so it is safe to run elsewhere */
  | { kind: 'unreachable'; error: unknown }
  /** the pool was closed under us (controller shutdown) or another local failure */
  | { kind: 'error'; error: unknown };

const HEADERS = { 'content-type': 'application/json' } as const;

/** How often /init is retried while the container's port still refuses connections. */
const INIT_RETRY_MS = 10;

export interface ContainerHttpOptions {
  address: Address;
  /** connections kept to the container: the action's concurrency limit */
  connections: number;
  /** largest body kept in memory; the rest is counted and dropped (default MAX_PAYLOAD_BYTES) */
  maxBodyBytes?: number;
}

export class ContainerHttp {
  private readonly pool: Pool;
  private readonly maxBodyBytes: number;

  constructor(options: ContainerHttpOptions) {
    const host = options.address.host.includes(':') ? `[${options.address.host}]` : options.address.host;
    this.pool = new Pool(`http://${host}:${options.address.port}`, {
      connections: Math.max(1, options.connections),
      pipelining: 1,
      // The runtime's server keeps idle sockets for 5 s (node's default); close ours first so a
      // request never races the server closing the socket.
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 4_000,
    });
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_PAYLOAD_BYTES;
  }

  /**
   * POST /init. Retries while the connection is refused (the server may not listen yet), until
   * `timeoutMs` has passed since the first attempt; the whole init is capped by `timeoutMs`.
   */
  async init(body: string, timeoutMs: number): Promise<ExchangeResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return { kind: 'timeout' };
      const result = await this.post('/init', body, remaining);
      if (result.kind === 'died' && errorCode(result.error) === 'ECONNREFUSED' && deadline - Date.now() > INIT_RETRY_MS) {
        await delay(INIT_RETRY_MS);
        continue;
      }
      return result;
    }
  }

  /** POST /run, capped by `timeoutMs`. A refused connection is `unreachable`: the run was not delivered. */
  async run(body: string, timeoutMs: number): Promise<ExchangeResult> {
    const result = await this.post('/run', body, timeoutMs);
    if (result.kind === 'died' && errorCode(result.error) === 'ECONNREFUSED') return { kind: 'unreachable', error: result.error };
    return result;
  }

  /** Closes the kept-alive connections; requests still running are aborted. */
  async close(): Promise<void> {
    await this.pool.destroy().catch(() => undefined);
  }

  private async post(path: string, body: string, timeoutMs: number): Promise<ExchangeResult> {
    // The action's time limit is enforced with a timer of our own: undici's headers/body timeouts
    // run on a clock with one-second resolution, which would let a 200 ms limit run for a second.
    // The abort signal is an EventEmitter (undici takes either): on this path an AbortController
    // costs several microseconds per run, an emitter a fraction of one.
    const abort = new EventEmitter();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.emit('abort');
    }, timeoutMs);
    try {
      const res = await this.pool.request({
        path,
        method: 'POST',
        headers: HEADERS,
        body,
        signal: abort,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      const declared = res.headers['content-length'];
      const length = typeof declared === 'string' ? Number(declared) : NaN;
      if (length <= this.maxBodyBytes) {
        // The common case: a known, small body read in one go.
        const text = await res.body.text();
        return { kind: 'reply', reply: { status: res.statusCode, text, size: Buffer.byteLength(text) } };
      }
      return { kind: 'reply', reply: await readBounded(res.statusCode, res.body, this.maxBodyBytes) };
    } catch (error) {
      return timedOut ? { kind: 'timeout' } : failureOf(error);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Reads a body keeping at most `max` bytes, counting the rest. */
async function readBounded(status: number, body: AsyncIterable<Buffer>, max: number): Promise<ContainerReply> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (keptBytes < max) {
      const part = keptBytes + chunk.byteLength > max ? chunk.subarray(0, max - keptBytes) : chunk;
      kept.push(part);
      keptBytes += part.byteLength;
    }
  }
  return { status, text: Buffer.concat(kept).toString('utf8'), size };
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // AggregateError from happy-eyeballs connects carries the codes on its members
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors)) return errorCode(errors[0]);
  return undefined;
}

const DIED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function failureOf(error: unknown): ExchangeResult {
  const code = errorCode(error);
  if (code !== undefined && DIED.has(code)) return { kind: 'died', error };
  return { kind: 'error', error };
}
