import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { errorEnvelope } from '../../../src/cli/envelope.js';
import { checkAuth, createClient, normalizeApihost, splitEntityName } from '../../../src/client/client.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A real HTTP server on port 0 that records requests and answers with `reply`. */
async function fakeApi(reply: (seen: Seen) => { status: number; body?: unknown; raw?: string }): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const record: Seen = { method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, contentType: req.headers['content-type'], body };
      seen.push(record);
      const answer = reply(record);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.raw ?? (answer.body === undefined ? '' : JSON.stringify(answer.body)));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

const action = {
  namespace: 'guest',
  name: 'hello',
  version: '0.0.1',
  publish: false,
  exec: { kind: 'nodejs:20', code: 'function main(){}', binary: false },
  parameters: [],
  limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 },
  annotations: [{ key: 'exec', value: 'nodejs:20' }],
  updated: 1700000000000,
};

function record(success: boolean) {
  return {
    namespace: 'guest',
    name: 'hello',
    subject: 'guest',
    activationId: 'a'.repeat(32),
    version: '0.0.1',
    publish: false,
    start: 1,
    end: 2,
    duration: 1,
    response: success ? { status: 'success', success: true, result: { ok: 1 } } : { status: 'application error', success: false, result: { error: 'boom' } },
    logs: [],
    annotations: [],
  };
}

describe('createClient', () => {
  it('PUTs an action with basic auth, overwrite and a JSON body', async () => {
    const api = await fakeApi(() => ({ status: 200, body: action }));
    const client = createClient({ apihost: api.url, auth: 'uuid:secret' });
    const doc = await client.actions.put('hello', { exec: { kind: 'nodejs:default', code: 'x' } }, { overwrite: true });
    expect(doc.name).toBe('hello');
    expect(api.seen).toEqual([
      {
        method: 'PUT',
        url: '/api/v1/namespaces/_/actions/hello?overwrite=true',
        authorization: `Basic ${Buffer.from('uuid:secret').toString('base64')}`,
        contentType: 'application/json',
        body: JSON.stringify({ exec: { kind: 'nodejs:default', code: 'x' } }),
      },
    ]);
  });

  it('uses the namespace of a fully qualified name and encodes segments', async () => {
    const api = await fakeApi(() => ({ status: 200, body: action }));
    const client = createClient({ apihost: api.url, auth: 'u:k' });
    await client.actions.get('/other/pkg/my action', { code: false });
    expect(api.seen[0]!.url).toBe('/api/v1/namespaces/other/actions/pkg/my%20action?code=false');
  });

  it('maps error statuses to catalogue codes with the server message and transaction id', async () => {
    const api = await fakeApi(() => ({ status: 404, body: { error: 'The requested resource does not exist.', code: 'tid-1' } }));
    const client = createClient({ apihost: api.url, auth: 'u:k' });
    await expect(client.actions.get('missing')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
      message: 'The requested resource does not exist.',
      transactionId: 'tid-1',
    });
  });

  it.each([
    [400, 'INVALID_INPUT'],
    [401, 'UNAUTHENTICATED'],
    [403, 'FORBIDDEN'],
    [409, 'CONFLICT'],
    [413, 'PAYLOAD_TOO_LARGE'],
    [429, 'THROTTLED'],
    [503, 'CAPACITY_UNAVAILABLE'],
    [502, 'API_ERROR'],
  ])('HTTP %d → %s', async (status, code) => {
    const api = await fakeApi(() => ({ status, body: { error: 'nope', code: 't' } }));
    await expect(createClient({ apihost: api.url, auth: 'u:k' }).actions.list()).rejects.toMatchObject({ code, status });
  });

  it('keeps a non-JSON error body as the message', async () => {
    const api = await fakeApi(() => ({ status: 500, raw: 'upstream exploded' }));
    await expect(createClient({ apihost: api.url, auth: 'u:k' }).activations.list()).rejects.toMatchObject({ code: 'API_ERROR', message: 'upstream exploded' });
  });

  it('a connection refused is API_UNREACHABLE', async () => {
    const api = await fakeApi(() => ({ status: 200, body: [] }));
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    await expect(createClient({ apihost: api.url, auth: 'u:k' }).actions.list()).rejects.toMatchObject({ code: 'API_UNREACHABLE', apihost: api.url });
  });

  it('a 2xx body of the wrong shape is a protocol error', async () => {
    const api = await fakeApi(() => ({ status: 200, body: { not: 'a list' } }));
    await expect(createClient({ apihost: api.url, auth: 'u:k' }).actions.list()).rejects.toMatchObject({ code: 'PROTOCOL_INVALID_MESSAGE' });
  });

  it('invoke: 202 is accepted, 200 and 502 with a record are completed', async () => {
    const answers = [
      { status: 202, body: { activationId: 'b'.repeat(32) } },
      { status: 200, body: record(true) },
      { status: 502, body: record(false) },
    ];
    const api = await fakeApi(() => answers.shift()!);
    const client = createClient({ apihost: api.url, auth: 'u:k' });
    expect(await client.actions.invoke('hello', { params: { name: 'Ada' } })).toEqual({ kind: 'accepted', activationId: 'b'.repeat(32) });
    const ok = await client.actions.invoke('hello', { blocking: true });
    expect(ok).toMatchObject({ kind: 'completed', activation: { response: { success: true, result: { ok: 1 } } } });
    const failed = await client.actions.invoke('hello', { blocking: true });
    expect(failed).toMatchObject({ kind: 'completed', activation: { response: { success: false, result: { error: 'boom' } } } });
    expect(api.seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/api/v1/namespaces/_/actions/hello?blocking=false', '{"name":"Ada"}'],
      ['POST', '/api/v1/namespaces/_/actions/hello?blocking=true', '{}'],
      ['POST', '/api/v1/namespaces/_/actions/hello?blocking=true', '{}'],
    ]);
  });

  it('invoke: a 503 error body is an error, not an activation', async () => {
    const api = await fakeApi(() => ({ status: 503, body: { error: 'no capacity', code: 't', activationId: 'a'.repeat(32) } }));
    const failure = createClient({ apihost: api.url, auth: 'u:k' }).actions.invoke('hello', { blocking: true });
    await expect(failure).rejects.toMatchObject({ code: 'CAPACITY_UNAVAILABLE', status: 503 });
    // the --json envelope names the activation whose record tells what happened
    expect(errorEnvelope(await failure.catch((e: unknown) => e)).data).toEqual({ httpStatus: 503, transactionId: 't', activationId: 'a'.repeat(32) });
  });

  it('activations: list query, get, logs and result', async () => {
    const api = await fakeApi((seen) => {
      if (seen.url.startsWith('/api/v1/namespaces/_/activations?')) return { status: 200, body: [{ namespace: 'guest', name: 'hello', activationId: 'a'.repeat(32), start: 5, statusCode: 0, annotations: [] }] };
      if (seen.url.endsWith('/logs')) return { status: 200, body: { logs: ['line'] } };
      if (seen.url.endsWith('/result')) return { status: 200, body: { result: { ok: 1 }, success: true, status: 'success' } };
      return { status: 200, body: record(true) };
    });
    const client = createClient({ apihost: api.url, auth: 'u:k' });
    const id = 'a'.repeat(32);
    expect(await client.activations.list({ name: 'hello', limit: 5, skip: 1, since: 10, upto: 20 })).toHaveLength(1);
    expect((await client.activations.get(id)).activationId).toBe(id);
    expect(await client.activations.logs(id)).toEqual(['line']);
    expect(await client.activations.result(id)).toEqual({ result: { ok: 1 }, success: true, status: 'success' });
    expect(api.seen[0]!.url).toBe('/api/v1/namespaces/_/activations?name=hello&limit=5&skip=1&since=10&upto=20');
  });

  it('activations: a fully qualified action name lists in its namespace', async () => {
    const api = await fakeApi(() => ({ status: 200, body: [] }));
    await createClient({ apihost: api.url, auth: 'u:k' }).activations.list({ name: '/guest/pkg/hello' });
    expect(api.seen[0]!.url).toBe('/api/v1/namespaces/guest/activations?name=pkg%2Fhello');
  });
});

