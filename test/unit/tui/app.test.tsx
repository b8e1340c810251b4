import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../../src/tui/app.js';
import { startFakeWatchServer, type FakeWatchServer } from './fake-watch-server.js';
import { snapshot } from './fixtures.js';

const AUTH = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret';
const ARROW_DOWN = '\u001B[B';

describe('App against a fake watch server', () => {
  let server: FakeWatchServer | undefined;
  let view: ReturnType<typeof render> | undefined;
  afterEach(async () => {
    view?.unmount();
    view = undefined;
    await server?.close();
    server = undefined;
  });

  const frame = () => view?.lastFrame() ?? '';

  it('connects, shows a snapshot, shows the loss, reconnects and shows data again', async () => {
    server = await startFakeWatchServer();
    server.greeting = snapshot();
    view = render(<App apihost={server.apihost} auth={AUTH} backoff={{ initialMs: 10, maxMs: 50 }} />);
    await vi.waitFor(() => expect(frame()).toContain('● connected'));
    expect(frame()).toContain('guest/slow');
    expect(frame()).toContain('run0000');

    server.down();
    await vi.waitFor(() => expect(frame()).toContain('○ disconnected — reconnecting'));
    // the last picture stays while reconnecting
    expect(frame()).toContain('guest/slow');

    server.greeting = snapshot({ controllerId: 'ctl-2' });
    server.up();
    await vi.waitFor(() => expect(frame()).toContain('● connected'));
    expect(frame()).toContain('ctl ctl-2');
    expect(frame()).not.toContain('connection lost');
  });

  it('shows an invalid message as an error and keeps running', async () => {
    server = await startFakeWatchServer();
    server.greeting = snapshot();
    view = render(<App apihost={server.apihost} auth={AUTH} />);
    await vi.waitFor(() => expect(frame()).toContain('guest/slow'));
    server.send('{"at":"yesterday"}');
    await vi.waitFor(() => expect(frame()).toContain('! the watch stream sent an invalid snapshot at at: Expected number, received string'));
    server.send(snapshot({ controllerId: 'ctl-9' }));
    await vi.waitFor(() => expect(frame()).toContain('ctl ctl-9'));
  });

  it('switches panes and selects rows with keys, and adapts to a resize', async () => {
    server = await startFakeWatchServer();
    server.greeting = snapshot();
    view = render(<App apihost={server.apihost} auth={AUTH} />);
    await vi.waitFor(() => expect(frame()).toContain('guest/slow'));
    view.stdin.write('5');
    await vi.waitFor(() => expect(frame()).toContain('pane 5 decisions'));
    expect(frame()).not.toContain('AGENTS 2');
    view.stdin.write(ARROW_DOWN);
    view.stdin.write('s');
    await vi.waitFor(() => expect(frame()).toContain('SCHEDULER DECISIONS 3 · 1 rejected · sort kind'));

    Object.defineProperty(view.stdout, 'columns', { value: 60, configurable: true });
    Object.defineProperty(view.stdout, 'rows', { value: 12, configurable: true });
    view.stdout.emit('resize');
    await vi.waitFor(() => {
      const lines = frame().split('\n');
      expect(lines.length).toBe(11);
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(60);
    });
  });

  it('quits on q: the app unmounts and its connection closes', async () => {
    server = await startFakeWatchServer();
    server.greeting = snapshot();
    view = render(<App apihost={server.apihost} auth={AUTH} />);
    await vi.waitFor(() => expect(server!.clients()).toBe(1));
    view.stdin.write('q');
    await vi.waitFor(() => expect(server!.clients()).toBe(0));
  });
});
