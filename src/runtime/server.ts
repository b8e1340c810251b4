/**
 * The runtime's HTTP edge: `POST /init` and `POST /run` with JSON bodies up to 48 MB; anything else
 * is 500 `{"error":"Bad request."}` as OpenWhisk's nodejs runtime answers. Keep-alive connections
 * stay open long (the controller reuses them) and Nagle is off.
 */
import http from 'node:http';
import type { ActionRuntime, Reply } from './runtime.js';

/** Largest request body accepted (the code of an action is at most 48 MB). */
export const MAX_BODY_BYTES = 48 * 1024 * 1024;

export interface RuntimeServerOptions {
  runtime: ActionRuntime;
  /** default MAX_BODY_BYTES */
  maxBodyBytes?: number;
  /** idle keep-alive connections are closed after this long; default 10 minutes */
  keepAliveTimeoutMs?: number;
}

export function createRuntimeServer(options: RuntimeServerOptions): http.Server {
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const keepAlive = options.keepAliveTimeoutMs ?? 600_000;
  const server = http.createServer({ noDelay: true, keepAlive: true }, (req, res) => {
    void handle(req, res).catch((err: unknown) => {
      send(res, { status: 500, body: { error: `Internal runtime error: ${String(err)}` } });
    });
  });
  server.keepAliveTimeout = keepAlive;
  server.headersTimeout = keepAlive + 1000;
  server.requestTimeout = 0;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const route = req.method === 'POST' ? (req.url ?? '').split('?')[0] : undefined;
    if (route !== '/init' && route !== '/run') {
      req.resume();
      send(res, { status: 500, body: { error: 'Bad request.' } });
      return;
    }
    const body = await readJson(req, maxBody);
    if ('reply' in body) {
      send(res, body.reply, true);
      return;
    }
    send(res, route === '/init' ? options.runtime.init(body.value) : await options.runtime.run(body.value));
  }

  return server;
}

async function readJson(req: http.IncomingMessage, maxBody: number): Promise<{ value: unknown } | { reply: Reply }> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBody) {
    req.resume();
    return { reply: { status: 413, body: { error: `Request larger than allowed: ${declared} > ${maxBody} bytes.` } } };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBody) {
      req.resume();
      return { reply: { status: 413, body: { error: `Request larger than allowed: more than ${maxBody} bytes.` } } };
    }
    chunks.push(chunk);
  }
  if (size === 0) return { value: {} };
  try {
    return { value: JSON.parse(Buffer.concat(chunks, size).toString('utf8')) as unknown };
  } catch {
    return { reply: { status: 400, body: { error: 'The request body is not valid JSON.' } } };
  }
}

function send(res: http.ServerResponse, reply: Reply, close = false): void {
  if (res.headersSent) return;
  const payload = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    ...(close ? { Connection: 'close' } : {}),
  });
  res.end(payload);
}
