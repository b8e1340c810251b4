import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, decodeSnapshot, startWatch, watchUrl, type WatchClient, type WatchEvent } from '../../../src/tui/watch-client.js';
import { startFakeWatchServer, type FakeWatchServer } from './fake-watch-server.js';
import { snapshot } from './fixtures.js';

const AUTH = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret';

describe('pure parts', () => {
  it('derives the stream URL from the API host', () => {
    expect(watchUrl('http://127.0.0.1:3233')).toBe('ws://127.0.0.1:3233/api/v1/watch');
    expect(watchUrl('https://faas.example/base/?x=1')).toBe('wss://faas.example/base/api/v1/watch');
  });

  it('backs off exponentially up to a cap', () => {
    expect([0, 1, 2, 3, 4, 5, 100].map((a) => backoffDelay(a))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect([0, 1, 2].map((a) => backoffDelay(a, { initialMs: 10, maxMs: 15 }))).toEqual([10, 15, 15]);
  });

  it('decodes valid snapshots and explains invalid ones', () => {
    const snap = snapshot();
    expect(decodeSnapshot(JSON.stringify(snap))).toEqual({ ok: true, snapshot: snap });
    expect(decodeSnapshot('{nope')).toEqual({ ok: false, message: 'the watch stream sent a message that is not JSON (5 bytes)' });
    const bad = decodeSnapshot(JSON.stringify({ ...snap, actions: [{ action: 'x', warm: -1 }] }));
    expect(bad.ok).toBe(false);
    expect(bad.ok ? '' : bad.message).toMatch(/^the watch stream sent an invalid snapshot at actions\.0\.warm: /);
  });
});

describe('startWatch against a fake watch server', () => {
  let server: FakeWatchServer | undefined;
  let client: WatchClient | undefined;
  afterEach(async () => {
    client?.close();
    await server?.close();
    client = undefined;
    server = undefined;
  });

  it('connects with Basic auth, reports snapshots and invalid messages, reconnects after a loss', async () => {
    server = await startFakeWatchServer();
    const snap = snapshot();
    server.greeting = snap;
    const events: WatchEvent[] = [];
    client = startWatch({ apihost: server.apihost, auth: AUTH, onEvent: (e) => events.push(e), backoff: { initialMs: 10, maxMs: 50 } });
    await vi.waitFor(() => expect(events).toEqual([{ type: 'connected' }, { type: 'snapshot', snapshot: snap }]));
    expect(server.authorizations).toEqual([`Basic ${Buffer.from(AUTH).toString('base64')}`]);

    server.send('[]');
    await vi.waitFor(() => expect(events.at(-1)).toEqual({ type: 'invalid', message: 'the watch stream sent an invalid snapshot: Expected object, received array' }));

    server.down();
    await vi.waitFor(() => expect(events.filter((e) => e.type === 'disconnected').length).toBeGreaterThanOrEqual(2));
    expect(events[3]).toEqual({ type: 'disconnected', reason: 'connection lost' });
    expect(events.slice(4).every((e) => e.type === 'disconnected')).toBe(true);
    server.up();
    await vi.waitFor(() => expect(events.at(-1)).toEqual({ type: 'snapshot', snapshot: snap }));
    expect(events.at(-2)).toEqual({ type: 'connected' });

    client.close();
    await vi.waitFor(() => expect(server!.clients()).toBe(0));
  });

  it('names an HTTP refusal of the upgrade', async () => {
    server = await startFakeWatchServer({ status: 401 });
    const events: WatchEvent[] = [];
    client = startWatch({ apihost: server.apihost, auth: AUTH, onEvent: (e) => events.push(e), backoff: { initialMs: 1_000 } });
    await vi.waitFor(() => expect(events).toEqual([{ type: 'disconnected', reason: 'HTTP 401 unauthorized: check --auth' }]));
  });

  it('treats a silent connection as lost', async () => {
    server = await startFakeWatchServer();
    const events: WatchEvent[] = [];
    client = startWatch({ apihost: server.apihost, auth: AUTH, onEvent: (e) => events.push(e), staleAfterMs: 100, backoff: { initialMs: 60_000 } });
    await vi.waitFor(() => expect(events).toEqual([{ type: 'connected' }, { type: 'disconnected', reason: 'no data for 100 ms' }]));
  });

  it('reports a refused connection and sends nothing after close', async () => {
    server = await startFakeWatchServer();
    const apihost = server.apihost;
    await server.close();
    server = undefined;
    const events: WatchEvent[] = [];
    client = startWatch({ apihost, auth: AUTH, onEvent: (e) => events.push(e), backoff: { initialMs: 60_000 } });
    await vi.waitFor(() => expect(events).toEqual([{ type: 'disconnected', reason: 'connection refused' }]));
    client.close();
    client.close();
  });
});
