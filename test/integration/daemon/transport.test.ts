import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { connectWs, startWsServer, type Connection, type WsClient, type WsServer } from '../../../src/daemon/transport.js';
import { CloseCode, type Message } from '../../../src/daemon/protocol.js';

const TOKEN = 'test-cluster-token';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

interface Recorder {
  server: WsServer;
  received: Array<{ peer: string; message: Message }>;
  closed: Array<{ peer: string; code: number }>;
  conns: Connection[];
}

async function recordingServer(overrides: { port?: number; heartbeatMs?: number; reply?: (conn: Connection, m: Message) => void } = {}): Promise<Recorder> {
  const received: Recorder['received'] = [];
  const closed: Recorder['closed'] = [];
  const conns: Connection[] = [];
  const server = await startWsServer({
    token: TOKEN,
    serverId: 'test-server',
    roles: ['agent', 'controller'],
    port: overrides.port ?? 0,
    heartbeatMs: overrides.heartbeatMs ?? 10_000,
    onConnection(conn) {
      conns.push(conn);
      return {
        onMessage(message) {
          received.push({ peer: conn.peerId, message });
          overrides.reply?.(conn, message);
        },
        onClose(code) {
          closed.push({ peer: conn.peerId, code });
        },
      };
    },
  });
  closers.push(() => server.close());
  return { server, received, closed, conns };
}

function client(url: string, extra: Partial<Parameters<typeof connectWs>[0]> = {}): WsClient & { messages: Message[] } {
  const messages: Message[] = [];
  const c = connectWs({ url, token: TOKEN, role: 'agent', id: 'agent-1', onMessage: (m) => messages.push(m), backoff: { initialMs: 20, maxMs: 200 }, ...extra });
  closers.push(() => c.close());
  return Object.assign(c, { messages });
}

