import { describe, expect, it } from 'vitest';
import { Authenticator, parseBasicAuth } from '../../../src/controller/api/auth.js';
import { mergeParams } from '../../../src/controller/api/invoke.js';
import { LruCache } from '../../../src/controller/api/lru.js';
import { boolParam, epochParam, pageParams, parseQuery, timeoutParam } from '../../../src/controller/api/query.js';
import { matchRoute } from '../../../src/controller/api/router.js';
import { NamespaceThrottle } from '../../../src/controller/api/throttle.js';
import { activationSummary, activationView, blockingStatus } from '../../../src/controller/api/views.js';
import type { ActionDoc } from '../../../src/model/action.js';
import type { ActivationRecord } from '../../../src/model/activation.js';
import { DEFAULT_LIMITS } from '../../../src/model/limits.js';
import type { EntityStore, Identity } from '../../../src/store/types.js';

describe('query', () => {
  it('parses, decodes and keeps the first occurrence', () => {
    expect([...parseQuery('a=1&b=x%20y&a=2&c&d=e+f')]).toEqual([['a', '1'], ['b', 'x y'], ['c', ''], ['d', 'e f']]);
  });
  it('reads booleans and rejects others', () => {
    const q = parseQuery('t=true&f=FALSE&bad=maybe');
    expect(boolParam(q, 't', false)).toBe(true);
    expect(boolParam(q, 'f', true)).toBe(false);
    expect(boolParam(q, 'none', true)).toBe(true);
    expect(() => boolParam(q, 'bad', false)).toThrow(expect.objectContaining({ status: 400, message: "The query parameter 'bad' was malformed: 'maybe' is not a valid Boolean value" }));
  });
  it('pages with defaults, 0 meaning 200, and 400 outside the range', () => {
    expect(pageParams(parseQuery(''), 'actions')).toEqual({ limit: 30, skip: 0 });
    expect(pageParams(parseQuery('limit=0&skip=5'), 'actions')).toEqual({ limit: 200, skip: 5 });
    expect(() => pageParams(parseQuery('limit=201'), 'actions')).toThrow(expect.objectContaining({ message: 'The value 201 is not in the range of 0 to 200 for actions.' }));
    expect(() => pageParams(parseQuery('skip=-1'), 'actions')).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => pageParams(parseQuery('limit=x'), 'actions')).toThrow(expect.objectContaining({ status: 400 }));
  });
  it('reads epochs and timeouts', () => {
    expect(epochParam(parseQuery('since=123'), 'since')).toBe(123);
    expect(() => epochParam(parseQuery('since=1.5'), 'since')).toThrow(expect.objectContaining({ message: 'Parameter is not a valid value for epoch seconds: 1.5' }));
    expect(timeoutParam(parseQuery(''))).toBe(60000);
    expect(timeoutParam(parseQuery('timeout=5'))).toBe(5);
    for (const bad of ['0', '60001', 'x']) {
      expect(() => timeoutParam(parseQuery(`timeout=${bad}`))).toThrow(expect.objectContaining({ message: 'Timeout must be number of milliseconds up to 60000.' }));
    }
  });
});

describe('router', () => {
  it.each([
    ['/api/v1', { kind: 'info' }],
    ['/api/v1/', { kind: 'info' }],
    ['/api/v1/namespaces', { kind: 'namespaces' }],
    ['/api/v1/namespaces/_/actions', { kind: 'actions', ns: '_' }],
    ['/api/v1/namespaces/_/actions/', { kind: 'actions', ns: '_' }],
    ['/api/v1/namespaces/guest/actions/my%20act', { kind: 'action', ns: 'guest', name: 'my act', pkg: undefined }],
    ['/api/v1/namespaces/_/actions/pkg/a', { kind: 'action', ns: '_', name: 'a', pkg: 'pkg' }],
    ['/api/v1/namespaces/_/activations', { kind: 'activations', ns: '_' }],
    ['/api/v1/namespaces/_/activations/abc', { kind: 'activation', ns: '_', id: 'abc', part: 'record' }],
    ['/api/v1/namespaces/_/activations/abc/logs', { kind: 'activation', ns: '_', id: 'abc', part: 'logs' }],
    ['/api/v1/namespaces/_/limits', { kind: 'limits', ns: '_' }],
    ['/api/v1/namespaces/_/rules', { kind: 'emptyCollection', ns: '_' }],
  ])('%s', (path, route) => {
    expect(matchRoute(path)?.route).toEqual(route);
  });
  it.each(['/', '/api/v2', '/api/v1x', '/api/v1/nope', '/api/v1/namespaces/_', '/api/v1/namespaces/_/things', '/api/v1/namespaces/_/actions/a/b/c', '/api/v1/namespaces/_/activations/a/other'])(
    '%s is not a route',
    (path) => expect(matchRoute(path)).toBeUndefined(),
  );
  it('lists methods per route', () => {
    expect(matchRoute('/api/v1/namespaces/_/actions/a')?.methods).toEqual(['GET', 'PUT', 'DELETE', 'POST']);
    expect(matchRoute('/api/v1/namespaces/_/actions')?.methods).toEqual(['GET']);
  });
});

