import { describe, expect, it } from 'vitest';
import { toKeyPress } from '../../../src/tui/keys.js';
import { selectActions, selectActivations, selectAgents, selectDecisions } from '../../../src/tui/select.js';
import { initialState, reduce, type KeyPress, type TopEvent, type TopState } from '../../../src/tui/state.js';
import { snapshot } from './fixtures.js';

const press = (state: TopState, ...keys: (string | KeyPress)[]): TopState =>
  keys.reduce<TopState>((s, k) => reduce(s, { type: 'key', key: typeof k === 'string' ? { input: k } : k }), state);
const run = (state: TopState, ...events: TopEvent[]) => events.reduce(reduce, state);

describe('reduce: connection and data', () => {
  it('starts connecting, in the overview, at 80×24', () => {
    const s = initialState();
    expect(s).toMatchObject({ connection: { status: 'connecting' }, pane: 'overview', columns: 80, rows: 24, filter: '', quit: false, snapshot: undefined });
  });

  it('keeps the last snapshot while disconnected and shows the reason', () => {
    const snap = snapshot();
    const s = run(initialState(), { type: 'connected' }, { type: 'snapshot', snapshot: snap }, { type: 'disconnected', reason: 'connection refused' });
    expect(s.connection).toEqual({ status: 'disconnected', reason: 'connection refused' });
    expect(s.snapshot).toBe(snap);
    expect(reduce(s, { type: 'snapshot', snapshot: snap }).connection).toEqual({ status: 'connected' });
  });

  it('records an invalid message as the last error, cleared by the next connection', () => {
    const s = run(initialState(), { type: 'connected' }, { type: 'invalid', message: 'bad' });
    expect(s).toMatchObject({ lastError: 'bad', connection: { status: 'connected' } });
    expect(reduce(s, { type: 'connected' }).lastError).toBeUndefined();
  });

  it('follows the terminal size', () => {
    expect(reduce(initialState(), { type: 'resize', columns: 132, rows: 50 })).toMatchObject({ columns: 132, rows: 50 });
    expect(reduce(initialState(), { type: 'resize', columns: 0, rows: 0 })).toMatchObject({ columns: 1, rows: 1 });
  });
});

describe('reduce: keys', () => {
  it('switches panes with digits and Tab / Shift-Tab', () => {
    const s = initialState();
    expect(press(s, '2').pane).toBe('agents');
    expect(press(s, '3').pane).toBe('actions');
    expect(press(s, '4').pane).toBe('activations');
    expect(press(s, '5', '1').pane).toBe('overview');
    expect(press(s, { input: '', name: 'tab' }, { input: '', name: 'tab' }).pane).toBe('actions');
    expect(press(s, { input: '', name: 'backTab' }).pane).toBe('decisions');
  });

  it('cycles the focused pane\'s sort key with s and reverses it with r', () => {
    const s = press(initialState(), '3', 's');
    expect(s.sort.actions).toEqual({ key: 'action', reversed: false });
    expect(press(s, 's', 's', 's', 's').sort.actions).toEqual({ key: 'rps', reversed: false });
    expect(press(s, 'r').sort.actions).toEqual({ key: 'action', reversed: true });
    // other panes keep theirs
    expect(s.sort.agents).toEqual({ key: 'agent', reversed: false });
  });

  it('sorts the activations from the overview', () => {
    expect(press(initialState(), 's').sort.activations).toEqual({ key: 'duration', reversed: false });
  });

  it('types a filter after /, Enter keeps it, Esc clears it', () => {
    let s = press(initialState(), '/', 'h', 'e', 'x', { input: '', name: 'backspace' }, 'l');
    expect(s).toMatchObject({ editingFilter: true, filter: 'hel' });
    // while typing, q and digits are text
    s = press(s, 'q', '2');
    expect(s).toMatchObject({ filter: 'helq2', pane: 'overview', quit: false });
    s = press(s, { input: '', name: 'return' });
    expect(s).toMatchObject({ editingFilter: false, filter: 'helq2' });
    expect(press(s, { input: '', name: 'escape' })).toMatchObject({ editingFilter: false, filter: '' });
    expect(press(s, '/', { input: '', name: 'escape' })).toMatchObject({ editingFilter: false, filter: '' });
  });

  it('ignores control characters and bounds the filter', () => {
    const s = press(initialState(), '/', '\u001b[A', 'a'.repeat(100));
    expect(s.filter).toBe('[A' + 'a'.repeat(62));
  });

  it('moves the selection of the focused pane, never below 0', () => {
    let s = press(initialState(), '4', { input: '', name: 'down' }, 'j', 'j');
    expect(s.selected.activations).toBe(3);
    s = press(s, { input: '', name: 'up' }, 'k', { input: '', name: 'pageUp' });
    expect(s.selected.activations).toBe(0);
    expect(press(s, { input: '', name: 'pageDown' }).selected).toEqual({ agents: 0, actions: 0, activations: 10, decisions: 0 });
    // the overview has no selection
    expect(press(initialState(), 'j').selected.activations).toBe(0);
  });

  it('quits on q, and on Ctrl-C even while typing a filter', () => {
    expect(press(initialState(), 'q').quit).toBe(true);
    expect(press(initialState(), '/', { input: 'c', ctrl: true }).quit).toBe(true);
    expect(press(initialState(), 'x').quit).toBe(false);
  });

  it('normalises Ink key events', () => {
    expect(toKeyPress('', { upArrow: true })).toEqual({ input: '', name: 'up' });
    expect(toKeyPress('', { tab: true, shift: true })).toEqual({ input: '', name: 'backTab' });
    expect(toKeyPress('', { delete: true })).toEqual({ input: '', name: 'backspace' });
    expect(toKeyPress('c', { ctrl: true })).toEqual({ input: 'c', ctrl: true });
    expect(toKeyPress('s', {})).toEqual({ input: 's' });
  });
});

