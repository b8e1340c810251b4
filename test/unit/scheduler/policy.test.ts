import { describe, expect, it } from 'vitest';
import { decideAcquire, decideStemCells, type PolicyConfig } from '../../../src/scheduler/policy.js';
import { action, agent, assignedTo, snapshot, starting, stem } from './fixtures.js';

const config: PolicyConfig = { stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: 1 }], maxQueueSize: 2 };
const request = (name = 'a', memoryMB = 256, queued = false) => ({ requestId: 'r1', controllerId: 'ctl1', action: action(name, memoryMB), queued });

describe('decideAcquire', () => {
  it('rejects with noAgents when no agent is known', () => {
    expect(decideAcquire(snapshot([], []), request(), config)).toEqual({
      kind: 'reject',
      limit: 'noAgents',
      message: 'No agent is registered with the scheduler, so no container can be placed for action guest/a.',
      reason: 'No agent is registered with the scheduler, so no container can be placed for action guest/a.',
    });
  });

  it('rejects with tooLargeForAnyAgent when the memory exceeds every agent', () => {
    expect(decideAcquire(snapshot([agent('n1', 256), agent('n2', 300)], []), request('a', 512), config)).toEqual({
      kind: 'reject',
      limit: 'tooLargeForAnyAgent',
      message: 'Action guest/a needs 512 MB of memory but the largest agent has 300 MB.',
      reason: 'Action guest/a needs 512 MB of memory but the largest agent has 300 MB.',
    });
  });

  it('takes a matching stem cell and asks its agent for a backfill', () => {
    const snap = snapshot([agent('n1', 1024)], [stem('s1', 'n1')]);
    expect(decideAcquire(snap, request(), config)).toEqual({
      kind: 'assignStemCell',
      containerId: 's1',
      agentId: 'n1',
      backfill: { agentId: 'n1', kind: 'nodejs:20', memoryMB: 256 },
      reason: 'stem cell nodejs:20/256 MB ready on n1; refilled there',
    });
  });

  it('takes a stem cell without backfill when the agent has no room for another', () => {
    const snap = snapshot([agent('n1', 256)], [stem('s1', 'n1')]);
    expect(decideAcquire(snap, request(), config)).toEqual({ kind: 'assignStemCell', containerId: 's1', agentId: 'n1', reason: 'stem cell nodejs:20/256 MB ready on n1; not refilled, 0 MB free' });
  });

  it('takes a stem cell without backfill when other acquires are waiting', () => {
    const snap = snapshot([agent('n1', 1024)], [stem('s1', 'n1')], 2);
    expect(decideAcquire(snap, request('a', 256, true), config)).toEqual({
      kind: 'assignStemCell',
      containerId: 's1',
      agentId: 'n1',
      reason: 'stem cell nodejs:20/256 MB ready on n1; not refilled while 1 acquire waits',
    });
  });

  it('ignores stem cells of another kind or memory, and on disconnected agents', () => {
    const snap = snapshot(
      [agent('n1', 2048), agent('n2', 2048, { connected: false, lostSince: 5 })],
      [stem('s1', 'n1', 512), stem('s2', 'n1', 256, 'nodejs:18'), stem('s3', 'n2')],
    );
    expect(decideAcquire(snap, request(), config)).toEqual({
      kind: 'create',
      agentId: 'n1',
      reason: 'no stem cell of nodejs:20/256 MB; pack: n1 has the least free memory that fits (1280 MB free, 256 MB needed)',
    });
  });

  it('packs: creates on the agent with the least free memory that fits', () => {
    const snap = snapshot([agent('n1', 1024), agent('n2', 512), agent('n3', 256 + 128)], [assignedTo('x', 'n3', action('b', 256))]);
    expect(decideAcquire(snap, request(), config)).toEqual({
      kind: 'create',
      agentId: 'n2',
      reason: 'no stem cell of nodejs:20/256 MB; pack: n2 has the least free memory that fits (512 MB free, 256 MB needed)',
    });
  });

  it('never creates on a disconnected agent', () => {
    const snap = snapshot([agent('n1', 1024, { connected: false, lostSince: 1 })], []);
    expect(decideAcquire(snap, request(), config)).toEqual({ kind: 'queue', waitingFor: 'capacity', reason: 'no agent has 256 MB free or idle containers to evict; waiting in the queue (0 other acquires waiting)' });
  });

  it('evicts idle containers least recently used first, only as many as needed, on one agent', () => {
    const b = action('b', 256);
    const snap = snapshot(
      [agent('n1', 768)],
      [
        assignedTo('new', 'n1', b, { lastUsedAt: 3000 }),
        assignedTo('old', 'n1', b, { lastUsedAt: 1000 }),
        assignedTo('mid', 'n1', b, { lastUsedAt: 2000 }),
      ],
    );
    expect(decideAcquire(snap, request('a', 512), config)).toEqual({
      kind: 'evictThenCreate',
      agentId: 'n1',
      evict: ['old', 'mid'],
      reason: 'no stem cell of nodejs:20/512 MB and no agent has 512 MB free; evicting 2 idle containers (least recently used first) frees 512 MB on n1, the fewest evictions of any agent',
    });
  });

  it('never evicts a busy, starting, unclaimed or already evicting container', () => {
    const b = action('b', 256);
    const snap = snapshot(
      [agent('n1', 1024)],
      [
        assignedTo('busy', 'n1', b, { inFlight: 1, lastUsedAt: 1 }),
        starting('st', 'n1'),
        { state: 'unclaimed', containerId: 'un', agentId: 'n1', kind: 'nodejs:20', memoryMB: 256, address: { host: 'h', port: 1 }, since: 0 },
        assignedTo('ev', 'n1', b, { evicting: { controllerId: 'ctl1', requestId: 'other', since: 0 }, lastUsedAt: 0 }),
      ],
    );
    expect(decideAcquire(snap, request(), config)).toEqual({ kind: 'queue', waitingFor: 'capacity', reason: 'no agent has 256 MB free or idle containers to evict; waiting in the queue (0 other acquires waiting)' });
  });

  it('evicts idle assigned containers before stem cells, stem cells as the last resort', () => {
    const b = action('b', 256);
    const snap = snapshot([agent('n1', 768)], [stem('s1', 'n1', 256, 'nodejs:18'), assignedTo('idle', 'n1', b, { lastUsedAt: 5000 }), assignedTo('busy', 'n1', b, { inFlight: 2 })]);
    expect(decideAcquire(snap, request(), config)).toEqual({ kind: 'evictThenCreate', agentId: 'n1', evict: ['idle'], reason: 'no stem cell of nodejs:20/256 MB and no agent has 256 MB free; evicting 1 idle container (least recently used first) frees 256 MB on n1, the fewest evictions of any agent' });
    const snap2 = snapshot([agent('n1', 512)], [stem('s1', 'n1', 256, 'nodejs:18'), assignedTo('busy', 'n1', b, { inFlight: 2 })]);
    expect(decideAcquire(snap2, request(), config)).toEqual({ kind: 'evictThenCreate', agentId: 'n1', evict: ['s1'], reason: 'no stem cell of nodejs:20/256 MB and no agent has 256 MB free; evicting 1 idle container (least recently used first) frees 256 MB on n1, the fewest evictions of any agent' });
  });

  it('picks the agent needing the fewest evictions', () => {
    const b = action('b', 128);
    const snap = snapshot(
      [agent('n1', 256), agent('n2', 256)],
      [assignedTo('a1', 'n1', b, { lastUsedAt: 1 }), assignedTo('a2', 'n1', b, { lastUsedAt: 2 }), assignedTo('b1', 'n2', action('c', 256), { lastUsedAt: 9 })],
    );
    expect(decideAcquire(snap, request(), config)).toEqual({ kind: 'evictThenCreate', agentId: 'n2', evict: ['b1'], reason: 'no stem cell of nodejs:20/256 MB and no agent has 256 MB free; evicting 1 idle container (least recently used first) frees 256 MB on n2, the fewest evictions of any agent' });
  });

  it('waits while evictions for the same request are under way', () => {
    const b = action('b', 256);
    const snap = snapshot([agent('n1', 256), agent('n2', 256)], [assignedTo('ev', 'n1', b, { evicting: { controllerId: 'ctl1', requestId: 'r1', since: 0 } })], 1);
    expect(decideAcquire(snap, request('a', 256, true), config)).toEqual({ kind: 'queue', waitingFor: 'evictions', reason: 'waiting for the owners to release 1 evicted container' });
  });

  it('does not take an eviction for another controller\'s request with the same id as its own', () => {
    const b = action('b', 256);
    const snap = snapshot([agent('n1', 256), agent('n2', 256)], [assignedTo('ev', 'n1', b, { evicting: { controllerId: 'ctl2', requestId: 'r1', since: 0 } })], 1);
    expect(decideAcquire(snap, request('a', 256, false), config)).toEqual({
      kind: 'create',
      agentId: 'n2',
      reason: 'no stem cell of nodejs:20/256 MB; pack: n2 has the least free memory that fits (256 MB free, 256 MB needed)',
    });
  });

  it('queues when nothing fits, and rejects a new request when the queue is full', () => {
    const snap = snapshot([agent('n1', 256)], [assignedTo('busy', 'n1', action('b'), { inFlight: 1 })], 1);
    expect(decideAcquire(snap, request(), config)).toEqual({ kind: 'queue', waitingFor: 'capacity', reason: 'no agent has 256 MB free or idle containers to evict; waiting in the queue (1 other acquire waiting)' });
    const full = snapshot([agent('n1', 256)], [assignedTo('busy', 'n1', action('b'), { inFlight: 1 })], 2);
    expect(decideAcquire(full, request(), config)).toEqual({
      kind: 'reject',
      limit: 'schedulerQueue',
      message: 'The scheduler queue is full (2 acquires waiting); no container for action guest/a can be placed now. Try again later.',
      reason: 'The scheduler queue is full (2 acquires waiting); no container for action guest/a can be placed now. Try again later.',
    });
    expect(decideAcquire(full, request('a', 256, true), config)).toMatchObject({ kind: 'queue' });
  });
});

