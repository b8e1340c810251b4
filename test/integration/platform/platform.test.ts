import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import openwhisk from 'openwhisk';
import { createClient } from '../../../src/client/client.js';
import { zipOf } from '../../support/zip-writer.js';
import { annotation, api, putAction, startPlatform, type Platform } from './harness.js';

let platform: Platform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the platform end to end on loopback (scheduler + agent + controller, process backend)', () => {
  it('runs a blocking invoke on a new container, then reuses it warm, and keeps the records with logs', async () => {
    platform = await startPlatform();
    await putAction(platform, 'hello', "function main({ name = 'World' }) { console.log('greeting', name); return { greeting: `Hello, ${name}!` }; }");

    const cold = await api(platform, 'POST', '/namespaces/_/actions/hello?blocking=true', { name: 'Ada' });
    expect(cold.status).toBe(200);
    expect(cold.body.response).toMatchObject({ status: 'success', success: true, result: { greeting: 'Hello, Ada!' } });
    expect(cold.headers.get('x-openwhisk-activation-id')).toBe(cold.body.activationId);
    expect(typeof annotation(cold.body, 'initTime')).toBe('number');
    expect(annotation(cold.body, 'path')).toBe('guest/hello');
    expect(annotation(cold.body, 'kind')).toBe('nodejs:20');

    const warm = await api(platform, 'POST', '/namespaces/_/actions/hello?blocking=true&result=true', { name: 'Grace' });
    expect(warm.status).toBe(200);
    expect(warm.body).toEqual({ greeting: 'Hello, Grace!' });
    const warmId = warm.headers.get('x-openwhisk-activation-id')!;

    // One container served both: the warm invoke sent no acquire and had no init.
    expect(platform.backend.pids()).toHaveLength(1);
    const record = await api(platform, 'GET', `/namespaces/_/activations/${warmId}`);
    expect(record.status).toBe(200);
    expect(annotation(record.body, 'initTime')).toBeUndefined();
    await vi.waitFor(async () => {
      const logs = await api(platform!, 'GET', `/namespaces/_/activations/${warmId}/logs`);
      expect(logs.body.logs).toHaveLength(1);
      expect(logs.body.logs[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z\s+stdout: greeting Grace$/);
    });
  });

  it('attributes the logs of concurrent activations in one container to the right activation', async () => {
    platform = await startPlatform();
    await putAction(
      platform,
      'chatty',
      "async function main({ tag }) { for (let i = 0; i < 5; i++) { console.log(tag, i); await new Promise((r) => setTimeout(r, 5)); } return { tag }; }",
      { concurrency: 4 },
    );
    await api(platform, 'POST', '/namespaces/_/actions/chatty?blocking=true', { tag: 'warmup' });
    const replies = await Promise.all(['a', 'b', 'c'].map((tag) => api(platform!, 'POST', '/namespaces/_/actions/chatty?blocking=true', { tag })));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(platform.backend.pids()).toHaveLength(1);
    for (const reply of replies) {
      const tag = reply.body.response.result.tag as string;
      await vi.waitFor(async () => {
        const logs = await api(platform!, 'GET', `/namespaces/_/activations/${reply.body.activationId}/logs`);
        expect(logs.body.logs.map((l: string) => l.replace(/^.*stdout: /, ''))).toEqual([0, 1, 2, 3, 4].map((i) => `${tag} ${i}`));
      });
    }
  });

  it('answers a non-blocking invoke with 202 and records the activation', async () => {
    platform = await startPlatform();
    await putAction(platform, 'later', 'function main() { return { done: true }; }');
    const reply = await api(platform, 'POST', '/namespaces/_/actions/later', {});
    expect(reply.status).toBe(202);
    expect(reply.body.activationId).toMatch(/^[0-9a-f]{32}$/);
    await vi.waitFor(async () => {
      const result = await api(platform!, 'GET', `/namespaces/_/activations/${reply.body.activationId}/result`);
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ success: true, result: { done: true } });
    });
  });

  it('records an application error (502) and keeps the container', async () => {
    platform = await startPlatform();
    await putAction(platform, 'sad', "function main() { return Promise.reject({ reason: 'nope' }); }");
    const reply = await api(platform, 'POST', '/namespaces/_/actions/sad?blocking=true', {});
    expect(reply.status).toBe(502);
    expect(reply.body.response).toMatchObject({ status: 'application error', success: false, result: { error: { reason: 'nope' } } });
    expect(platform.backend.pids()).toHaveLength(1);
  });

  it('records a crash as a developer error and replaces the container', async () => {
    platform = await startPlatform();
    await putAction(platform, 'crash', 'function main({ die }) { if (die) process.exit(3); return { ok: true }; }');
    const first = await api(platform, 'POST', '/namespaces/_/actions/crash?blocking=true', {});
    expect(first.status).toBe(200);
    const [firstPid] = platform.backend.pids();
    const crashed = await api(platform, 'POST', '/namespaces/_/actions/crash?blocking=true', { die: true });
    expect(crashed.status).toBe(502);
    expect(crashed.body.response).toMatchObject({
      status: 'action developer error',
      result: { error: 'The action did not produce a valid response and exited unexpectedly.' },
    });
    const again = await api(platform, 'POST', '/namespaces/_/actions/crash?blocking=true', {});
    expect(again.status).toBe(200);
    expect(platform.backend.pids()).not.toContain(firstPid);
    // The stored logs say once that the action did not run as expected.
    await vi.waitFor(async () => {
      const logs = await api(platform!, 'GET', `/namespaces/_/activations/${crashed.body.activationId}/logs`);
      expect(logs.body.logs.filter((l: string) => l.endsWith('The action did not initialize or run as expected. Log data might be missing.'))).toHaveLength(1);
    });
  });

  it('blames an uncaught async error on the activation that threw it, not on a concurrent one', async () => {
    platform = await startPlatform();
    const dir = platform.dataDir;
    await putAction(
      platform,
      'shared',
      `async function main({ role }) {
        const fs = require('fs');
        if (role === 'victim') { console.log('victim started'); fs.writeFileSync(${JSON.stringify(`${dir}/victim`)}, ''); return new Promise(() => {}); }
        setTimeout(() => { throw new Error('boom from the culprit'); }, 0);
        return { role };
      }`,
      { concurrency: 4, timeout: 20_000 },
    );
    expect((await api(platform, 'POST', '/namespaces/_/actions/shared?blocking=true', { role: 'warmup' })).status).toBe(200);
    // The warm-up threw after returning, so its runtime is stopped: the victim is refused there
    // (not charged for it) and runs on a new container.
    const victim = api(platform, 'POST', '/namespaces/_/actions/shared?blocking=true', { role: 'victim' });
    await vi.waitFor(() => expect(existsSync(`${dir}/victim`)).toBe(true), { timeout: 10_000 });
    const culprit = await api(platform, 'POST', '/namespaces/_/actions/shared?blocking=true', { role: 'culprit' });
    expect(culprit.status).toBe(200);
    const hit = await victim;
    expect(hit.status).toBe(502);
    expect(hit.body.response.result.error).toBe("The action's container failed because another activation threw an uncaught error: Error: boom from the culprit");
    await vi.waitFor(async () => {
      const logs = await api(platform!, 'GET', `/namespaces/_/activations/${hit.body.activationId}/logs`);
      expect(logs.body.logs.some((l: string) => l.endsWith('stdout: victim started'))).toBe(true);
      expect(logs.body.logs.some((l: string) => l.includes('boom from the culprit'))).toBe(false);
    });
  });

  it('records an out-of-memory action with OpenWhisk\'s message', async () => {
    platform = await startPlatform();
    await putAction(platform, 'hog', 'function main() { const keep = []; for (;;) keep.push(new Array(1e6).fill(Math.random())); }', { memory: 128, timeout: 60_000 });
    const reply = await api(platform, 'POST', '/namespaces/_/actions/hog?blocking=true', {});
    expect(reply.status).toBe(502);
    expect(reply.body.response.result).toEqual({ error: 'The action exhausted its memory and was aborted.' });
  });

  it('ends a run over its time limit as a developer error with timeout:true', async () => {
    platform = await startPlatform();
    await putAction(platform, 'slow', 'function main() { return new Promise(() => {}); }', { timeout: 300 });
    const reply = await api(platform, 'POST', '/namespaces/_/actions/slow?blocking=true', {});
    expect(reply.status).toBe(502);
    expect(reply.body.response.result).toEqual({ error: 'The action exceeded its time limits of 300 milliseconds.' });
    expect(annotation(reply.body, 'timeout')).toBe(true);
    await vi.waitFor(() => expect(platform!.backend.pids()).toEqual([]));
  });

  it('enforces a time limit well under a second', async () => {
    platform = await startPlatform();
    await putAction(platform, 'dawdle', 'async function main() { await new Promise((r) => setTimeout(r, 700)); return { late: true }; }', { timeout: 200 });
    const reply = await api(platform, 'POST', '/namespaces/_/actions/dawdle?blocking=true', {});
    expect(reply.status).toBe(502);
    expect(reply.body.response.result).toEqual({ error: 'The action exceeded its time limits of 200 milliseconds.' });
  });

  it('evicts an idle container of another action when the agent is full', async () => {
    platform = await startPlatform({ agentMemoryMB: 256 });
    await putAction(platform, 'first', 'function main() { return { who: 1 }; }');
    await putAction(platform, 'second', 'function main() { return { who: 2 }; }');
    expect((await api(platform, 'POST', '/namespaces/_/actions/first?blocking=true&result=true', {})).body).toEqual({ who: 1 });
    const [firstPid] = platform.backend.pids();
    expect((await api(platform, 'POST', '/namespaces/_/actions/second?blocking=true&result=true', {})).body).toEqual({ who: 2 });
    expect(platform.backend.pids()).toHaveLength(1);
    expect(alive(firstPid!)).toBe(false);
  });

  it('answers 503 with the limit when an action can never fit on any agent', async () => {
    platform = await startPlatform({ agentMemoryMB: 256 });
    await putAction(platform, 'big', 'function main() { return {}; }', { memory: 512 });
    const reply = await api(platform, 'POST', '/namespaces/_/actions/big?blocking=true', {});
    expect(reply.status).toBe(503);
    expect(reply.body.error).toMatch(/^No capacity to run this action \(tooLargeForAnyAgent\): /);
    expect(reply.headers.get('x-openwhisk-activation-id')).toBe(reply.body.activationId);
    // The accepted activation still has its record.
    const stored = await api(platform, 'GET', `/namespaces/_/activations/${reply.body.activationId}`);
    expect(stored.status).toBe(200);
    expect(stored.body.response).toMatchObject({ status: 'whisk internal error', result: { error: reply.body.error } });
  });

  it('takes a stem cell for the first invoke and backfills it', async () => {
    platform = await startPlatform({ stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }] });
    await vi.waitFor(() => expect(platform!.backend.pids()).toHaveLength(1));
    const [stemPid] = platform.backend.pids();
    await putAction(platform, 'quick', 'function main() { return { fast: true }; }');
    const reply = await api(platform, 'POST', '/namespaces/_/actions/quick?blocking=true&result=true', {});
    expect(reply.body).toEqual({ fast: true });
    // the stem cell ran the action, and a new stem cell takes its place
    await vi.waitFor(() => expect(platform!.backend.pids()).toHaveLength(2));
    expect(platform.backend.pids()).toContain(stemPid);
  });

  it('rebuilds the pool after a scheduler restart from the agents and controllers that re-register', async () => {
    platform = await startPlatform({ stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }] });
    await putAction(platform, 'steady', 'function main() { return { pid: process.pid }; }');
    const before = await api(platform, 'POST', '/namespaces/_/actions/steady?blocking=true&result=true', {});
    await vi.waitFor(() => expect(platform!.backend.pids()).toHaveLength(2)); // the warm container and the backfilled stem cell

    const scheduler = await platform.restartScheduler();
    // The new scheduler starts empty and learns the pool again: the agent's stem cell and the
    // controller's warm container, claimed by its owner.
    await vi.waitFor(
      () => {
        const containers = scheduler.state().containers;
        expect(containers.map((c) => c.state).sort()).toEqual(['assigned', 'prewarm']);
        expect(containers.find((c) => c.state === 'assigned')).toMatchObject({ owner: platform!.controller.controllerId, action: { name: 'steady' } });
      },
      { timeout: 15_000 },
    );
    // Warm reuse goes on, and a new action is placed through the new scheduler (on the stem cell).
    expect(await api(platform, 'POST', '/namespaces/_/actions/steady?blocking=true&result=true', {})).toMatchObject({ status: 200, body: before.body });
    await putAction(platform, 'fresh', 'function main() { return { fresh: true }; }');
    expect(await api(platform, 'POST', '/namespaces/_/actions/fresh?blocking=true&result=true', {})).toMatchObject({ status: 200, body: { fresh: true } });
  });

  it('runs a zip action with a bundled dependency', async () => {
    platform = await startPlatform();
    const zip = zipOf({
      'package.json': JSON.stringify({ main: 'lib/entry.js' }),
      'lib/entry.js': "const shout = require('shout'); exports.main = ({ name }) => ({ said: shout(name) });",
      'node_modules/shout/index.js': 'module.exports = (s) => String(s).toUpperCase() + "!";',
    });
    const put = await api(platform, 'PUT', '/namespaces/_/actions/zipped', { exec: { kind: 'nodejs:default', code: zip.toString('base64') } });
    expect(put.body.exec).toMatchObject({ kind: 'nodejs:20', binary: true });
    const reply = await api(platform, 'POST', '/namespaces/_/actions/zipped?blocking=true&result=true', { name: 'ada' });
    expect(reply).toMatchObject({ status: 200, body: { said: 'ADA!' } });
  });

  it('gives the brisk client the record of an action that returns an array', async () => {
    platform = await startPlatform();
    await putAction(platform, 'pair', 'function main(p) { return [p.a, 2]; }');
    const client = createClient({ apihost: platform.controller.url, auth: `${platform.identity.uuid}:${platform.identity.key}` });
    const outcome = await client.actions.invoke('pair', { blocking: true, params: { a: 1 } });
    expect(outcome).toMatchObject({ kind: 'completed', activation: { name: 'pair', response: { status: 'success', result: [1, 2] } } });
  });

  it('works with the official openwhisk client unchanged', async () => {
    platform = await startPlatform();
    const ow = openwhisk({ apihost: platform.controller.url, api_key: `${platform.identity.uuid}:${platform.identity.key}` });
    await ow.actions.create({ name: 'owc', action: 'function main(p) { return { twice: p.n * 2 }; }' });
    const result = await ow.actions.invoke({ name: 'owc', params: { n: 21 }, blocking: true, result: true });
    expect(result).toEqual({ twice: 42 });
    const list = await ow.activations.list({ name: 'owc' });
    expect(list).toHaveLength(1);
  });

  it('leaves no container running after close', async () => {
    platform = await startPlatform({ stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }] });
    await putAction(platform, 'bye', 'function main() { return {}; }');
    await api(platform, 'POST', '/namespaces/_/actions/bye?blocking=true', {});
    await vi.waitFor(() => expect(platform!.backend.pids()).toHaveLength(2));
    const pids = platform.backend.pids();
    await platform.close();
    platform = undefined;
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
