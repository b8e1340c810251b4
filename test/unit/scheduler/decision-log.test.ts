import { describe, expect, it } from 'vitest';
import { acquireEntry, DecisionLog, stemCellEntry } from '../../../src/scheduler/decision-log.js';
import { decideAcquire } from '../../../src/scheduler/policy.js';
import { decodeMessage, encodeMessage } from '../../../src/daemon/protocol.js';
import { action, agent, snapshot, stem } from './fixtures.js';

const entry = (n: number) => ({ at: n, decision: 'queue' as const, reason: `r${n}`, inputs: { connectedAgents: 1, containers: 0, queued: 0 } });

describe('DecisionLog', () => {
  it('keeps the newest entries up to its capacity, oldest first, numbered from 1', () => {
    const log = new DecisionLog({ capacity: 3 });
    for (let i = 1; i <= 5; i++) log.record(entry(i));
    expect(log.lastSeq).toBe(5);
    expect(log.recent().map((e) => [e.seq, e.reason])).toEqual([
      [3, 'r3'],
      [4, 'r4'],
      [5, 'r5'],
    ]);
    expect(log.recent({ limit: 2 }).map((e) => e.seq)).toEqual([4, 5]);
    expect(log.recent({ afterSeq: 4 }).map((e) => e.seq)).toEqual([5]);
    expect(log.recent({ afterSeq: 5 })).toEqual([]);
  });

  it('keeps nothing with capacity 0 but still counts', () => {
    const log = new DecisionLog({ capacity: 0 });
    log.record(entry(1));
    expect([log.lastSeq, log.recent()]).toEqual([1, []]);
  });

  it('records an acquire decision with its request, inputs and reason, and the entry passes the wire schema', () => {
    const pool = snapshot([agent('n1', 1024)], [stem('s1', 'n1')]);
    const request = { requestId: 'q1', controllerId: 'ctl1', action: action('hello'), queued: false };
    const decision = decideAcquire(pool, request, { stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }], maxQueueSize: 10 });
    const log = new DecisionLog();
    const recorded = log.record(acquireEntry(pool, request, decision, 1234));
    expect(recorded).toEqual({
      seq: 1,
      at: 1234,
      decision: 'assignStemCell',
      reason: 'stem cell nodejs:20/256 MB ready on n1; refilled there',
      request: { controllerId: 'ctl1', requestId: 'q1', action: 'guest/hello@1@1', kind: 'nodejs:20', memoryMB: 256, queued: false },
      agentId: 'n1',
      containerId: 's1',
      inputs: { connectedAgents: 1, containers: 1, queued: 0, agentFreeMB: 768 },
    });
    const wire = { type: 'decisions' as const, requestId: 'd1', entries: log.recent(), capacity: log.capacity, lastSeq: log.lastSeq };
    expect(decodeMessage(encodeMessage(wire))).toEqual(wire);
  });

  it('summarises a stem cell refill in one entry', () => {
    const pool = snapshot([agent('n1', 1024), agent('n2', 1024)], []);
    expect(
      stemCellEntry(
        pool,
        [
          { agentId: 'n1', kind: 'nodejs:20', memoryMB: 256 },
          { agentId: 'n2', kind: 'nodejs:20', memoryMB: 256 },
        ],
        9,
      ),
    ).toEqual({
      at: 9,
      decision: 'stemCells',
      reason: 'refill stem cells below their configured count: 2 × nodejs:20/256 MB on 2 agents',
      inputs: { connectedAgents: 2, containers: 0, queued: 0 },
    });
  });

  it('records acquire decisions and refills by reference, and formats them when read exactly as the eager entries', () => {
    const pool = snapshot([agent('n1', 1024), agent('n2', 512)], [stem('s1', 'n1')]);
    const config = { stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }], maxQueueSize: 10 };
    const stemRequest = { requestId: 'q1', controllerId: 'ctl1', action: action('hello'), queued: false };
    const stemDecision = decideAcquire(pool, stemRequest, config);
    const createRequest = { requestId: 'q1', controllerId: 'ctl2', action: action('other', 512), queued: true };
    const createDecision = decideAcquire(pool, createRequest, config);
    const creates = [{ agentId: 'n2', kind: 'nodejs:20', memoryMB: 256 }];
    const eager = [acquireEntry(pool, stemRequest, stemDecision, 10), acquireEntry(pool, createRequest, createDecision, 11), stemCellEntry(pool, creates, 12)];
    const log = new DecisionLog({ capacity: 2 });
    expect([log.recordAcquire(pool, stemRequest, stemDecision, 10), log.recordAcquire(pool, createRequest, createDecision, 11), log.recordStemCells(pool, creates, 12)]).toEqual([1, 2, 3]);
    expect(createDecision.kind).toBe('create');
    expect(log.recent()).toEqual([
      { seq: 2, ...eager[1] },
      { seq: 3, ...eager[2] },
    ]);
    expect(log.recent()[1]).toEqual({ seq: 3, at: 12, decision: 'stemCells', reason: 'refill stem cells below their configured count: 1 × nodejs:20/256 MB on n2', agentId: 'n2', inputs: { connectedAgents: 2, containers: 1, queued: 0, agentFreeMB: 512 } });
    expect(log.lastSeq).toBe(3);
  });
});
