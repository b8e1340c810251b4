import openwhisk from 'openwhisk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFixture, type Fixture } from './harness.js';

let fx: Fixture;
let ow: openwhisk.Client;

beforeEach(async () => {
  // a clock that ticks on every read, so list order by `updated` is deterministic
  let now = 1_700_000_000_000;
  fx = await startFixture({ clock: () => (now += 1000) });
  ow = openwhisk({ apihost: fx.server.url, api_key: fx.apiKey });
});

afterEach(async () => {
  await fx.close();
});

const CODE = 'function main(params) { return { greeting: `hello ${params.name}` } }';

describe('the official openwhisk client against the API', () => {
  it('creates, merges updates, gets, lists and deletes actions', async () => {
    const created = await ow.actions.create({ name: 'hello', action: CODE, params: { name: 'world' }, annotations: { team: 'a' } });
    expect(created).toMatchObject({
      namespace: 'guest',
      name: 'hello',
      version: '0.0.1',
      publish: false,
      exec: { kind: 'nodejs:20', code: CODE, binary: false },
      parameters: [{ key: 'name', value: 'world' }],
      limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 },
      annotations: [{ key: 'team', value: 'a' }, { key: 'provide-api-key', value: false }, { key: 'exec', value: 'nodejs:20' }],
    });

    const merged = await ow.actions.update({ name: 'hello' } as openwhisk.ActionDesc & { name: string });
    expect(merged).toMatchObject({ version: '0.0.2', exec: { code: CODE }, parameters: [{ key: 'name', value: 'world' }] });

    const limited = await ow.actions.update({ name: 'hello', limits: { memory: 128 } } as never);
    expect(limited).toMatchObject({ version: '0.0.3', limits: { timeout: 60000, memory: 128, logs: 10, concurrency: 1 } });

    const got = await ow.actions.get({ name: 'hello' });
    expect(got).toEqual(limited);
    const noCode = await ow.actions.get({ name: 'hello', code: false } as never);
    expect(noCode.exec).toEqual({ kind: 'nodejs:20', binary: false });

    await ow.actions.create({ name: 'zipped', action: Buffer.from('PK\u0003\u0004 zip bytes') });
    expect((await ow.actions.get({ name: 'zipped' })).exec).toMatchObject({ binary: true });

    const list = await ow.actions.list();
    expect(list.map((a) => a.name)).toEqual(['zipped', 'hello']);
    expect(list[1]).toEqual({
      namespace: 'guest', name: 'hello', version: '0.0.3', publish: false, annotations: limited.annotations,
      limits: limited.limits, exec: { binary: false }, updated: (limited as unknown as { updated: number }).updated,
    });
    expect(await ow.actions.list({ count: true } as never)).toEqual({ actions: 2 });
    expect((await ow.actions.list({ limit: 1, skip: 1 })).map((a) => a.name)).toEqual(['hello']);

    const deleted = await ow.actions.delete({ name: 'hello' });
    expect(deleted).toMatchObject({ name: 'hello', version: '0.0.3' });
    await expect(ow.actions.get({ name: 'hello' })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('refuses create over an existing action with 409', async () => {
    await ow.actions.create({ name: 'hello', action: CODE });
    await expect(ow.actions.create({ name: 'hello', action: CODE })).rejects.toMatchObject({
      statusCode: 409,
      error: { error: 'resource already exists' },
    });
  });

  it('invokes blocking (record and result), non-blocking, and reads activations back', async () => {
    await ow.actions.create({ name: 'hello', action: CODE, params: { name: 'world', keep: 1 } });

    const result = await ow.actions.invoke({ name: 'hello', blocking: true, result: true, params: { name: 'you' } });
    expect(result).toEqual({ name: 'you', keep: 1 });

    const activation = await ow.actions.invoke({ name: 'hello', blocking: true });
    expect(activation).toMatchObject({
      namespace: 'guest', name: 'hello', subject: 'guest', version: '0.0.1',
      response: { status: 'success', statusCode: 0, success: true, result: { name: 'world', keep: 1 } },
      logs: [],
    });
    const id = (activation as { activationId: string }).activationId;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(fx.invoker.requests.at(-1)).toMatchObject({ activationId: id, subject: 'guest', apiKey: fx.apiKey, params: { name: 'world', keep: 1 } });

    const accepted = await ow.actions.invoke({ name: 'hello' });
    expect(Object.keys(accepted)).toEqual(['activationId']);

    const got = await ow.activations.get({ name: id });
    expect(got).toMatchObject({ activationId: id, logs: ['log line'], response: { success: true, status: 'success' } });
    expect(await ow.activations.logs({ name: id })).toEqual({ logs: ['log line'] });
    expect(await ow.activations.result({ name: id })).toEqual({ status: 'success', success: true, result: { name: 'world', keep: 1 } });

    const listed = await ow.activations.list();
    expect(listed).toHaveLength(3);
    expect(listed.map((a) => a.activationId)).toContain(id);
    expect(listed[0]).not.toHaveProperty('logs');
    expect(await ow.activations.list({ name: 'hello', count: true } as never)).toEqual({ activations: 3 });
    const docs = await ow.activations.list({ docs: true, limit: 1 } as never);
    expect(docs).toHaveLength(1);
    expect(docs[0]).toHaveProperty('response.status', 'success');
  });

  it('rejects a blocking invoke that ended in an application error with the 502 body', async () => {
    fx.invoker.behaviour = () => ({ statusCode: 1, result: { error: 'boom' } });
    await ow.actions.create({ name: 'fails', action: CODE });
    await expect(ow.actions.invoke({ name: 'fails', blocking: true })).rejects.toMatchObject({
      statusCode: 502,
      error: { response: { status: 'application error', success: false, result: { error: 'boom' } } },
    });
  });

  it('lists namespaces and gets the namespace contents', async () => {
    await ow.actions.create({ name: 'hello', action: CODE });
    expect(await ow.namespaces.list()).toEqual(['guest']);
    const ns = await ow.namespaces.get({} as never);
    expect(ns).toMatchObject({ packages: [], triggers: [], rules: [] });
    expect((ns as unknown as { actions: { name: string }[] }).actions.map((a) => a.name)).toEqual(['hello']);
  });

  it('stores the record with logs after the response record', async () => {
    fx.invoker.logsAtOnce = false;
    await ow.actions.create({ name: 'hello', action: CODE });
    const activation = (await ow.actions.invoke({ name: 'hello', blocking: true })) as { activationId: string };
    expect((await ow.activations.get({ name: activation.activationId })).logs).toEqual([]);
    fx.invoker.held.get(activation.activationId)?.finishLogs();
    await vi.waitFor(async () => expect((await ow.activations.get({ name: activation.activationId })).logs).toEqual(['log line']));
  });
});
