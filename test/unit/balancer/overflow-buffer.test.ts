import { describe, expect, it } from 'vitest';
import { acquiresToSend, OverflowBuffer, waitersToFailOnReject } from '../../../src/controller/balancer/overflow-buffer.js';

const w = (deadline: number, id = deadline) => ({ deadline, id });

describe('acquiresToSend', () => {
  it('sends one acquire per `concurrency` waiters, minus those outstanding, capped', () => {
    expect(acquiresToSend({ waiting: 0, outstanding: 0, concurrency: 1, maxOutstanding: 16 })).toBe(0);
    expect(acquiresToSend({ waiting: 1, outstanding: 0, concurrency: 1, maxOutstanding: 16 })).toBe(1);
    expect(acquiresToSend({ waiting: 5, outstanding: 2, concurrency: 1, maxOutstanding: 16 })).toBe(3);
    expect(acquiresToSend({ waiting: 5, outstanding: 0, concurrency: 2, maxOutstanding: 16 })).toBe(3);
    expect(acquiresToSend({ waiting: 100, outstanding: 0, concurrency: 1, maxOutstanding: 16 })).toBe(16);
    expect(acquiresToSend({ waiting: 100, outstanding: 16, concurrency: 1, maxOutstanding: 16 })).toBe(0);
    expect(acquiresToSend({ waiting: 1, outstanding: 3, concurrency: 1, maxOutstanding: 16 })).toBe(0);
  });
});

describe('waitersToFailOnReject', () => {
  it('fails the waiters the remaining acquires cannot cover', () => {
    expect(waitersToFailOnReject({ waiting: 3, outstanding: 0, concurrency: 1 })).toBe(3);
    expect(waitersToFailOnReject({ waiting: 3, outstanding: 2, concurrency: 1 })).toBe(1);
    expect(waitersToFailOnReject({ waiting: 3, outstanding: 1, concurrency: 4 })).toBe(0);
    expect(waitersToFailOnReject({ waiting: 0, outstanding: 0, concurrency: 1 })).toBe(0);
  });
});

describe('OverflowBuffer', () => {
  it('is FIFO per action and bounded per action', () => {
    const buffer = new OverflowBuffer<ReturnType<typeof w>>({ limit: 2 });
    expect(buffer.enqueue('a', w(1))).toBe(true);
    expect(buffer.enqueue('a', w(2))).toBe(true);
    expect(buffer.enqueue('a', w(3))).toBe(false);
    expect(buffer.enqueue('b', w(4))).toBe(true);
    expect(buffer.waiting('a')).toBe(2);
    expect(buffer.shift('a')?.id).toBe(1);
    expect(buffer.enqueue('a', w(5))).toBe(true);
    expect(buffer.takeOldest('a', 5).map((x) => x.id)).toEqual([2, 5]);
    expect(buffer.shift('a')).toBeUndefined();
    expect([...buffer.keys()]).toEqual(['b']);
  });

  it('defaults to 256 waiting requests and 16 outstanding acquires', () => {
    const buffer = new OverflowBuffer<ReturnType<typeof w>>();
    expect(buffer.limit).toBe(256);
    expect(buffer.maxOutstanding).toBe(16);
    for (let i = 0; i < 256; i++) expect(buffer.enqueue('a', w(i))).toBe(true);
    expect(buffer.enqueue('a', w(999))).toBe(false);
  });

  it('tracks outstanding acquires and gives each the deadline of the first waiter it stands for', () => {
    const buffer = new OverflowBuffer<ReturnType<typeof w>>();
    buffer.enqueue('a', w(100));
    buffer.enqueue('a', w(200));
    buffer.enqueue('a', w(300));
    expect(buffer.beginAcquires('a', 2, 1)).toEqual([100, 200]);
    expect(buffer.outstanding('a')).toBe(2);
    expect(buffer.beginAcquires('a', 1, 1)).toEqual([300]);
    buffer.endAcquire('a');
    expect(buffer.outstanding('a')).toBe(2);
    const conc = new OverflowBuffer<ReturnType<typeof w>>();
    for (const d of [10, 20, 30, 40, 50]) conc.enqueue('x', w(d));
    expect(conc.beginAcquires('x', 3, 2)).toEqual([10, 30, 50]);
  });

  it('keeps an action with outstanding acquires and no waiters until the acquires end', () => {
    const buffer = new OverflowBuffer<ReturnType<typeof w>>();
    buffer.enqueue('a', w(1));
    buffer.beginAcquires('a', 1, 1);
    buffer.shift('a');
    expect([...buffer.keys()]).toEqual(['a']);
    buffer.endAcquire('a');
    expect([...buffer.keys()]).toEqual([]);
  });

  it('expires waiters at or past their deadline', () => {
    const buffer = new OverflowBuffer<ReturnType<typeof w>>();
    buffer.enqueue('a', w(100));
    buffer.enqueue('a', w(200));
    buffer.enqueue('b', w(150));
    expect(buffer.expire(99)).toEqual([]);
    expect(buffer.expire(150).map((e) => [e.key, e.item.id])).toEqual([
      ['a', 100],
      ['b', 150],
    ]);
    expect(buffer.waiting('a')).toBe(1);
    expect(buffer.waiting('b')).toBe(0);
    expect(buffer.drainAll().map((e) => e.item.id)).toEqual([200]);
    expect(buffer.waiting('a')).toBe(0);
  });

  it('requeue puts a waiter back at the front by deadline, even past the limit', () => {
    const buffer = new OverflowBuffer<ReturnType<typeof w>>({ limit: 2 });
    buffer.enqueue('a', w(300));
    buffer.enqueue('a', w(400));
    buffer.requeue('a', w(100)); // older than every waiter: first
    buffer.requeue('a', w(200)); // keeps deadlines (= arrival) in order
    expect(buffer.waiting('a')).toBe(4);
    expect(buffer.enqueue('a', w(500))).toBe(false);
    expect(buffer.shift('a')?.id).toBe(100);
    buffer.requeue('a', w(150)); // goes into the room the shift left at the head
    expect(buffer.expire(250).map((e) => e.item.id)).toEqual([150, 200]);
    expect(buffer.takeOldest('a', 10).map((x) => x.id)).toEqual([300, 400]);
    buffer.requeue('b', w(1));
    expect(buffer.shift('b')?.id).toBe(1);
    expect([...buffer.keys()]).toEqual([]);
  });

  it('requeue after equal deadlines keeps the earlier ones first', () => {
    const buffer = new OverflowBuffer<ReturnType<typeof w>>();
    buffer.enqueue('a', w(100, 1));
    buffer.requeue('a', w(100, 2));
    buffer.requeue('a', w(50, 3));
    expect(buffer.takeOldest('a', 3).map((x) => x.id)).toEqual([3, 1, 2]);
  });

  it('stays FIFO across many shifts (head compaction)', () => {
    const buffer = new OverflowBuffer<ReturnType<typeof w>>({ limit: 1000 });
    const out: number[] = [];
    for (let i = 0; i < 300; i++) {
      buffer.enqueue('a', w(i));
      if (i % 3 === 2) out.push(buffer.shift('a')!.id);
    }
    for (let x = buffer.shift('a'); x !== undefined; x = buffer.shift('a')) out.push(x.id);
    expect(out).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});