describe('normalizeApihost, checkAuth, splitEntityName', () => {
  it('adds http:// for loopback, https:// otherwise, and drops trailing slashes', () => {
    expect(normalizeApihost('127.0.0.1:3233')).toBe('http://127.0.0.1:3233');
    expect(normalizeApihost('localhost:3233/')).toBe('http://localhost:3233');
    expect(normalizeApihost('openwhisk.example.com')).toBe('https://openwhisk.example.com');
    expect(normalizeApihost('http://10.0.0.1:3233')).toBe('http://10.0.0.1:3233');
    expect(() => normalizeApihost('ftp://x')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('wants UUID:KEY', () => {
    expect(checkAuth(' u:k ')).toBe('u:k');
    expect(() => checkAuth('nocolon')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => checkAuth(':k')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('splits /ns/name and /ns/pkg/name, keeps name and pkg/name', () => {
    expect(splitEntityName('hello')).toEqual({ namespace: undefined, name: 'hello' });
    expect(splitEntityName('pkg/hello')).toEqual({ namespace: undefined, name: 'pkg/hello' });
    expect(splitEntityName('/guest/hello')).toEqual({ namespace: 'guest', name: 'hello' });
    expect(splitEntityName('/guest/pkg/hello')).toEqual({ namespace: 'guest', name: 'pkg/hello' });
  });
});
