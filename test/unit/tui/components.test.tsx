import { describe, expect, it } from 'vitest';
import { ActivationsPane } from '../../../src/tui/components/activations-pane.js';
import { AgentsPane } from '../../../src/tui/components/agents-pane.js';
import { Footer } from '../../../src/tui/components/footer.js';
import { Header } from '../../../src/tui/components/header.js';
import { selectActivations } from '../../../src/tui/select.js';
import { activation, agent, AT, snapshot } from './fixtures.js';
import { APIHOST, renderLines, renderScreen, stateAfter } from './render.js';

const key = (input: string, name?: 'escape' | 'return' | 'down') => ({ type: 'key', key: name === undefined ? { input } : { input, name } }) as const;

describe('the screen at 80×24', () => {
  const state = stateAfter({ columns: 80, rows: 24 }, { type: 'connected' }, { type: 'snapshot', snapshot: snapshot() });
  const lines = renderScreen(state);

  it('fits: at most 23 lines (Ink redraws a full-height frame by clearing) of at most 80 characters', () => {
    expect(lines.length).toBe(23);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('shows the connection, the totals and every pane of the overview', () => {
    expect(lines[0]).toBe(`brisk top  ${APIHOST}  ns guest  ● connected`);
    expect(lines[1]).toBe('scheduler up · queue 2/100 · mem 1.2G/6.0G · containers 11 (4 busy) · ctl ctl-1');
    expect(lines).toContain('AGENTS 2 · 11 containers · sort agent');
    expect(lines).toContain('AGENT            BACKEND BUSY IDLE PAUSED PREWARM STARTING MEMORY');
    expect(lines).toContain('agent-b          process    3    0      1       2        1 █████░░░░░ 1.0G/2.0G');
    expect(lines).toContain('ACTION                            WARM INFLIGHT QUEUED  REQ/S    P50    P99 COLD');
    expect(lines).toContain('guest/slow                           1        3      2    120   1.5s   2.2s    4');
    expect(lines).toContain('ACTIVATIONS 1 in flight · 2 recent · sort started');
    expect(lines).toContain('run0000… guest/slow          running    700ms    5ms      -    1ms      -      -');
    expect(lines).toContain('old0000… guest/hello         success    160ms    2ms  110ms      -   30ms   18ms');
    expect(lines).toContain('SCHEDULER DECISIONS 3 · 1 rejected · sort time');
    expect(lines).toContain('  1.5s reject           guest/big            -          no agent has 4096 MB fr…');
    expect(lines[22]).toBe('pane 1 all (1-5, Tab) · s sort · r reverse · / filter · ↑↓ select · q quit');
  });

  it('shows one pane alone, with the selected row kept in view', () => {
    const recent = Array.from({ length: 40 }, (_, i) => activation({ activationId: `a${String(i).padStart(3, '0')}`, startedAt: AT - 10_000 + i }));
    const many = stateAfter({ columns: 80, rows: 24 }, { type: 'snapshot', snapshot: snapshot({ inFlight: [], recent }) }, key('4'), ...Array.from({ length: 25 }, () => key('j')));
    const pane = renderScreen(many);
    // 24 rows - 1 spare - 2 header - 1 footer = 20 lines: title, column header, 18 rows; row 26 selected
    expect(pane[2]).toBe('ACTIVATIONS 0 in flight · 40 recent · sort started  9–26 of 40');
    expect(pane[4]).toBe('a031     guest/hello         success     12ms      -      -      -      -   10ms');
    expect(pane[21]).toBe('a014     guest/hello         success     12ms      -      -      -      -   10ms'.padEnd(80));
    expect(pane[22]).toBe('pane 4 activations (1-5, Tab) · s sort · r reverse · / filter · ↑↓ select · q q…');
  });
});

describe('the screen on a bigger terminal', () => {
  it('uses the width: whole reasons and ids', () => {
    const state = stateAfter({ columns: 140, rows: 40 }, { type: 'snapshot', snapshot: snapshot() });
    const lines = renderScreen(state);
    expect(lines.length).toBe(39);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(140);
    expect(lines.some((l) => l.endsWith('agent-b    no warm container or stem cell; agent-b has room'))).toBe(true);
    expect(lines.some((l) => l.startsWith('run0000000000001                 guest/slow'))).toBe(true);
  });

  it('adapts when the terminal is resized', () => {
    const big = stateAfter({ columns: 140, rows: 40 }, { type: 'snapshot', snapshot: snapshot() });
    const small = renderScreen({ ...big, columns: 80, rows: 24 });
    expect(small.length).toBe(23);
    expect(Math.max(...small.map((l) => l.length))).toBeLessThanOrEqual(80);
  });
});

describe('connection status and errors', () => {
  it('shows a lost connection with its reason and keeps the last data', () => {
    const state = stateAfter({ columns: 80, rows: 24 }, { type: 'snapshot', snapshot: snapshot() }, { type: 'disconnected', reason: 'connection refused' });
    const lines = renderScreen(state);
    expect(lines[0]).toBe(`brisk top  ${APIHOST}  ns guest  ○ disconnected — reconnecting`);
    expect(lines[2]).toBe('connection lost: connection refused');
    expect(lines.length).toBe(23);
    expect(lines).toContain('guest/slow                           1        3      2    120   1.5s   2.2s    4');
  });

  it('says it is waiting before the first snapshot', () => {
    const lines = renderScreen(stateAfter({ columns: 80, rows: 24 }));
    expect(lines[0]).toBe(`brisk top  ${APIHOST}  … connecting`);
    expect(lines[1]).toBe('waiting for the first snapshot…');
    expect(lines).toContain('no scheduler data yet');
    expect(lines).toContain('no activations yet');
  });

  it('shows the last error on its own line', () => {
    const lines = renderScreen(stateAfter({ columns: 80, rows: 24 }, { type: 'snapshot', snapshot: snapshot() }, { type: 'invalid', message: 'the watch stream sent an invalid snapshot at at: Required' }));
    expect(lines[2]).toBe('! the watch stream sent an invalid snapshot at at: Required');
    expect(lines.length).toBe(23);
  });
});

describe('leaf components', () => {
  it('AgentsPane marks a lost agent and draws memory as a bar', () => {
    const agents = [agent({ agentId: 'h1', connected: false, usedMB: 2048, memoryMB: 2048 })];
    const lines = renderLines(<AgentsPane agents={agents} known sort={{ key: 'memory', reversed: true }} width={80} height={5} />, 80);
    expect(lines).toEqual([
      'AGENTS 1 · 4 containers · sort memory (reversed)',
      'AGENT            BACKEND BUSY IDLE PAUSED PREWARM STARTING MEMORY',
      'h1 (down)        process    1    1      0       2        0 ██████████ 2.0G/2.0G',
    ]);
  });

  it('ActivationsPane shows where the time went, in-flight first', () => {
    const snap = snapshot();
    const rows = selectActivations(snap, { filter: '', sort: { key: 'started', reversed: false } });
    const lines = renderLines(<ActivationsPane rows={rows} at={snap.at} sort={{ key: 'started', reversed: false }} width={100} height={10} />, 100);
    expect(lines).toEqual([
      'ACTIVATIONS 1 in flight · 2 recent · sort started',
      'ID                         ACTION               STATUS      TOTAL   WAIT CREATE RESUME   INIT    RUN',
      'run0000000000001           guest/slow           running     700ms    5ms      -    1ms      -      -',
      'old0000000000002           guest/hello          app error     4ms      -      -      -      -    3ms',
      'old0000000000001           guest/hello          success     160ms    2ms  110ms      -   30ms   18ms',
    ]);
  });

  it('Header and Footer cut to the width', () => {
    const header = renderLines(<Header apihost={APIHOST} connection={{ status: 'connected' }} snapshot={snapshot()} lastError={undefined} width={40} />, 40);
    expect(header).toEqual(['brisk top  http://127.0.0.1:3233  ns gu…', 'scheduler up · queue 2/100 · mem 1.2G/6…']);
    expect(renderLines(<Footer pane="agents" filter="hel" editingFilter width={80} />, 80)).toEqual(['filter: hel▏  Enter keep · Esc clear']);
    expect(renderLines(<Footer pane="agents" filter="hel" editingFilter={false} width={200} />, 200)).toEqual([
      'filter "hel" (Esc clears) · pane 2 agents (1-5, Tab) · s sort · r reverse · / filter · ↑↓ select · q quit',
    ]);
  });

  it('filters every pane with the typed text', () => {
    const state = stateAfter({ columns: 80, rows: 24 }, { type: 'snapshot', snapshot: snapshot() }, key('/'), key('s'), key('l'), key('o'), key('', 'return'));
    const lines = renderScreen(state);
    expect(lines.filter((l) => l.includes('guest/hello'))).toEqual([]);
    expect(lines).toContain('guest/slow                           1        3      2    120   1.5s   2.2s    4');
    expect(lines).toContain('ACTIVATIONS 1 in flight · 0 recent · sort started');
  });
});
