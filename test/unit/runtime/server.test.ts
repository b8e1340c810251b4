import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { trackRequests } from '../../../src/runtime/server.js';

let servers: http.Server[] = [];

afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  servers = [];
});

describe('trackRequests', () => {
  it('is idle at once without requests, and once the pending replies are out', async () => {
    const held: http.ServerResponse[] = [];
    const server = http.createServer((_req, res) => void held.push(res));
    servers.push(server);
    const tracker = trackRequests(server);
    await expect(tracker.idle()).resolves.toBeUndefined();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

    const replies = [fetch(url, { headers: { connection: 'close' } }), fetch(url, { headers: { connection: 'close' } })];
    await vi.waitFor(() => expect(held).toHaveLength(2));
    expect(tracker.active).toBe(2);
    let idle = false;
    const whenIdle = tracker.idle().then(() => (idle = true));
    held[0]?.end('one');
    expect((await replies[0])?.status).toBe(200);
    await vi.waitFor(() => expect(tracker.active).toBe(1));
    expect(idle).toBe(false);
    held[1]?.end('two');
    await whenIdle;
    expect(tracker.active).toBe(0);
    expect(await (await replies[1])?.text()).toBe('two');
  });
});