describe('decideStemCells', () => {
  const cfg: PolicyConfig = { stemCells: [{ kind: 'nodejs:20', memoryMB: 256, count: 2 }, { kind: 'nodejs:18', memoryMB: 128, count: 1 }], maxQueueSize: 10 };

  it('fills every connected agent up to the configured count where memory allows', () => {
    const snap = snapshot(
      [agent('n1', 1024), agent('n2', 300), agent('n3', 4096, { connected: false, lostSince: 1 })],
      [stem('s1', 'n1'), assignedTo('x', 'n1', action('b', 512))],
    );
    expect(decideStemCells(snap, cfg)).toEqual([
      { agentId: 'n1', kind: 'nodejs:20', memoryMB: 256 },
      { agentId: 'n2', kind: 'nodejs:20', memoryMB: 256 },
    ]);
  });

  it('counts starting stem cells and skips excluded agents', () => {
    const snap = snapshot([agent('n1', 1024), agent('n2', 1024)], [starting('s1', 'n1'), starting('s2', 'n1')]);
    expect(decideStemCells(snap, cfg, { exclude: new Set(['n2']) })).toEqual([{ agentId: 'n1', kind: 'nodejs:18', memoryMB: 128 }]);
  });

  it('creates none while acquires wait in the queue', () => {
    expect(decideStemCells(snapshot([agent('n1', 1024)], [], 1), cfg)).toEqual([]);
  });
});

