import { afterEach, describe, expect, it, vi } from 'vitest';
import { Balancer, type BalancerOptions } from '../../../src/controller/balancer/balancer.js';
import type { InvokeRequest } from '../../../src/controller/invoker.js';
import type { ActionDoc } from '../../../src/model/action.js';
import { newActivationId } from '../../../src/model/activation.js';
import { FakeAgent, FakeScheduler, TOKEN } from './harness.js';

const API_KEY = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';

function action(code: string, overrides: Partial<ActionDoc> = {}): ActionDoc {
  return {
    namespace: 'guest',
    name: 'hello',
    version: '0.0.1',
    publish: false,
    exec: { kind: 'nodejs:20', code, binary: false },
    parameters: [],
    limits: { timeout: 10_000, memory: 256, logs: 10, concurrency: 1 },
    annotations: [{ key: 'provide-api-key', value: false }],
    updated: Date.now(),
    ...overrides,
  };
}

function request(doc: ActionDoc, params: Record<string, unknown> = {}): InvokeRequest {
  return { action: doc, params, activationId: newActivationId(), subject: 'guest', apiKey: API_KEY, receivedAt: Date.now() };
}

const ECHO = "function main(p) { console.log('hello from', p.name); return { payload: 'hi ' + p.name }; }";

let scheduler: FakeScheduler | undefined;
let agent: FakeAgent | undefined;
let balancer: Balancer | undefined;
let containerSeq = 0;

async function world(options: Partial<BalancerOptions> = {}) {
  scheduler = await FakeScheduler.start();
  agent = await FakeAgent.start();
  const a = agent;
  const s = scheduler;
  // By default every acquire is granted with a fresh real container.
  s.onAcquire = async (message, conn) => {
    const containerId = `c${++containerSeq}`;
    const container = await a.create(containerId);
    conn.send({
      type: 'acquire.granted',
      requestId: message.requestId,
      container: { containerId, agentId: 'agent-1', agentUrl: a.url, address: { host: '127.0.0.1', port: container.port }, fromStemCell: false },
    });
  };
  balancer = new Balancer({ controllerId: 'ctl-1', schedulerUrl: s.url, token: TOKEN, usageIntervalMs: 50, ...options });
  await balancer.whenSchedulerConnected(5_000);
  return { scheduler: s, agent: a, balancer };
}

afterEach(async () => {
  await balancer?.close();
  await agent?.close();
  await scheduler?.close();
  balancer = undefined;
  agent = undefined;
  scheduler = undefined;
});