describe('NamespaceThrottle', () => {
  it('limits per minute window with the count including the rejected request, and resets next minute', () => {
    let now = 60_000 * 10;
    const throttle = new NamespaceThrottle({ invocationsPerMinute: 2, concurrentInvocations: 100 }, () => now);
    expect(throttle.check('a')).toBeUndefined();
    expect(throttle.check('a')).toBeUndefined();
    expect(throttle.check('a')).toMatchObject({ code: 'THROTTLED', limit: 'invocationsPerMinute', message: 'Too many requests in the last minute (count: 3, allowed: 2).' });
    expect(throttle.check('b')).toBeUndefined();
    now += 60_000;
    expect(throttle.check('a')).toBeUndefined();
  });
  it('limits activations in flight', () => {
    const throttle = new NamespaceThrottle({ invocationsPerMinute: 100, concurrentInvocations: 1 }, () => 0);
    throttle.started('a');
    expect(throttle.check('a')).toMatchObject({ limit: 'concurrentInvocations', message: 'Too many concurrent requests in flight (count: 1, allowed: 1).' });
    throttle.finished('a');
    expect(throttle.inFlight('a')).toBe(0);
    expect(throttle.check('a')).toBeUndefined();
  });
});

describe('LruCache', () => {
  it('evicts the least recently used', () => {
    const lru = new LruCache<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.size).toBe(2);
  });

  it('evicts the least recently used while the total weight is over its bound, keeping the newest', () => {
    const lru = new LruCache<string, string>(100, { max: 10, of: (v) => v.length });
    lru.set('a', 'xxxx');
    lru.set('b', 'xxxx');
    expect(lru.weight).toBe(8);
    lru.set('c', 'xxxx');
    expect(lru.get('a')).toBeUndefined();
    expect(lru.weight).toBe(8);
    lru.set('b', 'x'); // replacing counts the new weight only
    expect(lru.weight).toBe(5);
    lru.set('huge', 'x'.repeat(50));
    expect([lru.get('b'), lru.get('c'), lru.get('huge')?.length]).toEqual([undefined, undefined, 50]);
    expect(lru.weight).toBe(50);
    lru.delete('huge');
    expect([lru.size, lru.weight]).toEqual([0, 0]);
  });
});

describe('auth', () => {
  const identity: Identity = { namespace: 'guest', uuid: 'u-1', key: 'k'.repeat(64) };
  const header = (creds: string) => `Basic ${Buffer.from(creds).toString('base64')}`;
  it('parses Basic credentials', () => {
    expect(parseBasicAuth(header('u:k:x'))).toEqual({ uuid: 'u', key: 'k:x' });
    expect(parseBasicAuth('Bearer x')).toBeUndefined();
    expect(parseBasicAuth(undefined)).toBeUndefined();
  });
  it('hits the store once, then the cache, and still checks the key', () => {
    let lookups = 0;
    const entities = { findIdentity: (uuid: string, key: string) => (lookups++, uuid === identity.uuid && key === identity.key ? identity : undefined) } as unknown as EntityStore;
    const auth = new Authenticator(entities);
    expect(auth.authenticate(header(`u-1:${identity.key}`))).toEqual(identity);
    expect(auth.authenticate(header(`u-1:${identity.key}`))).toEqual(identity);
    expect(lookups).toBe(1);
    expect(() => auth.authenticate(header('u-1:wrong'))).toThrow(expect.objectContaining({ status: 401, message: 'The supplied authentication is invalid' }));
    expect(() => auth.authenticate(undefined)).toThrow(expect.objectContaining({ status: 401, message: 'The resource requires authentication, which was not supplied with the request' }));
  });
});

describe('mergeParams', () => {
  const action = (annotations: ActionDoc['annotations']): ActionDoc => ({
    namespace: 'guest', name: 'a', version: '0.0.1', publish: false, exec: { kind: 'nodejs:20', code: '', binary: false },
    parameters: [{ key: 'x', value: 1 }, { key: 'y', value: 2 }], limits: DEFAULT_LIMITS, annotations, updated: 1,
  });
  it('puts the payload over the defaults', () => {
    expect(mergeParams(action([]), { y: 3, z: 4 })).toEqual({ x: 1, y: 3, z: 4 });
  });
  it('refuses to override a defined parameter of a final action', () => {
    expect(mergeParams(action([{ key: 'final', value: true }]), { z: 4 })).toEqual({ x: 1, y: 2, z: 4 });
    expect(() => mergeParams(action([{ key: 'final', value: true }]), { y: 3 })).toThrow(
      expect.objectContaining({ status: 400, message: 'Request defines parameters that are not allowed (e.g., reserved properties).' }),
    );
  });
});

describe('activation views', () => {
  const record: ActivationRecord = {
    namespace: 'guest', name: 'a', subject: 'guest', activationId: 'f'.repeat(32), version: '0.0.1', publish: false,
    start: 10, end: 15, duration: 5, response: { statusCode: 1, result: { error: 'x' }, size: 13 }, logs: ['l'], annotations: [],
  };
  it('adds status text and success to the response', () => {
    expect(activationView(record)).toEqual({
      ...record,
      response: { status: 'application error', statusCode: 1, success: false, result: { error: 'x' }, size: 13 },
    });
  });
  it('omits end and duration while not finished', () => {
    const view = activationView({ ...record, end: 0, duration: 0 });
    expect(view).not.toHaveProperty('end');
    expect(view).not.toHaveProperty('duration');
  });
  it('summarises without logs or response', () => {
    expect(activationSummary(record)).toEqual({
      namespace: 'guest', name: 'a', version: '0.0.1', publish: false, annotations: [], activationId: 'f'.repeat(32), start: 10, end: 15, duration: 5, statusCode: 1,
    });
  });
  it('maps status codes to HTTP', () => {
    expect([0, 1, 2, 3].map((c) => blockingStatus(c as 0 | 1 | 2 | 3))).toEqual([200, 502, 502, 500]);
  });
});
