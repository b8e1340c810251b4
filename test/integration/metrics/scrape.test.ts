/**
 * Scrapes GET /metrics of a real controller, scheduler and agent (the platform harness: process
 * backend, real runtimes) after invokes, and checks exact values.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startScheduler } from '../../../src/scheduler/daemon.js';
import { silentLog } from '../../../src/daemon/log.js';
import { api, putAction, startPlatform, type Platform } from '../platform/harness.js';

/** The samples of one scrape, `name{labels}` → value. */
async function scrape(url: string, headers: Record<string, string> = {}): Promise<Map<string, number>> {
  const res = await fetch(url, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

const httpOf = (wsUrl: string) => `${wsUrl.replace(/^ws:/, 'http:')}/metrics`;

describe('GET /metrics of every daemon', () => {
  let platform: Platform | undefined;
  let closeExtra: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await platform?.close();
    platform = undefined;
    await closeExtra?.();
    closeExtra = undefined;
  });

  it('reports the invokes, the pool and the container operations exactly', async () => {
    platform = await startPlatform({ pauseGraceMs: 50 });
    const p = platform;
    await putAction(p, 'hello', "function main() { console.log('hi'); return { ok: true }; }");
    const first = await api(p, 'POST', '/namespaces/_/actions/hello?blocking=true&result=true', {});
    expect(first.status).toBe(200);
    // The idle container is paused after the grace; the next invoke resumes it.
    await expect.poll(async () => (await scrape(httpOf(p.agent.controlUrl))).get('brisk_agent_pause_resume_total{op="pause",result="ok"}'), { timeout: 10_000 }).toBe(1);
    const second = await api(p, 'POST', '/namespaces/_/actions/hello?blocking=true&result=true', {});
    expect(second.status).toBe(200);
    const missing = await api(p, 'POST', '/namespaces/_/actions/nope?blocking=true', {});
    expect(missing.status).toBe(404);

    const controller = await scrape(`${p.controller.url}/metrics`);
    expect(controller.get('brisk_controller_activations_total{outcome="success"}')).toBe(2);
    expect(controller.get('brisk_controller_activations_total{outcome="application_error"}')).toBe(0);
    expect(controller.get('brisk_controller_invoke_seconds_count{outcome="success"}')).toBe(2);
    expect(controller.get('brisk_controller_invoke_seconds_bucket{outcome="success",le="+Inf"}')).toBe(2);
    expect(controller.get('brisk_controller_activations_pending')).toBe(0);
    expect(controller.get('brisk_controller_containers')).toBe(1);
    expect(controller.get('brisk_controller_overflow_waiting')).toBe(0);
    expect(controller.get('brisk_controller_outstanding_acquires')).toBe(0);
    expect(controller.get('brisk_controller_throttled_total{limit="overflowBuffer"}')).toBe(0);
    expect(controller.get('brisk_metrics_series_dropped_total')).toBeUndefined();
    await expect.poll(async () => (await scrape(`${p.controller.url}/metrics`)).get('brisk_store_write_behind_buffered'), { timeout: 10_000 }).toBe(0);

    const scheduler = await scrape(httpOf(p.scheduler.url));
    expect(scheduler.get('brisk_scheduler_agents{state="connected"}')).toBe(1);
    expect(scheduler.get('brisk_scheduler_agents{state="lost"}')).toBe(0);
    expect(scheduler.get('brisk_scheduler_agent_memory_mb')).toBe(1024);
    expect(scheduler.get('brisk_scheduler_acquires_total{decision="create"}')).toBe(1);
    expect(scheduler.get('brisk_scheduler_acquires_total{decision="queue"}')).toBe(0);
    expect(scheduler.get('brisk_scheduler_queue_length')).toBe(0);
    expect(scheduler.get('brisk_scheduler_queue_capacity')).toBe(1000);
    expect(scheduler.get('brisk_scheduler_container_memory_mb')).toBe(256);
    const assigned = ['idle', 'busy', 'paused'].map((state) => scheduler.get(`brisk_scheduler_containers{state="${state}"}`) ?? -1);
    expect(assigned.reduce((a, b) => a + b, 0)).toBe(1);
    expect(scheduler.get('brisk_scheduler_containers{state="starting"}')).toBe(0);

    const agent = await scrape(httpOf(p.agent.controlUrl));
    expect(agent.get('brisk_agent_container_creates_total{result="ok"}')).toBe(1);
    expect(agent.get('brisk_agent_container_creates_total{result="failed"}')).toBe(0);
    expect(agent.get('brisk_agent_container_create_seconds_count')).toBe(1);
    expect(agent.get('brisk_agent_pause_resume_total{op="resume",result="ok"}')).toBe(1);
    expect(agent.get('brisk_agent_pause_resume_seconds_count{op="resume"}')).toBe(1);
    expect(agent.get('brisk_agent_memory_capacity_mb')).toBe(1024);
    expect(agent.get('brisk_agent_container_memory_mb')).toBe(256);
    expect((agent.get('brisk_agent_containers{state="running"}') ?? 0) + (agent.get('brisk_agent_containers{state="paused"}') ?? 0)).toBe(1);
    expect(agent.get('brisk_agent_log_bytes_total{stream="stdout"}')).toBeGreaterThan(0);
  });

  it('requires the metrics token when one is set, on the same port as the WebSocket server', async () => {
    const scheduler = await startScheduler({ token: 'cluster', metricsToken: 'scrape-me', log: silentLog });
    closeExtra = () => scheduler.close();
    const url = httpOf(scheduler.url);
    expect((await fetch(url)).status).toBe(401);
    const samples = await scrape(url, { authorization: 'Bearer scrape-me' });
    expect(samples.get('brisk_scheduler_agents{state="connected"}')).toBe(0);
    // Any other plain request still answers 426, as before.
    expect((await fetch(url.replace('/metrics', '/'))).status).toBe(426);
  });
});