describe('select', () => {
  const snap = snapshot();
  const natural = (key: string) => ({ key, reversed: false });

  it('sorts agents by name, memory or busy containers', () => {
    expect(selectAgents(snap, { filter: '', sort: natural('agent') }).map((a) => a.agentId)).toEqual(['agent-a', 'agent-b']);
    expect(selectAgents(snap, { filter: '', sort: natural('memory') }).map((a) => a.agentId)).toEqual(['agent-b', 'agent-a']);
    expect(selectAgents(snap, { filter: 'RUNC', sort: natural('agent') }).map((a) => a.agentId)).toEqual(['agent-a']);
  });

  it('sorts actions by rate (default), name, or reversed', () => {
    expect(selectActions(snap, { filter: '', sort: natural('rps') }).map((a) => a.action)).toEqual(['guest/slow', 'guest/hello', 'guest/idle']);
    expect(selectActions(snap, { filter: '', sort: { key: 'action', reversed: true } }).map((a) => a.action)).toEqual(['guest/slow', 'guest/idle', 'guest/hello']);
    expect(selectActions(snap, { filter: 'hel', sort: natural('rps') }).map((a) => a.action)).toEqual(['guest/hello']);
  });

  it('lists in-flight activations before recent ones, each newest first', () => {
    const rows = selectActivations(snap, { filter: '', sort: natural('started') });
    expect(rows.map((r) => [r.activation.activationId, r.inFlight])).toEqual([
      ['run0000000000001', true],
      ['old0000000000002', false],
      ['old0000000000001', false],
    ]);
    expect(selectActivations(snap, { filter: '', sort: natural('duration') }).map((r) => r.activation.activationId)).toEqual(['run0000000000001', 'old0000000000001', 'old0000000000002']);
    expect(selectActivations(snap, { filter: 'error', sort: natural('started') }).map((r) => r.activation.activationId)).toEqual(['old0000000000002']);
    expect(selectActivations(undefined, { filter: '', sort: natural('started') })).toEqual([]);
  });

  it('lists decisions newest first and filters on the reason too', () => {
    expect(selectDecisions(snap, { filter: '', sort: natural('time') }).map((d) => d.kind)).toEqual(['create', 'reject', 'assignStemCell']);
    expect(selectDecisions(snap, { filter: '4096 MB', sort: natural('time') }).map((d) => d.kind)).toEqual(['reject']);
    expect(selectDecisions(snapshot({ cluster: undefined }), { filter: '', sort: natural('time') })).toEqual([]);
  });
});
