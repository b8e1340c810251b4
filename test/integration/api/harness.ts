/** Test double of the Invoker port (a stand-in for the load balancer) and a server fixture. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from '../../../src/controller/api/index.js';
import type { InvokeRequest, Invocation, Invoker, Unavailable } from '../../../src/controller/invoker.js';
import type { ActivationRecord, StatusCode } from '../../../src/model/activation.js';
import { openSqliteStore, type Identity, type Store } from '../../../src/store/index.js';

export interface Outcome {
  statusCode: StatusCode;
  result: unknown;
  logs?: string[];
  /** the activation ended for want of a container (Invocation.unavailable) */
  unavailable?: Unavailable;
}

/** What the double does with a request: finish at once with an outcome, hold it, or throw. */
export type Behaviour = (request: InvokeRequest) => Outcome | 'hold' | Error;

interface Held {
  request: InvokeRequest;
  finish(outcome: Outcome): void;
  finishLogs(): void;
}

export class TestInvoker implements Invoker {
  readonly requests: InvokeRequest[] = [];
  readonly held = new Map<string, Held>();
  behaviour: Behaviour = (request) => ({ statusCode: 0, result: request.params, logs: ['log line'] });
  /** when false, `record` (with logs) resolves only on finishLogs() */
  logsAtOnce = true;

  invoke(request: InvokeRequest): Invocation {
    const decision = this.behaviour(request);
    if (decision instanceof Error) throw decision;
    this.requests.push(request);
    let resolveResponse!: (r: ActivationRecord) => void;
    let resolveRecord!: (r: ActivationRecord) => void;
    const response = new Promise<ActivationRecord>((resolve) => (resolveResponse = resolve));
    const record = new Promise<ActivationRecord>((resolve) => (resolveRecord = resolve));
    let full: ActivationRecord | undefined;
    const invocation: { activationId: string; response: Promise<ActivationRecord>; record: Promise<ActivationRecord>; unavailable?: Unavailable } = {
      activationId: request.activationId,
      response,
      record,
    };
    const held: Held = {
      request,
      finish: (outcome) => {
        if (outcome.unavailable !== undefined) invocation.unavailable = outcome.unavailable;
        full = recordOf(request, outcome);
        resolveResponse({ ...full, logs: [] });
        if (this.logsAtOnce) resolveRecord(full);
      },
      finishLogs: () => {
        if (full) resolveRecord(full);
      },
    };
    this.held.set(request.activationId, held);
    if (decision !== 'hold') held.finish(decision);
    return invocation;
  }

  async close(): Promise<void> {}
}

export function recordOf(request: InvokeRequest, outcome: Outcome): ActivationRecord {
  return {
    namespace: request.subject,
    name: request.action.name,
    subject: request.subject,
    activationId: request.activationId,
    version: request.action.version,
    publish: request.action.publish,
    start: request.receivedAt + 1,
    end: request.receivedAt + 3,
    duration: 2,
    response: { statusCode: outcome.statusCode, result: outcome.result },
    logs: outcome.logs ?? [],
    annotations: [
      { key: 'path', value: `${request.action.namespace}/${request.action.name}` },
      { key: 'kind', value: request.action.exec.kind },
    ],
  };
}

export interface Fixture {
  dir: string;
  store: Store;
  invoker: TestInvoker;
  server: RunningApiServer;
  identity: Identity;
  apiKey: string;
  authHeader: string;
  close(): Promise<void>;
}

export async function startFixture(options: Partial<ApiServerOptions> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'brisk-api-'));
  const store = openSqliteStore({ file: join(dir, 'brisk.db') });
  const identity = store.entities.ensureIdentity('guest');
  const invoker = new TestInvoker();
  const server = await startApiServer({ store, invoker, onError: () => {}, ...options });
  const apiKey = `${identity.uuid}:${identity.key}`;
  return {
    dir, store, invoker, server, identity, apiKey,
    authHeader: `Basic ${Buffer.from(apiKey).toString('base64')}`,
    async close() {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
