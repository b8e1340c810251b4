import { describe, expect, it } from 'vitest';
import { createAgentMetrics } from '../../../src/agent/metrics.js';
import { FakeBackend } from '../../../src/agent/fake-backend.js';
import { createControllerMetrics } from '../../../src/controller/metrics.js';
import type { Invocation, Invoker, InvokeRequest } from '../../../src/controller/invoker.js';
import { createRegistry } from '../../../src/daemon/metrics.js';
import { ThrottledError } from '../../../src/errors.js';
import type { ActivationRecord } from '../../../src/model/activation.js';
import { containerMetricState, createSchedulerMetrics } from '../../../src/scheduler/metrics.js';

function record(statusCode: 0 | 1 | 2 | 3): ActivationRecord {
  return { namespace: 'guest', name: 'a', subject: 'guest', activationId: 'x', version: '0.0.1', publish: false, start: 0, end: 0, duration: 0, response: { statusCode, result: {} }, logs: [], annotations: [] };
}

function lines(text: string, prefix: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(prefix));
}

describe('controller metrics', () => {
  it('counts activations by outcome, latency, pending, unavailable and 429s, and reads state at scrape', async () => {
    let now = 1_000;
    const metrics = createControllerMetrics({ registry: createRegistry(), clock: () => now });
    const resolvers: Array<(r: ActivationRecord) => void> = [];
    const unavailable = [undefined, { limit: 'queueDeadline', message: 'no' }];
    const inner: Invoker = {
      invoke: (request: InvokeRequest): Invocation => {
        const response = new Promise<ActivationRecord>((resolve) => resolvers.push(resolve));
        const u = unavailable[resolvers.length - 1];
        return { activationId: request.activationId, response, record: response, ...(u === undefined ? {} : { unavailable: u }) };
      },
      close: async () => undefined,
    };
    const invoker = metrics.instrument(inner);
    const request = { action: {}, params: {}, activationId: 'x', subject: 'guest', apiKey: 'u:k', receivedAt: 1_000 } as unknown as InvokeRequest;
    const a = invoker.invoke(request);
    const b = invoker.invoke(request);
    metrics.observe({ stats: () => ({ containers: 3, inFlight: 2, waiting: 5, outstandingAcquires: 1 }), storeBuffered: () => 7 });
    expect(lines(metrics.registry.render(), 'brisk_controller_activations_pending')).toEqual(['brisk_controller_activations_pending 2']);
    now = 1_250;
    resolvers[0]!(record(0));
    resolvers[1]!(record(3));
    await Promise.all([a.response, b.response]);
    metrics.errorReply(new ThrottledError('concurrentInvocations', 'too many'));
    metrics.errorReply(new Error('not counted'));
    const onWrite = metrics.storeWriteErrors(() => undefined);
    onWrite(new Error('disk'), { buffered: 10, dropped: 4, failing: true });
    onWrite(new Error('behind'), { buffered: 10, dropped: 1, failing: false });
    const text = metrics.registry.render();
    expect(lines(text, 'brisk_controller_activations_total')).toEqual([
      'brisk_controller_activations_total{outcome="success"} 1',
      'brisk_controller_activations_total{outcome="application_error"} 0',
      'brisk_controller_activations_total{outcome="developer_error"} 0',
      'brisk_controller_activations_total{outcome="internal_error"} 1',
    ]);
    expect(lines(text, 'brisk_controller_invoke_seconds_sum')).toEqual(['brisk_controller_invoke_seconds_sum{outcome="success"} 0.25', 'brisk_controller_invoke_seconds_sum{outcome="internal_error"} 0.25']);
    expect(lines(text, 'brisk_controller_invoke_seconds_bucket{outcome="success",le="0.25"}')).toEqual(['brisk_controller_invoke_seconds_bucket{outcome="success",le="0.25"} 1']);
    expect(lines(text, 'brisk_controller_invoke_seconds_bucket{outcome="success",le="0.1"}')).toEqual(['brisk_controller_invoke_seconds_bucket{outcome="success",le="0.1"} 0']);
    expect(lines(text, 'brisk_controller_unavailable_total')).toEqual(['brisk_controller_unavailable_total{limit="queueDeadline"} 1']);
    expect(lines(text, 'brisk_controller_throttled_total')).toEqual([
      'brisk_controller_throttled_total{limit="invocationsPerMinute"} 0',
      'brisk_controller_throttled_total{limit="concurrentInvocations"} 1',
      'brisk_controller_throttled_total{limit="overflowBuffer"} 0',
    ]);
    expect(lines(text, 'brisk_controller_').filter((l) => !l.includes('{') && !l.startsWith('brisk_controller_invoke'))).toEqual([
      'brisk_controller_activations_pending 0',
      'brisk_controller_containers 3',
      'brisk_controller_in_flight 2',
      'brisk_controller_overflow_waiting 5',
      'brisk_controller_outstanding_acquires 1',
    ]);
    expect(lines(text, 'brisk_store_')).toEqual(['brisk_store_write_behind_buffered 7', 'brisk_store_write_failures_total 1', 'brisk_store_records_dropped_total 5']);
  });
});

