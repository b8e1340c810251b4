import { describe, expect, it } from 'vitest';
import { AcquireQueue } from '../../../src/scheduler/queue.js';
import { action } from './fixtures.js';

const req = (requestId: string, name: string, deadline = 1000) => ({ requestId, controllerId: 'ctl1', action: action(name), deadline });

describe('AcquireQueue', () => {
  it('is bounded, default 1000', () => {
    expect(new AcquireQueue().maxSize).toBe(1000);
    const q = new AcquireQueue({ maxSize: 2 });
    expect(q.push(req('r1', 'a'), 0)?.requestId).toBe('r1');
    expect(q.push(req('r2', 'a'), 0)?.requestId).toBe('r2');
    expect(q.push(req('r3', 'a'), 0)).toBeUndefined();
    expect(q.full).toBe(true);
  });

  it('offers only the head of each action, oldest head first, skipping actions found unservable', () => {
    const q = new AcquireQueue();
    q.push(req('a1', 'a'), 0);
    q.push(req('a2', 'a'), 0);
    q.push(req('b1', 'b'), 0);
    expect(q.nextServable()?.requestId).toBe('a1');
    expect(q.nextServable(new Set(['guest/a@1@1']))?.requestId).toBe('b1');
    expect(q.nextServable(new Set(['guest/a@1@1', 'guest/b@1@1']))).toBeUndefined();
    q.remove(q.get('ctl1', 'a1')!);
    expect(q.nextServable()?.requestId).toBe('a2');
  });

  it('re-inserts an entry in its arrival place', () => {
    const q = new AcquireQueue();
    const first = q.push(req('a1', 'a'), 0)!;
    q.push(req('a2', 'a'), 0);
    expect(q.remove(first)).toBe(true);
    expect(q.insert(first)).toBe(true);
    expect(q.list().map((e) => e.requestId)).toEqual(['a1', 'a2']);
  });

  it('expired(now) removes entries whose deadline passed', () => {
    const q = new AcquireQueue();
    q.push(req('r1', 'a', 100), 0);
    q.push(req('r2', 'b', 200), 0);
    expect(q.expired(100)).toEqual([]);
    expect(q.expired(150).map((e) => e.requestId)).toEqual(['r1']);
    expect(q.list().map((e) => e.requestId)).toEqual(['r2']);
  });

  it('removeWhere drops the entries of one controller', () => {
    const q = new AcquireQueue();
    q.push(req('r1', 'a'), 0);
    q.push({ ...req('r2', 'a'), controllerId: 'ctl2' }, 0);
    expect(q.removeWhere((e) => e.controllerId === 'ctl1').map((e) => e.requestId)).toEqual(['r1']);
    expect(q.size).toBe(1);
    expect(q.hasAction('guest/a@1@1')).toBe(true);
  });

  it('removes exactly the given entry when two controllers use the same request id', () => {
    const q = new AcquireQueue();
    const fromB = q.push({ ...req('q5', 'big'), controllerId: 'ctlB' }, 0)!;
    const fromA = q.push({ ...req('q5', 'small'), controllerId: 'ctlA' }, 0)!;
    expect(q.get('ctlA', 'q5')).toBe(fromA);
    expect(q.get('ctlB', 'q5')).toBe(fromB);
    expect(q.get('ctl1', 'q5')).toBeUndefined();
    expect(q.remove(fromA)).toBe(true);
    expect(q.list().map((e) => `${e.controllerId}:${e.requestId}:${e.action.name}`)).toEqual(['ctlB:q5:big']);
    expect(q.remove(fromA)).toBe(false);
    expect(q.size).toBe(1);
  });

  it('does not insert an entry that is already waiting a second time', () => {
    const q = new AcquireQueue({ maxSize: 1 });
    const entry = q.push(req('q1', 'a'), 0)!;
    expect(q.insert(entry)).toBe(true);
    expect(q.list()).toEqual([entry]);
  });

  it('resumes a pass (same skip set) where it stopped and offers exactly what a fresh search would', () => {
    // The reference: the oldest head of a line whose action is not skipped, searched from the front.
    const fresh = (q: AcquireQueue, skip: ReadonlySet<string>) => {
      const seen = new Set<string>();
      for (const e of q.list()) {
        if (seen.has(e.key)) continue;
        seen.add(e.key);
        if (!skip.has(e.key)) return e;
      }
      return undefined;
    };
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const q = new AcquireQueue({ maxSize: 50 });
    const taken: ReturnType<AcquireQueue['make']>[] = [];
    for (let i = 0; i < 30; i++) q.push(req(`r${i}`, `a${Math.floor(random() * 6)}`), 0);
    for (let pass = 0; pass < 40; pass++) {
      const skip = new Set<string>();
      for (let step = 0; step < 60; step++) {
        const got = q.nextServable(skip);
        expect(got).toBe(fresh(q, skip));
        if (!got) break;
        const r = random();
        if (r < 0.4) {
          q.remove(got);
          taken.push(got);
        } else if (r < 0.7) skip.add(got.key);
        else if (r < 0.8 && taken.length > 0) q.insert(taken.shift()!); // a requeue in its old place
        else if (r < 0.9) q.push(req(`n${pass}-${step}`, `a${Math.floor(random() * 6)}`), 0);
        // else: asked again without a change: the same head is offered again
      }
    }
    expect(q.countOf('a0') + q.countOf('a1') + q.countOf('a2') + q.countOf('a3') + q.countOf('a4') + q.countOf('a5')).toBe(q.size);
  });
});

