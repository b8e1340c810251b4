import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ThrottledError } from '../../../src/errors.js';
import { startFixture, type Fixture } from './harness.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function setup(options: Parameters<typeof startFixture>[0] = {}): Promise<Fixture> {
  fx = await startFixture(options);
  return fx;
}

interface Res { status: number; headers: Headers; body: unknown }

async function call(method: string, path: string, opts: { body?: string | object; auth?: string | null } = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  const auth = opts.auth === undefined ? fx?.authHeader : opts.auth;
  if (auth) headers.authorization = auth;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${fx?.server.url}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text.length > 0 ? JSON.parse(text) : undefined };
}

const CODE = 'function main(p) { return p }';
const ACTIONS = '/api/v1/namespaces/_/actions';
const createHello = (extra: object = {}) => call('PUT', `${ACTIONS}/hello`, { body: { exec: { kind: 'nodejs:default', code: CODE }, ...extra } });

function expectError(res: Res, status: number, error: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(res.body).toEqual({ error, code: expect.stringMatching(/^[0-9a-f]{8}[0-9a-z]{6,}$/) });
}

describe('REST status codes', () => {
  it('serves the info object without auth and answers OPTIONS with CORS headers', async () => {
    await setup();
    const info = await call('GET', '/api/v1', { auth: null });
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ api_version_path: 'v1' });
    const options = await fetch(`${fx?.server.url}/api/v1/namespaces/_/actions/x`, { method: 'OPTIONS' });
    expect(options.status).toBe(200);
    expect(options.headers.get('access-control-allow-origin')).toBe('*');
    expect(options.headers.get('access-control-allow-methods')).toContain('PUT');
  });

  it('401 without or with wrong credentials, with the Basic challenge', async () => {
    await setup();
    const missing = await call('GET', ACTIONS, { auth: null });
    expectError(missing, 401, 'The resource requires authentication, which was not supplied with the request');
    expect(missing.headers.get('www-authenticate')).toBe('Basic realm="OpenWhisk secure realm"');
    const wrongKey = `Basic ${Buffer.from(`${fx?.identity.uuid}:${'x'.repeat(64)}`).toString('base64')}`;
    expectError(await call('GET', ACTIONS, { auth: wrongKey }), 401, 'The supplied authentication is invalid');
    // a wrong key after a successful (cached) auth is still refused
    expect((await call('GET', ACTIONS)).status).toBe(200);
    expectError(await call('GET', ACTIONS, { auth: wrongKey }), 401, 'The supplied authentication is invalid');
  });

  it('403 for another namespace; the own namespace literal works', async () => {
    await setup();
    expectError(await call('GET', '/api/v1/namespaces/other/actions'), 403, 'The supplied authentication is not authorized to access this resource.');
    const own = await call('GET', '/api/v1/namespaces/guest/actions');
    expect(own).toMatchObject({ status: 200, body: [] });
  });

  it('404 for unknown routes, missing actions, activations and packaged actions', async () => {
    await setup();
    expectError(await call('GET', '/api/v1/nope'), 404, 'The requested resource does not exist.');
    expectError(await call('GET', '/elsewhere'), 404, 'The requested resource does not exist.');
    expectError(await call('GET', `${ACTIONS}/missing`), 404, 'The requested resource does not exist.');
    expectError(await call('DELETE', `${ACTIONS}/missing`), 404, 'The requested resource does not exist.');
    expectError(await call('POST', `${ACTIONS}/missing`, { body: {} }), 404, 'The requested resource does not exist.');
    expectError(await call('GET', `/api/v1/namespaces/_/activations/${'a'.repeat(32)}`), 404, 'The requested resource does not exist.');
    expectError(
      await call('PUT', `${ACTIONS}/pkg/hello`, { body: { exec: { kind: 'nodejs:20', code: CODE } } }),
      404,
      "The requested resource does not exist: packages are not supported, actions live in the default package (got 'pkg/hello').",
    );
  });

  it('405 for a method the route does not support', async () => {
    await setup();
    expectError(await call('DELETE', ACTIONS), 405, 'HTTP method not allowed, supported methods: GET.');
    expectError(await call('PATCH', `${ACTIONS}/hello`), 405, 'HTTP method not allowed, supported methods: GET, PUT, DELETE, POST.');
  });

  it('400 for bad entity input', async () => {
    await setup();
    expectError(await call('PUT', `${ACTIONS}/hello`, { body: {} }), 400, 'exec undefined');
    expectError(await call('PUT', `${ACTIONS}/bad$name`, { body: { exec: { kind: 'nodejs:20', code: CODE } } }), 400, 'The name of the entity contains illegal characters.');
    expectError(await createHello({ limits: { memory: 1024 } }), 400, 'memory size 1024 MB exceeds allowed threshold of 512 MB');
    expectError(await createHello({ limits: { timeout: 50 } }), 400, 'duration 50 milliseconds below allowed threshold of 100 milliseconds');
    expectError(await call('PUT', `${ACTIONS}/hello`, { body: '{"exec":' }), 400, expect.stringMatching(/^The request content was malformed: /) as unknown as string);
    expectError(
      await call('PUT', `${ACTIONS}/hello`, { body: { exec: { kind: 'java:8', code: CODE } } }),
      400,
      "The specified runtime 'java:8' is not supported by this platform. Valid values are: nodejs:20, nodejs:18, nodejs:22, nodejs:default, blackbox.",
    );
    expectError(await call('GET', `${ACTIONS}?limit=500`), 400, 'The value 500 is not in the range of 0 to 200 for actions.');
  });

  it('400 for bad invoke input: body, timeout, final parameters', async () => {
    await setup();
    await createHello({ parameters: [{ key: 'fixed', value: 1 }], annotations: [{ key: 'final', value: true }] });
    expectError(await call('POST', `${ACTIONS}/hello`, { body: '[1,2]' }), 400, 'The request content was malformed: expected a JSON object.');
    expectError(await call('POST', `${ACTIONS}/hello`, { body: '"text"' }), 400, 'The request content was malformed: expected a JSON object.');
    const malformed = await call('POST', `${ACTIONS}/hello`, { body: '{nope' });
    expect(malformed.status).toBe(400);
    expect((malformed.body as { error: string }).error).toMatch(/^The request content was malformed: /);
    expectError(await call('POST', `${ACTIONS}/hello?blocking=true&timeout=60001`, { body: {} }), 400, 'Timeout must be number of milliseconds up to 60000.');
    expectError(
      await call('POST', `${ACTIONS}/hello`, { body: { fixed: 2 } }),
      400,
      'Request defines parameters that are not allowed (e.g., reserved properties).',
    );
    expect(fx?.invoker.requests).toHaveLength(0);
  });

  it('400 for bad activation ids and list parameters', async () => {
    await setup();
    const base = '/api/v1/namespaces/_/activations';
    expectError(await call('GET', `${base}/abc`), 400, 'Activation id length is 3 but must be 32.');
    expectError(await call('GET', `${base}/${'z'.repeat(32)}`), 400, 'The activation id is not valid.');
    expectError(await call('GET', `${base}?count=true&docs=true`), 400, "The parameter 'docs' is not permitted with 'count'.");
    expectError(await call('GET', `${base}?since=yesterday`), 400, 'Parameter is not a valid value for epoch seconds: yesterday');
    expectError(await call('GET', `${base}?name=a/b/c`), 400, "The name filter 'a/b/c' must be 'action' or 'package/action'.");
  });

  it('409 on create without overwrite; overwrite=true updates', async () => {
    await setup();
    expect((await createHello()).status).toBe(200);
    expectError(await createHello(), 409, 'resource already exists');
    const updated = await call('PUT', `${ACTIONS}/hello?overwrite=true`, { body: { limits: { memory: 512 } } });
    expect(updated).toMatchObject({ status: 200, body: { version: '0.0.2', limits: { memory: 512 } } });
  });

  it('413 for an invoke body over 1 MB (declared or streamed) and for parameters over 1 MB', async () => {
    await setup();
    await createHello();
    const big = JSON.stringify({ x: 'y'.repeat(1024 * 1024) });
    const size = Buffer.byteLength(big);
    expectError(await call('POST', `${ACTIONS}/hello`, { body: big }), 413, `Request larger than allowed: ${size} > 1048576 bytes.`);

    // chunked: no Content-Length, so the server counts while reading and stops past the limit
    const streamed = await new Promise<{ status: number; body: { error: string } }>((resolve, reject) => {
      const req = httpRequest(`${fx?.server.url}${ACTIONS}/hello`, { method: 'POST', headers: { authorization: fx?.authHeader, 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { error: string } }));
      });
      req.on('error', reject);
      req.write(big.slice(0, 600_000));
      req.end(big.slice(600_000));
    });
    expect(streamed.status).toBe(413);
    expect(streamed.body.error).toMatch(/^Request larger than allowed: \d+ > 1048576 bytes\.$/);

    const params = [{ key: 'p', value: 'v'.repeat(1024 * 1024) }];
    const paramsSize = Buffer.byteLength(JSON.stringify(params));
    expectError(
      await call('PUT', `${ACTIONS}/other`, { body: { exec: { kind: 'nodejs:20', code: CODE }, parameters: params } }),
      413,
      `parameters larger than allowed: ${paramsSize} > 1048576 bytes.`,
    );
    expect(fx?.invoker.requests).toHaveLength(0);
  });

  it('429 over the per-minute rate', async () => {
    await setup({ limits: { invocationsPerMinute: 2 }, clock: () => 1_700_000_000_000 });
    await createHello();
    expect((await call('POST', `${ACTIONS}/hello`, { body: {} })).status).toBe(202);
    expect((await call('POST', `${ACTIONS}/hello`, { body: {} })).status).toBe(202);
    expectError(await call('POST', `${ACTIONS}/hello`, { body: {} }), 429, 'Too many requests in the last minute (count: 3, allowed: 2).');
    const limits = await call('GET', '/api/v1/namespaces/_/limits');
    expect(limits.body).toMatchObject({ invocationsPerMinute: 2, concurrentInvocations: 1000, maxActionMemory: 512 });
  });

  it('429 over the concurrent limit until an activation completes', async () => {
    const f = await setup({ limits: { concurrentInvocations: 1 } });
    await createHello();
    f.invoker.behaviour = () => 'hold';
    const first = await call('POST', `${ACTIONS}/hello`, { body: {} });
    expect(first.status).toBe(202);
    expectError(await call('POST', `${ACTIONS}/hello`, { body: {} }), 429, 'Too many concurrent requests in flight (count: 1, allowed: 1).');
    f.invoker.held.get((first.body as { activationId: string }).activationId)?.finish({ statusCode: 0, result: {} });
    await vi.waitFor(async () => expect((await call('POST', `${ACTIONS}/hello`, { body: {} })).status).toBe(202));
  });

  it('429 when the invoker refuses synchronously', async () => {
    const f = await setup();
    await createHello();
    f.invoker.behaviour = () => new ThrottledError('overflowBuffer', 'Too many requests are waiting for a container of this action (overflow buffer full).');
    expectError(await call('POST', `${ACTIONS}/hello?blocking=true`, { body: {} }), 429, 'Too many requests are waiting for a container of this action (overflow buffer full).');
  });

  it('202 with the activation id for non-blocking invokes and when a blocking wait times out', async () => {
    const f = await setup({ maxBlockingWaitMs: 20 });
    await createHello();
    const nonBlocking = await call('POST', `${ACTIONS}/hello`, { body: { a: 1 } });
    expect(nonBlocking.status).toBe(202);
    const id = (nonBlocking.body as { activationId: string }).activationId;
    expect(nonBlocking.body).toEqual({ activationId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(nonBlocking.headers.get('x-openwhisk-activation-id')).toBe(id);

    f.invoker.behaviour = () => 'hold';
    const slow = await call('POST', `${ACTIONS}/hello?blocking=true`, { body: {} });
    expect(slow.status).toBe(202);
    const slowId = (slow.body as { activationId: string }).activationId;
    expect(slow.headers.get('x-openwhisk-activation-id')).toBe(slowId);
    expect((await call('GET', `/api/v1/namespaces/_/activations/${slowId}`)).status).toBe(404);
    f.invoker.held.get(slowId)?.finish({ statusCode: 0, result: { late: true } });
    await vi.waitFor(async () => {
      expect(await call('GET', `/api/v1/namespaces/_/activations/${slowId}/result`)).toMatchObject({ status: 200, body: { result: { late: true } } });
    });
  });

  it('200 / 502 / 500 bodies of blocking invokes by activation status, arrays as-is', async () => {
    const f = await setup();
    await createHello();
    const outcomes = [
      { statusCode: 0, result: { ok: true }, http: 200, status: 'success' },
      { statusCode: 1, result: { error: 'app' }, http: 502, status: 'application error' },
      { statusCode: 2, result: { error: 'The action exhausted its memory and was aborted.' }, http: 502, status: 'action developer error' },
      { statusCode: 3, result: { error: 'no container' }, http: 500, status: 'whisk internal error' },
    ] as const;
    for (const o of outcomes) {
      f.invoker.behaviour = () => ({ statusCode: o.statusCode, result: o.result });
      const res = await call('POST', `${ACTIONS}/hello?blocking=true`, { body: {} });
      expect(res.status).toBe(o.http);
      expect(res.headers.get('x-openwhisk-activation-id')).toBe((res.body as { activationId: string }).activationId);
      expect(res.body).toMatchObject({
        name: 'hello', logs: [],
        response: { status: o.status, statusCode: o.statusCode, success: o.statusCode === 0, result: o.result },
      });
      const onlyResult = await call('POST', `${ACTIONS}/hello?blocking=true&result=true`, { body: {} });
      expect(onlyResult).toMatchObject({ status: o.http, body: o.result });
    }
    f.invoker.behaviour = () => ({ statusCode: 0, result: [1, 2, 3] });
    expect(await call('POST', `${ACTIONS}/hello?blocking=true`, { body: {} })).toMatchObject({ status: 200, body: [1, 2, 3] });
  });

  it('503 with the limit and the activation id when no container could be had, and the record is kept', async () => {
    const f = await setup();
    await createHello();
    const message = 'No capacity to run this action (schedulerQueue): the scheduler queue is full (1000 requests)';
    f.invoker.behaviour = () => ({ statusCode: 3, result: { error: message }, unavailable: { limit: 'schedulerQueue', message } });
    const res = await call('POST', `${ACTIONS}/hello?blocking=true`, { body: {} });
    const activationId = res.headers.get('x-openwhisk-activation-id');
    expect(res).toMatchObject({ status: 503, body: { error: message, activationId, code: expect.any(String) } });
    expect(await call('GET', `/api/v1/namespaces/_/activations/${activationId}`)).toMatchObject({
      status: 200,
      body: { response: { status: 'whisk internal error', result: { error: message } } },
    });
    // Non-blocking: accepted (202); the record tells what happened.
    const later = await call('POST', `${ACTIONS}/hello`, { body: {} });
    expect(later.status).toBe(202);
  });

  it('close waits for an in-flight blocking response', async () => {
    const f = await setup();
    await createHello();
    f.invoker.behaviour = () => 'hold';
    const pending = call('POST', `${ACTIONS}/hello?blocking=true`, { body: {} });
    await vi.waitFor(() => expect(f.invoker.requests).toHaveLength(1));
    let closed = false;
    const closing = f.server.close().then(() => (closed = true));
    expect(closed).toBe(false);
    const request = f.invoker.requests[0];
    f.invoker.held.get(request?.activationId ?? '')?.finish({ statusCode: 0, result: { done: 1 } });
    expect(await pending).toMatchObject({ status: 200, body: { response: { result: { done: 1 } } } });
    await closing;
    expect(closed).toBe(true);
  });
});