describe('scheduler metrics', () => {
  it('reads the pool at scrape time and counts decisions and rejections', () => {
    const base = { agentId: 'a1', kind: 'nodejs:20', memoryMB: 256 };
    const action = { namespace: 'guest', name: 'x', revision: '1', kind: 'nodejs:20', memoryMB: 256 } as never;
    const containers = [
      { ...base, containerId: 'c1', state: 'prewarm' as const, address: { host: 'h', port: 1 } },
      { ...base, containerId: 'c2', state: 'assigned' as const, action, actionKey: 'k', owner: 'ctl', inFlight: 1, paused: false, lastUsedAt: 0 },
      { ...base, containerId: 'c3', state: 'assigned' as const, action, actionKey: 'k', owner: 'ctl', inFlight: 0, paused: true, lastUsedAt: 0 },
    ];
    const metrics = createSchedulerMetrics({
      registry: createRegistry(),
      queueCapacity: 10,
      state: () => ({ agents: [{ connected: true, memoryMB: 1024 }, { connected: false, memoryMB: 512 }], containers, queue: [] }),
    });
    metrics.acquired('create');
    metrics.acquired('create');
    metrics.rejected('noAgents');
    const text = metrics.registry.render();
    expect(lines(text, 'brisk_scheduler_')).toEqual([
      'brisk_scheduler_agents{state="connected"} 1',
      'brisk_scheduler_agents{state="lost"} 1',
      'brisk_scheduler_agent_memory_mb 1024',
      'brisk_scheduler_containers{state="starting"} 0',
      'brisk_scheduler_containers{state="prewarm"} 1',
      'brisk_scheduler_containers{state="unclaimed"} 0',
      'brisk_scheduler_containers{state="idle"} 0',
      'brisk_scheduler_containers{state="busy"} 1',
      'brisk_scheduler_containers{state="paused"} 1',
      'brisk_scheduler_container_memory_mb 768',
      'brisk_scheduler_queue_length 0',
      'brisk_scheduler_queue_capacity 10',
      'brisk_scheduler_acquires_total{decision="assignStemCell"} 0',
      'brisk_scheduler_acquires_total{decision="create"} 2',
      'brisk_scheduler_acquires_total{decision="evictThenCreate"} 0',
      'brisk_scheduler_acquires_total{decision="queue"} 0',
      'brisk_scheduler_acquires_total{decision="reject"} 0',
      'brisk_scheduler_rejections_total{limit="noAgents"} 1',
    ]);
    expect(containerMetricState(containers[2]!)).toBe('paused');
  });
});

describe('agent metrics', () => {
  it('counts creates, failures, pauses, resumes, exits and output through the backend decorator', async () => {
    const metrics = createAgentMetrics({ memoryMB: 512, registry: createRegistry() });
    const fake = new FakeBackend({ failCreate: (r) => (r.containerId === 'bad' ? new Error('no') : undefined) });
    const backend = metrics.instrument(fake);
    await backend.create({ containerId: 'c1', kind: 'nodejs:20', memoryMB: 256, env: {} });
    await expect(backend.create({ containerId: 'bad', kind: 'nodejs:20', memoryMB: 256, env: {} })).rejects.toThrow('no');
    await backend.create({ containerId: 'c2', kind: 'nodejs:20', memoryMB: 128, env: {} });
    fake.emitOutput('c2', 'stdout', 'hello\n');
    fake.emitOutput('c2', 'stderr', 'é');
    fake.crash('c2', 'oom');
    await backend.pause('c1');
    await backend.resume('c1');
    await backend.pause('c1');
    const text = metrics.registry.render();
    expect(lines(text, 'brisk_agent_containers')).toEqual(['brisk_agent_containers{state="starting"} 0', 'brisk_agent_containers{state="running"} 0', 'brisk_agent_containers{state="paused"} 1']);
    expect(lines(text, 'brisk_agent_container_creates_total')).toEqual(['brisk_agent_container_creates_total{result="ok"} 2', 'brisk_agent_container_creates_total{result="failed"} 1']);
    expect(lines(text, 'brisk_agent_pause_resume_total')).toEqual([
      'brisk_agent_pause_resume_total{op="pause",result="ok"} 2',
      'brisk_agent_pause_resume_total{op="resume",result="ok"} 1',
      'brisk_agent_pause_resume_total{op="pause",result="failed"} 0',
      'brisk_agent_pause_resume_total{op="resume",result="failed"} 0',
    ]);
    expect(lines(text, 'brisk_agent_pause_resume_seconds_count')).toEqual(['brisk_agent_pause_resume_seconds_count{op="pause"} 2', 'brisk_agent_pause_resume_seconds_count{op="resume"} 1']);
    expect(lines(text, 'brisk_agent_container_memory_mb')).toEqual(['brisk_agent_container_memory_mb 256']);
    expect(lines(text, 'brisk_agent_container_exits_total')).toEqual(['brisk_agent_container_exits_total{reason="crash"} 0', 'brisk_agent_container_exits_total{reason="oom"} 1']);
    expect(lines(text, 'brisk_agent_log_bytes_total')).toEqual(['brisk_agent_log_bytes_total{stream="stdout"} 6', 'brisk_agent_log_bytes_total{stream="stderr"} 2']);
    await backend.destroy('c1');
    expect(lines(metrics.registry.render(), 'brisk_agent_container_destroys_total')).toEqual(['brisk_agent_container_destroys_total 1']);
    expect(lines(metrics.registry.render(), 'brisk_agent_container_memory_mb')).toEqual(['brisk_agent_container_memory_mb 0']);
  });
});
