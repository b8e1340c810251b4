import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry, formatValue, metricsHttpHandler, METRICS_CONTENT_TYPE } from '../../../src/daemon/metrics.js';

const DROPPED_HEADER = '# HELP brisk_metrics_series_dropped_total Label sets not recorded because their metric reached its series bound.\n# TYPE brisk_metrics_series_dropped_total counter\n';

describe('metrics registry', () => {
  it('renders counters, gauges and histograms in the text format 0.0.4', () => {
    const registry = createRegistry();
    const requests = registry.counter({ name: 'app_requests_total', help: 'Requests.', labelNames: ['code', 'method'] });
    const temp = registry.gauge({ name: 'app_temperature', help: 'Temperature.' });
    const latency = registry.histogram({ name: 'app_latency_seconds', help: 'Latency.', labelNames: ['op'], buckets: [0.1, 1] });
    requests.inc({ code: 200, method: 'GET' });
    requests.inc({ code: 200, method: 'GET' }, 2);
    requests.inc({ code: '500', method: 'POST' });
    temp.set(21.5);
    temp.dec(0.5);
    latency.observe({ op: 'run' }, 0.05);
    latency.observe({ op: 'run' }, 0.1);
    latency.observe({ op: 'run' }, 3);
    expect(registry.render()).toBe(
      DROPPED_HEADER +
        '# HELP app_requests_total Requests.\n' +
        '# TYPE app_requests_total counter\n' +
        'app_requests_total{code="200",method="GET"} 3\n' +
        'app_requests_total{code="500",method="POST"} 1\n' +
        '# HELP app_temperature Temperature.\n' +
        '# TYPE app_temperature gauge\n' +
        'app_temperature 21\n' +
        '# HELP app_latency_seconds Latency.\n' +
        '# TYPE app_latency_seconds histogram\n' +
        'app_latency_seconds_bucket{op="run",le="0.1"} 2\n' +
        'app_latency_seconds_bucket{op="run",le="1"} 2\n' +
        'app_latency_seconds_bucket{op="run",le="+Inf"} 3\n' +
        'app_latency_seconds_sum{op="run"} 3.15\n' +
        'app_latency_seconds_count{op="run"} 3\n',
    );
  });

  it('writes an unlabelled histogram with only le, and escapes label values and help', () => {
    const registry = createRegistry();
    registry.histogram({ name: 'h', help: 'line\none \\ back', buckets: [1] }).observe(2);
    registry.counter({ name: 'c_total', help: 'C.', labelNames: ['v'] }).inc({ v: 'a"b\\c\nd' });
    expect(registry.render()).toBe(
      DROPPED_HEADER +
        '# HELP h line\\none \\\\ back\n# TYPE h histogram\nh_bucket{le="1"} 0\nh_bucket{le="+Inf"} 1\nh_sum 2\nh_count 1\n' +
        '# HELP c_total C.\n# TYPE c_total counter\nc_total{v="a\\"b\\\\c\\nd"} 1\n',
    );
  });

  it('bounds the label sets per metric and counts what it dropped', () => {
    const registry = createRegistry();
    const c = registry.counter({ name: 'ids_total', help: 'Ids.', labelNames: ['id'], maxSeries: 2 });
    for (const id of ['a', 'b', 'c', 'd', 'a']) c.inc({ id });
    expect(c.get({ id: 'a' })).toBe(2);
    expect(c.get({ id: 'c' })).toBe(0);
    expect(registry.render()).toBe(
      DROPPED_HEADER +
        'brisk_metrics_series_dropped_total{metric="ids_total"} 2\n' +
        '# HELP ids_total Ids.\n# TYPE ids_total counter\nids_total{id="a"} 2\nids_total{id="b"} 1\n',
    );
  });

  it('runs collect callbacks at scrape time, replacing a gauge\'s series each time', () => {
    const registry = createRegistry();
    let states: Record<string, number> = { idle: 2, busy: 1 };
    registry.gauge({ name: 'pool', help: 'Pool.', labelNames: ['state'], collect: (g) => { for (const [state, n] of Object.entries(states)) g.set({ state }, n); } });
    let scrapes = 0;
    registry.onCollect(() => { scrapes += 1; });
    expect(registry.render()).toContain('pool{state="idle"} 2\npool{state="busy"} 1\n');
    states = { paused: 4 };
    const text = registry.render();
    expect(text).toContain('# TYPE pool gauge\npool{state="paused"} 4\n');
    expect(text).not.toContain('idle');
    expect(scrapes).toBe(2);
  });

  it('refuses invalid definitions and decreasing counters', () => {
    const registry = createRegistry();
    registry.counter({ name: 'x_total', help: 'X.' });
    expect(() => registry.counter({ name: 'x_total', help: 'again' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => registry.gauge({ name: '1bad', help: 'bad' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => registry.histogram({ name: 'h', help: 'h', labelNames: ['le'], buckets: [1] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => registry.histogram({ name: 'h2', help: 'h', buckets: [1, 1] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    const c = registry.counter({ name: 'y_total', help: 'Y.', labelNames: ['a'] });
    expect(() => c.inc({ a: 'v' }, -1)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => c.inc({} as { a: string })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('formats special values', () => {
    expect([formatValue(Number.POSITIVE_INFINITY), formatValue(Number.NEGATIVE_INFINITY), formatValue(Number.NaN), formatValue(0.25), formatValue(1e21)]).toEqual(['+Inf', '-Inf', 'NaN', '0.25', '1e+21']);
  });
});

describe('metricsHttpHandler', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function serve(token?: string): Promise<string> {
    const registry = createRegistry();
    registry.gauge({ name: 'up', help: 'Up.' }).set(1);
    const handler = metricsHttpHandler({ registry, token });
    server = createServer((req, res) => {
      if (!handler(req, res)) res.writeHead(404).end('other');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('serves GET /metrics, passes other paths on, refuses other methods', async () => {
    const base = await serve();
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(METRICS_CONTENT_TYPE);
    expect(await res.text()).toBe(`${DROPPED_HEADER}# HELP up Up.\n# TYPE up gauge\nup 1\n`);
    expect((await fetch(`${base}/other`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('requires the bearer token when one is set', async () => {
    const base = await serve('s3cret');
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer s3cret' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('\nup 1\n');
  });
});
