import { describe, expect, it } from 'vitest';
import { actionKey } from '../../../src/model/action.js';
import { choosePlacement } from '../../../src/scheduler/placement.js';
import { action, agent, assignedTo, snapshot } from './fixtures.js';

const a = action('a');
const want = { actionKey: actionKey(a), memoryMB: 256 };
// n1: 1024 free, n2: 512 free, n3: 768 free and holds a container of `a`, n4: disconnected with 4096
const pool = () =>
  snapshot(
    [agent('n1', 1024), agent('n2', 512), agent('n3', 1024), agent('n4', 4096, { connected: false, lostSince: 1 })],
    [assignedTo('x', 'n3', a), assignedTo('y', 'n4', a)],
  );

describe('choosePlacement', () => {
  it('pack with locality: the agent holding the action wins while it has room', () => {
    expect(choosePlacement(pool(), want, { strategy: 'pack' })).toEqual({
      agentId: 'n3',
      free: 768,
      local: true,
      reason: 'pack, locality: n3 already holds this action (on 2 agents) and has the least free memory that fits among them (768 MB free, 256 MB needed)',
    });
  });

  it('pack without locality: best fit over all connected agents', () => {
    expect(choosePlacement(pool(), want, { strategy: 'pack', locality: false })).toEqual({
      agentId: 'n2',
      free: 512,
      local: false,
      reason: 'pack: n2 has the least free memory that fits (512 MB free, 256 MB needed)',
    });
  });

  it('spread without locality: the most free memory', () => {
    expect(choosePlacement(pool(), want, { strategy: 'spread', locality: false })).toEqual({
      agentId: 'n1',
      free: 1024,
      local: false,
      reason: 'spread: n1 has the most free memory (1024 MB free, 256 MB needed)',
    });
  });

  it('falls back from the locality tier when the holders are full', () => {
    const p = snapshot([agent('n1', 1024), agent('n2', 256)], [assignedTo('x', 'n2', a)]);
    expect(choosePlacement(p, want, { strategy: 'spread' })).toMatchObject({ agentId: 'n1', local: false });
  });

  it('breaks ties by agentId in both strategies, and answers undefined when nothing fits', () => {
    const p = snapshot([agent('n2', 512), agent('n1', 512)], []);
    expect(choosePlacement(p, want, { strategy: 'pack' })?.agentId).toBe('n1');
    expect(choosePlacement(p, want, { strategy: 'spread' })?.agentId).toBe('n1');
    expect(choosePlacement(p, { ...want, memoryMB: 1024 })).toBeUndefined();
  });
});
