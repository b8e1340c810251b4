/** The node:http edge: JSON replies, error bodies and bounded body reading. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BriskError, CapacityUnavailableError, InvalidInputError, PayloadTooLargeError } from '../../errors.js';

/** What a handler returns; the server writes it. `body` is JSON-serialisable. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const BASE_HEADERS = {
  'content-type': 'application/json',
  'access-control-allow-origin': '*',
} as const;

export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, DELETE, POST, PUT, HEAD, OPTIONS',
  'access-control-allow-headers': 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent',
} as const;

export function sendJson(res: ServerResponse, reply: Reply): void {
  const payload = JSON.stringify(reply.body) ?? 'null';
  res.writeHead(reply.status, {
    ...BASE_HEADERS,
    'content-length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}

export const INTERNAL_ERROR_MESSAGE = 'The server encountered an internal error.';

/** `{error, code}` for any thrown value; BriskErrors map by their `status`, anything else is a 500. */
export function errorReply(error: unknown, requestId: string): Reply {
  if (error instanceof BriskError) {
    const headers: Record<string, string> = {};
    if (error.status === 401) headers['www-authenticate'] = 'Basic realm="OpenWhisk secure realm"';
    if (error instanceof PayloadTooLargeError) headers.connection = 'close';
    if (error instanceof CapacityUnavailableError && error.activationId !== undefined) {
      // The activation was accepted and has a (whisk internal error) record: say which one.
      headers['x-openwhisk-activation-id'] = error.activationId;
      return { status: error.status, body: { error: error.message, code: requestId, activationId: error.activationId }, headers };
    }
    return { status: error.status, body: { error: error.message, code: requestId }, headers };
  }
  return { status: 500, body: { error: INTERNAL_ERROR_MESSAGE, code: requestId } };
}

/** "Request larger than allowed: N > M bytes." */
export function requestTooLarge(size: number, max: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`Request larger than allowed: ${size} > ${max} bytes.`);
}

/**
 * Reads the request body up to `maxBytes`. A Content-Length over the limit is refused before
 * reading; a stream that grows past it stops being buffered at once (the rest is discarded) and
 * rejects with PayloadTooLargeError (413).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(requestTooLarge(declared, maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        chunks.length = 0;
        req.resume();
        reject(requestTooLarge(size, maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** Parses a JSON body; an empty body is `undefined`. Malformed JSON → 400 with the parser's reason. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const text = body.toString('utf8');
  if (text.trim().length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidInputError(`The request content was malformed: ${(error as Error).message}`);
  }
}

/** A JSON object body (absent → `{}`); arrays, strings, numbers and null → 400. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  const value = parseJson(body);
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError('The request content was malformed: expected a JSON object.');
  }
  return value as Record<string, unknown>;
}