describe('decideAcquire for blackbox actions (their own image)', () => {
  const image = (name = 'bb', memoryMB = 256, queued = false) => ({
    requestId: 'r1',
    controllerId: 'ctl1',
    action: action(name, memoryMB, { kind: 'blackbox', image: 'skeleton:1' }),
    queued,
  });

  it('rejects with noAgentForImage when no agent runs images', () => {
    expect(decideAcquire(snapshot([agent('n1', 1024)], []), image(), config)).toEqual({
      kind: 'reject',
      limit: 'noAgentForImage',
      message: 'Action guest/bb runs the image skeleton:1, which needs an agent with the docker backend, and none is registered.',
      reason: 'Action guest/bb runs the image skeleton:1, which needs an agent with the docker backend, and none is registered.',
    });
  });

  it('rejects with tooLargeForAnyAgent when no docker agent is large enough, however large the others are', () => {
    const snap = snapshot([agent('big', 4096), agent('d1', 512, { runsImages: true })], []);
    expect(decideAcquire(snap, image('bb', 1024), config)).toMatchObject({ kind: 'reject', limit: 'tooLargeForAnyAgent' });
  });

  it('creates on an agent that runs images even when another one packs better, and never takes a stem cell', () => {
    const snap = snapshot([agent('p1', 512), agent('d1', 2048, { runsImages: true })], [stem('s1', 'p1', 256, 'blackbox')]);
    expect(decideAcquire(snap, image(), config)).toMatchObject({ kind: 'create', agentId: 'd1' });
  });

  it('evicts only on agents that run images, and queues when they are full of busy containers', () => {
    const other = action('other');
    const idleOnPlain = assignedTo('c1', 'p1', other);
    const idleOnDocker = assignedTo('c2', 'd1', other, { lastUsedAt: 2000 });
    const snap = snapshot([agent('p1', 256), agent('d1', 256, { runsImages: true })], [idleOnPlain, idleOnDocker]);
    expect(decideAcquire(snap, image(), config)).toMatchObject({ kind: 'evictThenCreate', agentId: 'd1', evict: ['c2'] });
    const busy = snapshot([agent('p1', 256), agent('d1', 256, { runsImages: true })], [idleOnPlain, assignedTo('c2', 'd1', other, { inFlight: 1 })]);
    expect(decideAcquire(busy, image(), config)).toMatchObject({ kind: 'queue' });
  });
});
