import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContainerTable, toOwned, type TableEntry } from '../../../src/controller/balancer/container-table.js';
import type { ActionRef } from '../../../src/model/action.js';

const refA: ActionRef = { namespace: 'guest', name: 'a', revision: '0.0.1@1', kind: 'nodejs:20', memoryMB: 256 };
const refB: ActionRef = { ...refA, name: 'b' };

function fields(id: string, ref: ActionRef = refA, concurrency = 1) {
  return {
    containerId: id,
    agentId: 'agent-1',
    agentUrl: 'ws://127.0.0.1:1',
    address: { host: '127.0.0.1', port: 9000 },
    action: ref,
    key: `${ref.namespace}/${ref.name}@${ref.revision}`,
    concurrency,
  };
}
const keyA = 'guest/a@0.0.1@1';
const keyB = 'guest/b@0.0.1@1';

describe('ContainerTable', () => {
  it('picks nothing for an unknown action', () => {
    const table = new ContainerTable<TableEntry>();
    expect(table.pick(keyA)).toBeUndefined();
  });

  it('picks a container with a free slot and not one that is full', () => {
    const table = new ContainerTable<TableEntry>();
    const c1 = table.add(fields('c1'), 10);
    expect(table.pick(keyA)).toBe(c1);
    table.take(c1);
    expect(c1.inFlight).toBe(1);
    expect(table.pick(keyA)).toBeUndefined();
    table.give(c1, 20);
    expect(c1.inFlight).toBe(0);
    expect(c1.lastUsedAt).toBe(20);
    expect(table.pick(keyA)).toBe(c1);
  });

  it('never mixes actions', () => {
    const table = new ContainerTable<TableEntry>();
    const a = table.add(fields('a1', refA), 0);
    const b = table.add(fields('b1', refB), 0);
    expect(table.pick(keyA)).toBe(a);
    expect(table.pick(keyB)).toBe(b);
    table.take(a);
    expect(table.pick(keyA)).toBeUndefined();
    expect(table.pick(keyB)).toBe(b);
  });

  it('prefers a running container over a paused one, and uses a paused one when it is the only choice', () => {
    const table = new ContainerTable<TableEntry>();
    const c1 = table.add(fields('c1'), 0);
    const c2 = table.add(fields('c2'), 0);
    table.setPaused(c2, false);
    table.setPaused(c1, true);
    expect(table.pick(keyA)).toBe(c2);
    table.take(c2);
    expect(table.pick(keyA)).toBe(c1);
    table.take(c1);
    expect(table.pick(keyA)).toBeUndefined();
    table.give(c1, 1);
    expect(table.pick(keyA)).toBe(c1);
    table.setPaused(c1, false);
    expect(table.pick(keyA)).toBe(c1);
  });

  it('picks the most recently freed running container first', () => {
    const table = new ContainerTable<TableEntry>();
    const c1 = table.add(fields('c1'), 0);
    const c2 = table.add(fields('c2'), 0);
    table.take(c1);
    table.take(c2);
    table.give(c2, 1);
    table.give(c1, 2);
    expect(table.pick(keyA)).toBe(c1);
  });

  it('keeps a container with concurrency 3 pickable until its three slots are taken', () => {
    const table = new ContainerTable<TableEntry>();
    const c = table.add(fields('c', refA, 3), 0);
    table.take(c);
    table.take(c);
    expect(table.pick(keyA)).toBe(c);
    table.take(c);
    expect(table.pick(keyA)).toBeUndefined();
    table.give(c, 5);
    expect(table.pick(keyA)).toBe(c);
  });

  it('removes a container: not pickable, not re-added by a late give', () => {
    const table = new ContainerTable<TableEntry>();
    const c = table.add(fields('c'), 0);
    table.take(c);
    expect(table.remove(c)).toBe(true);
    expect(table.remove(c)).toBe(false);
    table.give(c, 3);
    expect(c.inFlight).toBe(0);
    expect(table.pick(keyA)).toBeUndefined();
    expect(table.get('c')).toBeUndefined();
    expect(table.size).toBe(0);
    expect([...table.ofAction(keyA)]).toEqual([]);
  });

  it('reports changed containers once and idle ones by lastUsedAt', () => {
    const table = new ContainerTable<TableEntry>();
    const c1 = table.add(fields('c1'), 100);
    const c2 = table.add(fields('c2'), 100);
    expect(table.takeChanged().map((e) => e.containerId)).toEqual(['c1', 'c2']);
    expect(table.takeChanged()).toEqual([]);
    table.take(c2);
    expect(table.takeChanged()).toEqual([c2]);
    expect(table.idleSince(700, 600).map((e) => e.containerId)).toEqual(['c1']);
    expect(table.idleSince(699, 600)).toEqual([]);
    expect(toOwned(c2)).toEqual({ containerId: 'c2', agentId: 'agent-1', action: refA, inFlight: 1, paused: false, lastUsedAt: 100 });
    expect(table.snapshot().map((o) => o.containerId)).toEqual(['c1', 'c2']);
  });

  it('rejects a duplicate container id', () => {
    const table = new ContainerTable<TableEntry>();
    table.add(fields('c'), 0);
    expect(() => table.add(fields('c'), 0)).toThrow(/already/);
  });

  it('property: pick only returns present containers of the action with a free slot, and finds one whenever one exists', () => {
    type Op = { op: 'add' | 'take' | 'give' | 'pause' | 'unpause' | 'remove'; i: number; conc: number; action: 0 | 1 };
    const opArb: fc.Arbitrary<Op> = fc.record({
      op: fc.constantFrom('add', 'take', 'give', 'pause', 'unpause', 'remove'),
      i: fc.nat(7),
      conc: fc.integer({ min: 1, max: 3 }),
      action: fc.constantFrom(0 as const, 1 as const),
    });
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const table = new ContainerTable<TableEntry>();
        const entries: TableEntry[] = [];
        for (const o of ops) {
          const e = entries[o.i % Math.max(1, entries.length)];
          switch (o.op) {
            case 'add':
              entries.push(table.add(fields(`c${entries.length}`, o.action === 0 ? refA : refB, o.conc), 0));
              break;
            case 'take': {
              const picked = table.pick(o.action === 0 ? keyA : keyB);
              if (picked) table.take(picked);
              break;
            }
            case 'give':
              if (e && e.inFlight > 0) table.give(e, 1);
              break;
            case 'pause':
              if (e) table.setPaused(e, true);
              break;
            case 'unpause':
              if (e) table.setPaused(e, false);
              break;
            case 'remove':
              if (e) table.remove(e);
              break;
          }
          for (const [key, ref] of [[keyA, refA], [keyB, refB]] as const) {
            const picked = table.pick(key);
            const free = entries.filter((x) => x.present && x.action === ref && x.inFlight < x.concurrency);
            if (picked === undefined) {
              expect(free).toEqual([]);
            } else {
              expect(picked.present).toBe(true);
              expect(picked.action).toBe(ref);
              expect(picked.inFlight).toBeLessThan(picked.concurrency);
              if (free.some((x) => !x.paused)) expect(picked.paused).toBe(false);
            }
          }
          for (const x of entries) expect(x.inFlight).toBeLessThanOrEqual(x.concurrency);
        }
      }),
    );
  });
});