describe('balancer against a fake scheduler and agent with real containers', () => {
  it('registers, runs a cold start, then reuses the warm container without a scheduler message', async () => {
    const { scheduler, balancer } = await world();
    await vi.waitFor(() => expect(scheduler.of('controller.register')).toEqual([{ type: 'controller.register', controllerId: 'ctl-1', containers: [] }]));
    const doc = action(ECHO);

    const first = balancer.invoke(request(doc, { name: 'ann' }));
    const response = await first.response;
    expect(response.response).toEqual({ statusCode: 0, result: { payload: 'hi ann' }, size: 20 });
    expect(response.logs).toEqual([]);
    expect(response.activationId).toBe(first.activationId);
    expect(response.annotations.map((a) => a.key)).toEqual(['limits', 'path', 'kind', 'timeout', 'initTime', 'waitTime']);
    expect(response.annotations.slice(0, 4)).toEqual([
      { key: 'limits', value: { timeout: 10_000, memory: 256, logs: 10, concurrency: 1 } },
      { key: 'path', value: 'guest/hello' },
      { key: 'kind', value: 'nodejs:20' },
      { key: 'timeout', value: false },
    ]);
    const record = await first.record;
    expect(record.logs).toHaveLength(1);
    expect(record.logs[0]).toMatch(/^\S+\s+stdout: hello from ann$/);
    expect(scheduler.of('acquire')).toHaveLength(1);

    const second = await balancer.invoke(request(doc, { name: 'bob' })).response;
    expect(second.response.result).toEqual({ payload: 'hi bob' });
    expect(second.annotations.map((a) => a.key)).toEqual(['limits', 'path', 'kind', 'timeout', 'waitTime']);
    expect(scheduler.of('acquire')).toHaveLength(1);

    await vi.waitFor(() => {
      const reported = scheduler.of('usage').flatMap((u) => u.containers);
      expect(reported.some((c) => c.containerId === `c${containerSeq}` && c.inFlight === 0)).toBe(true);
    });
  });

  it('buffers requests while a container is acquired, then drains them all through it', async () => {
    const { scheduler, balancer } = await world({ maxOutstandingAcquires: 1 });
    const grant = scheduler.onAcquire;
    let acquires = 0;
    // Only the first acquire is granted; later ones stay unanswered, so all three drain through one container.
    scheduler.onAcquire = (message, conn) => (++acquires === 1 ? grant(message, conn) : undefined);
    const doc = action(ECHO);
    const invocations = ['a', 'b', 'c'].map((name) => balancer.invoke(request(doc, { name })));
    expect(balancer.stats()).toEqual({ containers: 0, inFlight: 0, waiting: 3, outstandingAcquires: 1 });
    const results = await Promise.all(invocations.map((i) => i.response));
    expect(results.map((r) => r.response.result)).toEqual([{ payload: 'hi a' }, { payload: 'hi b' }, { payload: 'hi c' }]);
    // after the grant the two still waiting asked for one more container (capped at 1 outstanding)
    expect(scheduler.of('acquire')).toHaveLength(2);
    expect(balancer.stats()).toEqual({ containers: 1, inFlight: 0, waiting: 0, outstandingAcquires: 1 });
  });

  it('throws THROTTLED when the overflow buffer is full; buffered requests end as records on close', async () => {
    const { scheduler, balancer } = await world({ overflowLimit: 2 });
    scheduler.onAcquire = () => undefined; // the scheduler never answers
    const doc = action(ECHO);
    const a = balancer.invoke(request(doc));
    const b = balancer.invoke(request(doc));
    expect(() => balancer.invoke(request(doc))).toThrow(expect.objectContaining({ code: 'THROTTLED', limit: 'overflowBuffer', status: 429 }));
    try {
      balancer.invoke(request(doc));
    } catch (error) {
      expect((error as Error).message).toBe('Too many requests waiting for a container of action guest/hello (limit: 2).');
    }
    await balancer.close();
    for (const inv of [a, b]) {
      const record = await inv.record;
      expect(record.response).toEqual({ statusCode: 3, result: { error: 'The controller is shutting down; the activation was not run.' } });
    }
  });

  it('ends a request as a whisk internal error naming the limit when the scheduler rejects the acquire', async () => {
    const { scheduler, balancer } = await world();
    scheduler.onAcquire = (message, conn) => {
      conn.send({ type: 'acquire.rejected', requestId: message.requestId, limit: 'noAgents', message: 'No agent is registered.' });
    };
    const inv = balancer.invoke(request(action(ECHO)));
    const response = await inv.response;
    expect(response.response).toEqual({ statusCode: 3, result: { error: 'No capacity to run this action (noAgents): No agent is registered.' } });
    expect(inv.unavailable).toEqual({ limit: 'noAgents', message: 'No capacity to run this action (noAgents): No agent is registered.' });
    expect(await inv.record).toEqual(response);
  });

  it('fails fast with the scheduler-unavailable message when the scheduler is gone', async () => {
    const { scheduler, balancer } = await world();
    await scheduler.close();
    await vi.waitFor(() => expect(balancer.schedulerConnected).toBe(false));
    const inv = balancer.invoke(request(action(ECHO)));
    expect((await inv.response).response).toEqual({
      statusCode: 3,
      result: { error: 'No capacity to run this action (schedulerUnavailable): The scheduler is not reachable; no new containers can be placed.' },
    });
    expect(inv.unavailable?.limit).toBe('schedulerUnavailable');
  });

  it('times a run out as a developer error, destroys the container and releases it as failed', async () => {
    const { scheduler, agent, balancer } = await world();
    const doc = action('function main() { return new Promise(() => {}); }', { limits: { timeout: 300, memory: 256, logs: 10, concurrency: 1 } });
    const inv = balancer.invoke(request(doc));
    const response = await inv.response;
    expect(response.response).toEqual({ statusCode: 2, result: { error: 'The action exceeded its time limits of 300 milliseconds.' } });
    expect(response.annotations[3]).toEqual({ key: 'timeout', value: true });
    const record = await inv.record;
    expect(record.logs.at(-1)).toMatch(/stderr: The action did not initialize or run as expected\. Log data might be missing\.$/);
    const containerId = `c${containerSeq}`;
    await vi.waitFor(() => expect(agent.of('destroy').map((d) => [d.containerId, d.reason])).toEqual([[containerId, 'timeout']]));
    await vi.waitFor(() => expect(scheduler.of('release')).toEqual([{ type: 'release', containerIds: [containerId], reason: 'failed' }]));
    expect(balancer.stats().containers).toBe(0);
  });

  it('discards a container after an action crash (developer error) and acquires a new one next time', async () => {
    const { scheduler, balancer } = await world();
    const doc = action("function main(p) { if (p.crash) throw new Error('boom'); return { ok: true }; }");
    const crashed = await balancer.invoke(request(doc, { crash: true })).response;
    expect(crashed.response.statusCode).toBe(2);
    expect(crashed.response.result).toEqual({ error: expect.stringContaining('boom') });
    const ok = await balancer.invoke(request(doc)).response;
    expect(ok.response).toEqual({ statusCode: 0, result: { ok: true }, size: 11 });
    expect(scheduler.of('acquire')).toHaveLength(2);
  });

  it('reports an application error without discarding the container', async () => {
    const { scheduler, balancer } = await world();
    const doc = action("function main() { return Promise.reject({ message: 'nope' }); }");
    const first = await balancer.invoke(request(doc)).response;
    expect(first.response.statusCode).toBe(1);
    expect(first.response.result).toEqual({ error: { message: 'nope' } });
    await balancer.invoke(request(doc)).response;
    expect(scheduler.of('acquire')).toHaveLength(1);
  });

  it('pauses an idle container after the grace and resumes it before the next run', async () => {
    const { agent, balancer } = await world({ pauseGraceMs: 50 });
    const doc = action(ECHO);
    await balancer.invoke(request(doc, { name: 'x' })).record;
    const containerId = `c${containerSeq}`;
    await vi.waitFor(() => expect(agent.of('pause').map((p) => p.containerId)).toEqual([containerId]));
    const response = await balancer.invoke(request(doc, { name: 'y' })).response;
    expect(response.response.result).toEqual({ payload: 'hi y' });
    const controlOps = agent.received.filter((m) => m.type === 'pause' || m.type === 'resume').map((m) => m.type);
    expect(controlOps.slice(0, 2)).toEqual(['pause', 'resume']);
  });

  it('runs on a new container when the warm one is gone before the controller heard of it', async () => {
    const { scheduler, agent, balancer } = await world({ pauseGraceMs: 60_000 });
    const doc = action(ECHO);
    await balancer.invoke(request(doc, { name: 'a' })).record;
    const first = `c${containerSeq}`;
    const dead = agent.containers.get(first)!;
    dead.signal('SIGKILL');
    await vi.waitFor(() => expect(dead.exited).toBe(true));
    // No container.gone was sent: the table still lists the dead container as warm and idle.
    const inv = balancer.invoke(request(doc, { name: 'b' }));
    expect((await inv.response).response).toEqual({ statusCode: 0, result: { payload: 'hi b' }, size: 18 });
    expect(scheduler.of('acquire')).toHaveLength(2);
    expect(scheduler.of('release')).toEqual([{ type: 'release', containerIds: [first], reason: 'failed' }]);
  });

  it('runs elsewhere when the container refuses the run (its runtime stopped)', async () => {
    const { scheduler, agent, balancer } = await world({ pauseGraceMs: 60_000 });
    const doc = action("function main(p) { if (p.sync) throw new Error('sync boom'); return { ok: p.n }; }");
    expect((await balancer.invoke(request(doc, { n: 1 })).response).response.result).toEqual({ ok: 1 });
    const first = `c${containerSeq}`;
    // Behind the controller's back, a synchronous throw stops the runtime (it stays up, refusing runs).
    const stopped = await fetch(`http://127.0.0.1:${agent.containers.get(first)!.port}/run`, {
      method: 'POST',
      body: JSON.stringify({ value: { sync: true }, activation_id: 'e'.repeat(32), deadline: String(Date.now() + 10_000) }),
    });
    expect(stopped.status).toBe(502);
    const inv = balancer.invoke(request(doc, { n: 2 }));
    expect((await inv.response).response).toEqual({ statusCode: 0, result: { ok: 2 }, size: 8 });
    expect(scheduler.of('acquire')).toHaveLength(2);
    expect(scheduler.of('release')).toEqual([{ type: 'release', containerIds: [first], reason: 'failed' }]);
  });

  describe('a paused container that cannot be resumed', () => {
    /** Runs one activation, then waits until its container is paused; returns the container id. */
    async function warmAndPaused(doc: ActionDoc, agent: FakeAgent, balancer: Balancer): Promise<string> {
      await balancer.invoke(request(doc, { name: 'x' })).record;
      const containerId = `c${containerSeq}`;
      await vi.waitFor(() => expect(agent.of('pause').map((p) => p.containerId)).toEqual([containerId]), { timeout: 5_000 });
      return containerId;
    }

    it('moves the request to a new container when the agent refuses the resume; no logs are collected for the failed attempt', async () => {
      const { scheduler, agent, balancer } = await world({ pauseGraceMs: 50 });
      const doc = action(ECHO);
      const old = await warmAndPaused(doc, agent, balancer);
      agent.resumeMode = 'refuse';

      const inv = balancer.invoke(request(doc, { name: 'y' }));
      const response = await inv.response;
      expect(response.response).toEqual({ statusCode: 0, result: { payload: 'hi y' }, size: 18 });
      expect(inv.unavailable).toBeUndefined();
      // a cold start on the new container
      expect(response.annotations.map((a) => a.key)).toEqual(['limits', 'path', 'kind', 'timeout', 'initTime', 'waitTime']);
      const fresh = `c${containerSeq}`;
      expect(fresh).not.toBe(old);
      expect(scheduler.of('acquire')).toHaveLength(2);
      expect(agent.of('resume').map((r) => r.containerId)).toEqual([old]);
      await vi.waitFor(() => expect(scheduler.of('release')).toEqual([{ type: 'release', containerIds: [old], reason: 'failed' }]));

      const record = await inv.record;
      expect(record.logs).toHaveLength(1);
      expect(record.logs[0]).toMatch(/^\S+\s+stdout: hello from y$/);
      // logs were asked for on the container that ran it only
      expect(agent.of('logs.collect').filter((m) => m.activationId === inv.activationId).map((m) => m.containerId)).toEqual([fresh]);
      expect(balancer.stats()).toMatchObject({ containers: 1, waiting: 0, outstandingAcquires: 0 });
    });

    it('moves the request to a new container when the agent does not answer the resume within resumeTimeoutMs', async () => {
      const { scheduler, agent, balancer } = await world({ pauseGraceMs: 50, resumeTimeoutMs: 200 });
      const doc = action(ECHO);
      const old = await warmAndPaused(doc, agent, balancer);
      agent.resumeMode = 'ignore';

      const inv = balancer.invoke(request(doc, { name: 'z' }));
      expect((await inv.response).response).toEqual({ statusCode: 0, result: { payload: 'hi z' }, size: 18 });
      expect(scheduler.of('acquire')).toHaveLength(2);
      await vi.waitFor(() => expect(scheduler.of('release')).toEqual([{ type: 'release', containerIds: [old], reason: 'failed' }]));
      const record = await inv.record;
      expect(record.logs).toHaveLength(1);
      expect(record.logs[0]).toMatch(/^\S+\s+stdout: hello from z$/);
    });

    it('moves every request waiting on the same failed resume to one new container', async () => {
      const { scheduler, agent, balancer } = await world({ pauseGraceMs: 50 });
      const doc = action(ECHO, { limits: { timeout: 10_000, memory: 256, logs: 10, concurrency: 2 } });
      const old = await warmAndPaused(doc, agent, balancer);
      agent.resumeMode = 'refuse';

      const first = balancer.invoke(request(doc, { name: 'p' }));
      const second = balancer.invoke(request(doc, { name: 'q' }));
      const responses = await Promise.all([first.response, second.response]);
      expect(responses.map((r) => r.response.result)).toEqual([{ payload: 'hi p' }, { payload: 'hi q' }]);
      // both were waiting on one resume; one acquire covers both (concurrency 2)
      expect(agent.of('resume').map((r) => r.containerId)).toEqual([old]);
      expect(scheduler.of('acquire')).toHaveLength(2);
      await vi.waitFor(() => expect(scheduler.of('release')).toEqual([{ type: 'release', containerIds: [old], reason: 'failed' }]));
    });

    it('ends the request as a whisk internal error once it was moved maxRequeues (2) times', async () => {
      const { scheduler, agent, balancer } = await world({ pauseGraceMs: 50 });
      const doc = action(ECHO);
      // three warm containers: three requests at once, three acquires, three grants
      await Promise.all(['a', 'b', 'c'].map((name) => balancer.invoke(request(doc, { name })).record));
      // the first grant may have run all three: the later grants are adopted when they arrive
      await vi.waitFor(() => expect(balancer.stats().containers).toBe(3), { timeout: 5_000 });
      const ids = [...agent.containers.keys()].sort();
      expect(ids).toHaveLength(3);
      expect(scheduler.of('acquire')).toHaveLength(3);
      await vi.waitFor(() => expect([...new Set(agent.of('pause').map((p) => p.containerId))].sort()).toEqual(ids), { timeout: 5_000 });
      agent.resumeMode = 'refuse';

      const inv = balancer.invoke(request(doc, { name: 'n' }));
      const response = await inv.response;
      const resumed = agent.of('resume').map((r) => r.containerId);
      expect([...resumed].sort()).toEqual(ids);
      expect(response.response).toEqual({
        statusCode: 3,
        result: {
          error: `The container of the action could not be used: resume of container ${resumed[2]} failed: resume refused by the test (gave up after 3 containers).`,
        },
      });
      expect(inv.unavailable).toBeUndefined();
      const record = await inv.record;
      expect(record.logs).toEqual([]);
      expect(agent.of('logs.collect').filter((m) => m.activationId === inv.activationId)).toEqual([]);
      // no new container was asked for: each attempt took another free one
      expect(scheduler.of('acquire')).toHaveLength(3);
      await vi.waitFor(() =>
        expect(
          scheduler
            .of('release')
            .flatMap((r) => r.containerIds.map((id) => [id, r.reason]))
            .sort(),
        ).toEqual(ids.map((id) => [id, 'failed'])),
      );
      expect(balancer.stats()).toEqual({ containers: 0, inFlight: 0, waiting: 0, outstandingAcquires: 0 });
    });
  });

  it('releases an idle container the scheduler evicts, and ignores an evict while busy', async () => {
    const { scheduler, balancer } = await world();
    const doc = action("function main(p) { return new Promise((r) => setTimeout(() => r({ done: true }), p.ms || 0)); }");
    await balancer.invoke(request(doc)).response;
    const containerId = `c${containerSeq}`;

    const busy = balancer.invoke(request(doc, { ms: 300 }));
    await vi.waitFor(() => expect(balancer.stats().inFlight).toBe(1));
    scheduler.send({ type: 'evict', containerId });
    await busy.response;
    expect(scheduler.of('release')).toEqual([]);

    scheduler.send({ type: 'evict', containerId });
    await vi.waitFor(() => expect(scheduler.of('release')).toEqual([{ type: 'release', containerIds: [containerId], reason: 'evicted' }]));
    expect(balancer.stats().containers).toBe(0);
  });

  it('releases a container idle past idleTimeout, and acquires anew for the next invoke', async () => {
    const { scheduler, balancer } = await world({ idleTimeoutMs: 100, pauseGraceMs: 60_000 });
    const doc = action(ECHO);
    await balancer.invoke(request(doc, { name: 'a' })).record;
    const containerId = `c${containerSeq}`;
    await vi.waitFor(() => expect(scheduler.of('release')).toEqual([{ type: 'release', containerIds: [containerId], reason: 'idle' }]));
    expect(balancer.stats().containers).toBe(0);
    expect((await balancer.invoke(request(doc, { name: 'b' })).response).response.result).toEqual({ payload: 'hi b' });
    expect(scheduler.of('acquire')).toHaveLength(2);
  });

  it('releases every container on close', async () => {
    const { scheduler, balancer } = await world();
    await balancer.invoke(request(action(ECHO))).record;
    const containerId = `c${containerSeq}`;
    await balancer.close();
    await vi.waitFor(() => expect(scheduler.of('release')).toEqual([{ type: 'release', containerIds: [containerId], reason: 'shutdown' }]));
  });
});
