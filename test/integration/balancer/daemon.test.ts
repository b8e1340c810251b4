import { afterEach, describe, expect, it, vi } from 'vitest';
import { startController, type RunningController } from '../../../src/controller/daemon.js';
import { openSqliteStore } from '../../../src/store/sqlite/store.js';
import type { Store } from '../../../src/store/types.js';
import { FakeAgent, FakeScheduler, TOKEN } from './harness.js';

let scheduler: FakeScheduler | undefined;
let agent: FakeAgent | undefined;
let controller: RunningController | undefined;
let store: Store | undefined;

afterEach(async () => {
  await controller?.close();
  await agent?.close();
  await scheduler?.close();
  await store?.close();
  controller = undefined;
  agent = undefined;
  scheduler = undefined;
  store = undefined;
});

describe('controller daemon', () => {
  it('serves the REST API over the balancer: create, blocking invoke, then releases on close', async () => {
    scheduler = await FakeScheduler.start();
    agent = await FakeAgent.start();
    const a = agent;
    scheduler.onAcquire = async (message, conn) => {
      const container = await a.create('c1');
      conn.send({
        type: 'acquire.granted',
        requestId: message.requestId,
        container: { containerId: 'c1', agentId: 'agent-1', agentUrl: a.url, address: { host: '127.0.0.1', port: container.port }, fromStemCell: false },
      });
    };
    store = openSqliteStore({ file: ':memory:' });
    const identity = store.entities.ensureIdentity('guest');
    controller = await startController({ schedulerUrl: scheduler.url, token: TOKEN, store, controllerId: 'ctl-d' });
    expect(controller.controllerId).toBe('ctl-d');
    await vi.waitFor(() => expect(scheduler?.of('controller.register')).toEqual([{ type: 'controller.register', controllerId: 'ctl-d', containers: [] }]));

    const auth = `Basic ${Buffer.from(`${identity.uuid}:${identity.key}`).toString('base64')}`;
    const headers = { authorization: auth, 'content-type': 'application/json' };
    const put = await fetch(`${controller.url}/api/v1/namespaces/_/actions/hello`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ exec: { kind: 'nodejs:20', code: "function main(p) { return { payload: 'hi ' + p.name }; }" } }),
    });
    expect(put.status).toBe(200);
    const invoke = await fetch(`${controller.url}/api/v1/namespaces/_/actions/hello?blocking=true&result=true`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'ann' }),
    });
    expect(invoke.status).toBe(200);
    expect(await invoke.json()).toEqual({ payload: 'hi ann' });

    await controller.close();
    controller = undefined;
    await vi.waitFor(() => expect(scheduler?.of('release')).toEqual([{ type: 'release', containerIds: ['c1'], reason: 'shutdown' }]));
  });
});
