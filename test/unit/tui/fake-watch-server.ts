/**
 * A test double of the controller's watch endpoint: a real WebSocket server on port 0 that sends
 * the snapshots a test gives it. `down()` drops every viewer and refuses new ones (like a controller
 * that went away) until `up()`; the port stays the same, as a restarted controller's would.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { WatchSnapshot } from '../../../src/watch/snapshot.js';

export interface FakeWatchServer {
  apihost: string;
  /** Authorization headers of every accepted upgrade, in order */
  authorizations: string[];
  /** viewers connected now */
  clients(): number;
  /** sends to every viewer (a snapshot, or any raw text) */
  send(message: WatchSnapshot | string): void;
  /** the message sent to each new viewer on connect (default none) */
  greeting: WatchSnapshot | undefined;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startFakeWatchServer(options: { status?: number } = {}): Promise<FakeWatchServer> {
  const http: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  let isDown = false;
  const authorizations: string[] = [];
  http.on('upgrade', (req: IncomingMessage, socket, head) => {
    if (isDown) return socket.destroy();
    if (options.status !== undefined) {
      socket.end(`HTTP/1.1 ${options.status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    if (req.url !== '/api/v1/watch') return socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    authorizations.push(req.headers.authorization ?? '');
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (server.greeting !== undefined) ws.send(JSON.stringify(server.greeting));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  const server: FakeWatchServer = {
    apihost: `http://127.0.0.1:${port}`,
    authorizations,
    greeting: undefined,
    clients: () => wss.clients.size,
    send(message) {
      const text = typeof message === 'string' ? message : JSON.stringify(message);
      for (const client of wss.clients) client.send(text);
    },
    down() {
      isDown = true;
      for (const client of wss.clients) client.terminate();
    },
    up() {
      isDown = false;
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  return server;
}