describe('transport', () => {
  it('connects, says hello, and carries messages both ways', async () => {
    const rec = await recordingServer();
    const c = client(rec.server.url);
    await c.whenConnected();
    expect(c.send({ type: 'evict', containerId: 'c1' })).toBe(true);
    await vi.waitFor(() => expect(rec.received).toEqual([{ peer: 'agent-1', message: { type: 'evict', containerId: 'c1' } }]));
    expect(rec.server.connections().map((conn) => [conn.peerId, conn.role])).toEqual([['agent-1', 'agent']]);
    rec.conns[0]!.send({ type: 'container.destroy', containerId: 'c1', reason: 'test' });
    await vi.waitFor(() => expect(c.messages).toEqual([{ type: 'container.destroy', containerId: 'c1', reason: 'test' }]));
  });

  it('refuses a wrong token before the upgrade', async () => {
    const rec = await recordingServer();
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(rec.server.url, { headers: { authorization: 'Bearer wrong' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
    expect(rec.server.connections()).toEqual([]);
  });

  it('closes a peer that speaks another protocol version', async () => {
    const rec = await recordingServer();
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(rec.server.url, { headers: { authorization: `Bearer ${TOKEN}` } });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 99, role: 'agent', id: 'x' })));
      ws.on('close', (c) => resolve(c));
    });
    expect(code).toBe(CloseCode.versionMismatch);
  });

  it('closes a peer that sends an invalid message after the handshake', async () => {
    const rec = await recordingServer();
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(rec.server.url, { headers: { authorization: `Bearer ${TOKEN}` } });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, role: 'agent', id: 'x' })));
      ws.on('message', (data) => {
        if (JSON.parse(String(data)).type === 'welcome') ws.send(JSON.stringify({ type: 'container.create', containerId: '' }));
      });
      ws.on('close', (c) => resolve(c));
    });
    expect(code).toBe(CloseCode.invalidMessage);
    expect(rec.received).toEqual([]);
  });

  it('correlates replies to requests and keeps them out of onMessage', async () => {
    const rec = await recordingServer({
      reply: (conn, m) => {
        if (m.type === 'pause') conn.send({ type: 'result', requestId: m.requestId });
      },
    });
    const c = client(rec.server.url, { role: 'controller', id: 'ctl-1' });
    await c.whenConnected();
    const reply = await c.request({ type: 'pause', requestId: 'p1', containerId: 'c1' }, 5_000);
    expect(reply).toEqual({ type: 'result', requestId: 'p1' });
    expect(c.messages).toEqual([]);
  });

  it('rejects a request with PEER_UNAVAILABLE when no reply comes in time', async () => {
    const rec = await recordingServer();
    const c = client(rec.server.url, { role: 'controller', id: 'ctl-1' });
    await c.whenConnected();
    await expect(c.request({ type: 'pause', requestId: 'p1', containerId: 'c1' }, 50)).rejects.toMatchObject({ code: 'PEER_UNAVAILABLE' });
  });

  it('reconnects after the server restarts and runs onConnected again', async () => {
    const first = await recordingServer();
    const port = first.server.port;
    let handshakes = 0;
    const c = client(first.server.url, { onConnected: () => (handshakes += 1) });
    await c.whenConnected();
    expect(handshakes).toBe(1);
    await first.server.close();
    await vi.waitFor(() => expect(c.connected).toBe(false));
    const second = await recordingServer({ port });
    await vi.waitFor(() => expect(handshakes).toBe(2), { timeout: 10_000 });
    expect(second.server.connections().map((conn) => conn.peerId)).toEqual(['agent-1']);
  });

  it('replaces an older connection of the same peer', async () => {
    const rec = await recordingServer();
    const a = client(rec.server.url);
    await a.whenConnected();
    const b = client(rec.server.url);
    await b.whenConnected();
    await vi.waitFor(() => expect(rec.closed).toEqual([{ peer: 'agent-1', code: CloseCode.replaced }]));
    expect(rec.server.connections()).toHaveLength(1);
  });

  it('rejects whenConnected when nothing listens', async () => {
    const c = client('ws://127.0.0.1:1');
    await expect(c.whenConnected(200)).rejects.toMatchObject({ code: 'PEER_UNAVAILABLE' });
  });

  it('terminates a peer that stops answering pings', async () => {
    const rec = await recordingServer({ heartbeatMs: 50 });
    const ws = new WebSocket(rec.server.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    closers.push(async () => ws.terminate());
    ws.on('error', () => undefined);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, role: 'agent', id: 'silent' })));
    await new Promise<void>((resolve) => ws.once('message', () => resolve()));
    // Stop reading from the socket: pings are no longer answered, as with a hung peer.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await vi.waitFor(() => expect(rec.closed).toEqual([{ peer: 'silent', code: 1006 }]));
  });

  it('reports a refused cluster token to the client and names it when whenConnected gives up', async () => {
    const rec = await recordingServer();
    const refusals: Error[] = [];
    const c = client(rec.server.url, { token: 'not-the-token', onRefused: (e) => refusals.push(e) });
    await vi.waitFor(() => expect(refusals.length).toBeGreaterThan(0));
    expect(refusals[0]).toMatchObject({ code: 'CLUSTER_AUTH_FAILED' });
    await expect(c.whenConnected(100)).rejects.toMatchObject({ code: 'PEER_UNAVAILABLE', message: expect.stringMatching(/refused the cluster token/) });
  });

  it('refuses a server that welcomes with another protocol version', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    closers.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    wss.on('connection', (ws) => ws.once('message', () => ws.send(JSON.stringify({ type: 'welcome', protocol: 99, serverId: 'future' }))));
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const refusals: Error[] = [];
    const { port } = wss.address() as { port: number };
    const c = client(`ws://127.0.0.1:${port}`, { onRefused: (e) => refusals.push(e) });
    await vi.waitFor(() => expect(refusals.length).toBeGreaterThan(0));
    expect(refusals[0]).toMatchObject({ code: 'PROTOCOL_VERSION_MISMATCH', message: expect.stringMatching(/speaks protocol 99/) });
    expect(c.connected).toBe(false);
  });

  it('calls onDisconnected when the server goes, not after its own close()', async () => {
    const rec = await recordingServer();
    const losses: number[] = [];
    const own = client(rec.server.url, { id: 'own', onDisconnected: ({ code }) => losses.push(code) });
    await own.whenConnected();
    await own.close();
    const other = client(rec.server.url, { id: 'other', onDisconnected: ({ code }) => losses.push(code) });
    await other.whenConnected();
    await rec.server.close();
    await vi.waitFor(() => expect(losses).toEqual([CloseCode.goingAway]));
  });
});
