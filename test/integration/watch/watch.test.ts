import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createClient } from '../../../src/client/client.js';
import { watchSnapshotSchema, type WatchSnapshot } from '../../../src/watch/snapshot.js';
import { api, putAction, startPlatform, type Platform } from '../platform/harness.js';

let platform: Platform | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await platform?.close();
  platform = undefined;
});

/** A viewer: every snapshot it received (validated), the newest last; and how it ended. */
interface Viewer {
  ws: WebSocket;
  snapshots: WatchSnapshot[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  /** the HTTP status of a refused upgrade */
  refused: Promise<number>;
}

function watch(p: Platform, authorization: string): Viewer {
  const ws = new WebSocket(`${p.controller.url.replace(/^http/, 'ws')}/api/v1/watch`, { headers: { authorization } });
  sockets.push(ws);
  const snapshots: WatchSnapshot[] = [];
  ws.on('message', (data) => snapshots.push(watchSnapshotSchema.parse(JSON.parse(String(data)))));
  ws.on('error', () => undefined);
  return {
    ws,
    snapshots,
    opened: new Promise((resolve) => ws.once('open', () => resolve())),
    closed: new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
    refused: new Promise((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))),
  };
}

function basic(uuid: string, key: string): string {
  return `Basic ${Buffer.from(`${uuid}:${key}`).toString('base64')}`;
}

const last = (v: Viewer): WatchSnapshot | undefined => v.snapshots[v.snapshots.length - 1];

describe('the watch stream on the platform (scheduler + agent + controller, process backend)', () => {
  it('shows an invoked action warm, its activation with phases, and the agent with its containers', async () => {
    platform = await startPlatform();
    await putAction(platform, 'hello', 'function main() { return { ok: true }; }');
    const viewer = watch(platform, platform.auth);
    await viewer.opened;

    const reply = await api(platform, 'POST', '/namespaces/_/actions/hello?blocking=true', {});
    expect(reply.status).toBe(200);
    const activationId = reply.body.activationId as string;

    await expect
      .poll(() => {
        const s = last(viewer);
        return {
          action: s?.actions.find((a) => a.action === 'guest/hello'),
          agent: s?.cluster?.agents[0],
          recent: s?.recent.find((r) => r.activationId === activationId),
        };
      }, { timeout: 10_000 })
      .toMatchObject({
        action: { action: 'guest/hello', warm: 1, inFlight: 0, queued: 0, coldStarts: 1, requestsPerSecond: 0.1 },
        agent: { agentId: platform.agent.agentId, backend: 'process', connected: true, memoryMB: 1024, usedMB: 256, containers: { starting: 0, prewarm: 0, busy: 0, idle: 1, paused: 0 } },
        recent: { activationId, action: 'guest/hello', status: 'success' },
      });
    const s = last(viewer)!;
    expect(s.namespace).toBe('guest');
    expect(s.controllerId).toBe(platform.controller.controllerId);
    expect(s.schedulerConnected).toBe(true);
    expect(s.cluster!.queue).toEqual({ length: 0, capacity: 1000 });
    expect(s.cluster!.decisions.some((d) => d.kind === 'create' && d.action === 'guest/hello' && d.agentId === platform!.agent.agentId)).toBe(true);
    const phases = s.recent.find((r) => r.activationId === activationId)!.phases;
    expect(Object.keys(phases).sort()).toEqual(['createMs', 'initMs', 'runMs']);
  });

  it('keeps one namespace\'s actions from another namespace\'s viewer, which still sees the cluster', async () => {
    platform = await startPlatform();
    const other = platform.store.entities.ensureIdentity('other');
    await putAction(platform, 'secret', 'function main() { return {}; }');
    const guest = watch(platform, platform.auth);
    const stranger = watch(platform, basic(other.uuid, other.key));
    await Promise.all([guest.opened, stranger.opened]);
    expect((await api(platform, 'POST', '/namespaces/_/actions/secret?blocking=true', {})).status).toBe(200);

    await expect.poll(() => last(guest)?.actions.map((a) => a.action), { timeout: 10_000 }).toEqual(['guest/secret']);
    await expect.poll(() => last(stranger)?.cluster?.agents[0]?.containers.idle, { timeout: 10_000 }).toBe(1);
    for (const s of stranger.snapshots) {
      expect(s.namespace).toBe('other');
      expect(s.actions).toEqual([]);
      expect(s.inFlight).toEqual([]);
      expect(s.recent).toEqual([]);
    }
  });

  it('refuses a viewer with wrong credentials with 401 before the upgrade', async () => {
    platform = await startPlatform();
    const viewer = watch(platform, basic(platform.identity.uuid, 'wrong'));
    expect(await viewer.refused).toBe(401);
    const anonymous = watch(platform, '');
    expect(await anonymous.refused).toBe(401);
  });

  it('closes viewers over the bound with 1013 and a reason', async () => {
    platform = await startPlatform();
    const viewers = Array.from({ length: 32 }, () => watch(platform!, platform!.auth));
    await Promise.all(viewers.map((v) => v.opened));
    const extra = watch(platform, platform.auth);
    expect(await extra.closed).toEqual({ code: 1013, reason: 'too many viewers (limit 32); try again later' });
  });

  it('answers GET /api/v1/status with one valid snapshot, and 401 without credentials', async () => {
    platform = await startPlatform();
    const reply = await api(platform, 'GET', '/status');
    expect(reply.status).toBe(200);
    const snapshot = watchSnapshotSchema.parse(reply.body);
    expect(snapshot).toMatchObject({ namespace: 'guest', schedulerConnected: true, actions: [], inFlight: [], recent: [] });
    expect(snapshot.cluster?.agents.map((a) => [a.agentId, a.connected, a.backend])).toEqual([[platform.agent.agentId, true, 'process']]);

    const anonymous = await fetch(`${platform.controller.url}/api/v1/status`);
    expect(anonymous.status).toBe(401);

    const client = createClient({ apihost: platform.controller.url, auth: `${platform.identity.uuid}:${platform.identity.key}` });
    await expect(client.watch.status()).resolves.toMatchObject({ namespace: 'guest', schedulerConnected: true });
    const target = client.watch.url();
    expect(target).toEqual({ url: `${platform.controller.url.replace(/^http/, 'ws')}/api/v1/watch`, headers: { authorization: platform.auth } });
  });
});
