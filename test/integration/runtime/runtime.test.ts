import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOG_SENTINEL } from '../../../src/model/activation.js';
import { parseLine } from '../../../src/runtime/framing.js';

const ENTRY = fileURLToPath(new URL('../../../dist/src/runtime/main.js', import.meta.url));

interface Runtime {
  url: string;
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
}

let running: Runtime[] = [];

beforeAll(() => {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`npm run build\` first (npm test does).`);
});

afterEach(async () => {
  await Promise.all(
    running.map(
      (r) =>
        new Promise<void>((resolve) => {
          if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve();
          r.child.once('exit', () => resolve());
          r.child.kill('SIGKILL');
        }),
    ),
  );
  running = [];
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRuntime(env: Record<string, string> = {}): Promise<Runtime> {
  const port = await freePort();
  const child = spawn(process.execPath, [ENTRY], {
    env: { PATH: process.env.PATH ?? '', __OW_PORT: String(port), __OW_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const runtime: Runtime = { url: `http://127.0.0.1:${port}`, child, stdout: [], stderr: [] };
  running.push(runtime);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
    const lines = out.split('\n');
    out = lines.pop() ?? '';
    runtime.stdout.push(...lines);
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
    const lines = err.split('\n');
    err = lines.pop() ?? '';
    runtime.stderr.push(...lines);
  });
  await vi.waitFor(
    async () => {
      const res = await fetch(`${runtime.url}/health`).catch(() => undefined);
      expect(res?.status).toBe(500);
    },
    { timeout: 10_000, interval: 20 },
  );
  return runtime;
}

async function post(runtime: Runtime, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${runtime.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.headers.get('content-type')).toBe('application/json');
  return { status: res.status, body: await res.json() };
}

const ID1 = '1'.repeat(32);
const ID2 = '2'.repeat(32);

describe('runtime over HTTP', () => {
  it('answers 500 Bad request. for other routes', async () => {
    const rt = await startRuntime();
    const res = await fetch(`${rt.url}/other`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'Bad request.' });
  });

  it('inits once and runs with __OW_ env and init env', async () => {
    const rt = await startRuntime({ __OW_API_HOST: 'http://api.test' });
    const code = `function main(p) { return { p, id: process.env.__OW_ACTIVATION_ID, ns: process.env.__OW_NAMESPACE,
      api: process.env.__OW_API_HOST, secret: process.env.SECRET } }`;
    expect(await post(rt, '/run', { value: {} })).toEqual({ status: 403, body: { error: 'System not initialized.' } });
    expect(await post(rt, '/init', { value: { name: 'a', main: 'main', code, env: { SECRET: 's3' } } })).toEqual({ status: 200, body: { OK: true } });
    expect(await post(rt, '/init', { value: { name: 'a', main: 'main', code } })).toEqual({
      status: 403,
      body: { error: 'Cannot initialize the action more than once.' },
    });
    expect(await post(rt, '/run', { value: { x: 1 }, activation_id: ID1, namespace: 'guest' })).toEqual({
      status: 200,
      body: { p: { x: 1 }, id: ID1, ns: 'guest', api: 'http://api.test', secret: 's3' },
    });
    expect(await post(rt, '/run', { value: 3 })).toEqual({ status: 403, body: { error: 'The action input is not a JSON object.' } });
  });

  it('answers 403 for init without code', async () => {
    const rt = await startRuntime();
    expect(await post(rt, '/init', { value: { main: 'main' } })).toEqual({ status: 403, body: { error: 'Missing main/no code to execute.' } });
  });

  it('stops after a failed init and prints the sentinels', async () => {
    const rt = await startRuntime();
    const reply = await post(rt, '/init', { value: { main: 'main', code: 'function main( {' } });
    expect(reply.status).toBe(502);
    expect((reply.body as { error: string }).error).toMatch(/^Initialization has failed due to: /);
    expect(await post(rt, '/run', { value: {} })).toEqual({ status: 403, body: { error: 'System not ready, status is stopped.' } });
    await vi.waitFor(() => {
      expect(rt.stdout).toContain(LOG_SENTINEL);
      expect(rt.stderr).toContain(LOG_SENTINEL);
    });
  });

  it('maps async results, rejections and synchronous throws', async () => {
    const rt = await startRuntime();
    const code = `async function main(p) {
      if (p.mode === 'reject') return Promise.reject(new Error('nope'));
      if (p.mode === 'string') return 'str';
      await new Promise((r) => setTimeout(r, 1));
      return { done: true };
    }`;
    await post(rt, '/init', { value: { main: 'main', code } });
    expect(await post(rt, '/run', { value: {} })).toEqual({ status: 200, body: { done: true } });
    expect(await post(rt, '/run', { value: { mode: 'string' } })).toEqual({ status: 502, body: { error: 'The action did not return a dictionary.' } });
    const rejected = await post(rt, '/run', { value: { mode: 'reject' } });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ error: { name: 'Error', message: 'nope' } });

    const thrower = await startRuntime();
    await post(thrower, '/init', { value: { main: 'main', code: 'function main() { throw new Error("bad") }' } });
    expect(await post(thrower, '/run', { value: {} })).toEqual({ status: 502, body: { error: 'An error has occurred: Error: bad' } });
    expect(await post(thrower, '/run', { value: {} })).toEqual({ status: 403, body: { error: 'System not ready, status is stopped.' } });
  });

  it('runs overlapping activations with __OW_ALLOW_CONCURRENT and tags their logs', async () => {
    const rt = await startRuntime({ __OW_ALLOW_CONCURRENT: 'true' });
    // The first activation waits until the second has started, so they truly overlap.
    const code = `let release; const second = new Promise((r) => (release = r));
      async function main(p) {
        console.log('start ' + p.n + ' ' + process.env.__OW_ACTIVATION_ID);
        if (p.n === 1) await second; else release();
        console.error('end ' + p.n);
        return { n: p.n, id: process.env.__OW_ACTIVATION_ID };
      }`;
    await post(rt, '/init', { value: { main: 'main', code } });
    const first = post(rt, '/run', { value: { n: 1 }, activation_id: ID1 });
    await vi.waitFor(() => expect(rt.stdout.map(parseLine)).toContainEqual({ activationId: ID1, text: `start 1 ${ID1}` }));
    const second = post(rt, '/run', { value: { n: 2 }, activation_id: ID2 });
    expect(await Promise.all([first, second])).toEqual([
      { status: 200, body: { n: 1, id: ID1 } },
      { status: 200, body: { n: 2, id: ID2 } },
    ]);
    await vi.waitFor(() => expect(rt.stderr.filter((l) => l.endsWith(LOG_SENTINEL))).toHaveLength(2));
    const byId = (lines: string[], id: string) => lines.map(parseLine).filter((l) => l.activationId === id).map((l) => l.text);
    expect(byId(rt.stdout, ID1)).toEqual([`start 1 ${ID1}`, LOG_SENTINEL]);
    expect(byId(rt.stdout, ID2)).toEqual([`start 2 ${ID2}`, LOG_SENTINEL]);
    expect(byId(rt.stderr, ID1)).toEqual(['end 1', LOG_SENTINEL]);
    expect(byId(rt.stderr, ID2)).toEqual(['end 2', LOG_SENTINEL]);
  });

  it('refuses an overlapping run without concurrency', async () => {
    const rt = await startRuntime();
    const code = `let release; const gate = new Promise((r) => (release = r));
      globalThis.__open = () => release();
      async function main(p) { if (p.open) { globalThis.__open(); return { opened: true } } console.log('waiting'); await gate; return { waited: true } }`;
    await post(rt, '/init', { value: { main: 'main', code } });
    const first = post(rt, '/run', { value: {}, activation_id: ID1 });
    await vi.waitFor(() => expect(rt.stdout.map(parseLine)).toContainEqual({ activationId: ID1, text: 'waiting' }));
    // the first run is in flight until released, so this one is refused
    const refused = await post(rt, '/run', { value: { open: true }, activation_id: ID2 });
    expect(refused).toEqual({ status: 403, body: { error: 'System not ready, status is running.' } });
    first.catch(() => undefined);
  });
});

/** Resolves when the process has exited and its output is fully read. */
function closed(runtime: Runtime): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (runtime.child.exitCode !== null && runtime.child.stdout?.readableEnded && runtime.child.stderr?.readableEnded) {
      resolve({ code: runtime.child.exitCode, signal: runtime.child.signalCode });
      return;
    }
    runtime.child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

const tagged = (lines: string[], id: string) => lines.map(parseLine).filter((l) => l.activationId === id).map((l) => l.text);
const untagged = (lines: string[]) => lines.map(parseLine).filter((l) => l.activationId === undefined).map((l) => l.text);

describe('errors that escape an action asynchronously', () => {
  const INNOCENT = "The action's container failed because another activation threw an uncaught error: ";
  // The culprit arms its error on a gate and returns (or, with p.stay, keeps running); the sibling
  // opens the gate and keeps running, so the error fires, in the culprit's async context, while the
  // sibling is in flight. p.mode 'throw' throws from a timer, 'reject' leaves a rejection unhandled.
  const code = `let release; const gate = new Promise((r) => (release = r));
    async function main(p) {
      if (p.role === 'culprit') {
        if (p.mode === 'throw') gate.then(() => { setTimeout(() => { throw new Error('async boom') }, 0) });
        else gate.then(() => { throw new Error('rejected boom') });
        console.log('culprit armed');
        if (p.stay) await new Promise(() => {});
        return { culprit: true };
      }
      console.log('sibling waits');
      release();
      await new Promise(() => {});
    }`;

  async function failing(): Promise<Runtime> {
    const rt = await startRuntime({ __OW_ALLOW_CONCURRENT: 'true' });
    expect(await post(rt, '/init', { value: { main: 'main', code } })).toEqual({ status: 200, body: { OK: true } });
    return rt;
  }

  for (const [mode, header] of [
    ['throw', 'Uncaught exception: Error: async boom'],
    ['reject', 'Unhandled promise rejection: Error: rejected boom'],
  ] as const) {
    const err = header.slice(header.indexOf('Error: '));

    it(`${mode}: a culprit that returned keeps its result, the sibling gets 502 not blaming it, the stack is the culprit's, later runs are refused`, async () => {
      const rt = await failing();
      expect(await post(rt, '/run', { value: { role: 'culprit', mode }, activation_id: ID1 })).toEqual({ status: 200, body: { culprit: true } });
      expect(await post(rt, '/run', { value: { role: 'sibling' }, activation_id: ID2 })).toEqual({ status: 502, body: { error: INNOCENT + err } });
      // it stays up, refusing: a run on its way is told it was not started (403), not cut off
      expect(await post(rt, '/run', { value: { role: 'sibling' }, activation_id: 'c'.repeat(32) })).toEqual({ status: 403, body: { error: 'System not ready, status is stopped.' } });
      expect(rt.child.exitCode).toBeNull();

      await vi.waitFor(() => expect(tagged(rt.stderr, ID1).slice(0, 2)).toEqual([LOG_SENTINEL, header]));
      const culpritErr = tagged(rt.stderr, ID1);
      expect(culpritErr.slice(0, 2)).toEqual([LOG_SENTINEL, header]);
      expect(culpritErr.length).toBeGreaterThan(2);
      for (const line of culpritErr.slice(2)) expect(line).toMatch(/^ {4}at /);
      expect(tagged(rt.stderr, ID2)).toEqual([LOG_SENTINEL]);
      expect(tagged(rt.stdout, ID1)).toEqual(['culprit armed', LOG_SENTINEL]);
      expect(tagged(rt.stdout, ID2)).toEqual(['sibling waits', LOG_SENTINEL]);
      expect(untagged(rt.stdout)).toEqual([]);
      expect(untagged(rt.stderr)).toEqual([]);
    });
  }

  it('a culprit still running gets the developer error itself, the sibling the innocent one', async () => {
    const rt = await failing();
    const culprit = post(rt, '/run', { value: { role: 'culprit', mode: 'throw', stay: true }, activation_id: ID1 });
    await vi.waitFor(() => expect(tagged(rt.stdout, ID1)).toEqual(['culprit armed']));
    const sibling = post(rt, '/run', { value: { role: 'sibling' }, activation_id: ID2 });
    expect(await Promise.all([culprit, sibling])).toEqual([
      { status: 502, body: { error: 'An error has occurred: Error: async boom' } },
      { status: 502, body: { error: `${INNOCENT}Error: async boom` } },
    ]);
    expect(await post(rt, '/run', { value: { role: 'sibling' }, activation_id: 'c'.repeat(32) })).toEqual({ status: 403, body: { error: 'System not ready, status is stopped.' } });
    await vi.waitFor(() => expect(tagged(rt.stderr, ID1).at(-1)).toBe(LOG_SENTINEL));
    expect(tagged(rt.stderr, ID1).slice(0, 1)).toEqual(['Uncaught exception: Error: async boom']);
    expect(tagged(rt.stderr, ID1).at(-1)).toBe(LOG_SENTINEL);
    expect(tagged(rt.stderr, ID2)).toEqual([LOG_SENTINEL]);
    expect(untagged(rt.stderr)).toEqual([]);
  });

  it('a rejection at load time (no culprit): /init 200, then every /run is a 502 developer error carrying the stack in its logs', async () => {
    const rt = await startRuntime({ __OW_ALLOW_CONCURRENT: 'true' });
    const loadTime = `Promise.reject(new Error('boom at load')); function main() { return { ran: true } }`;
    expect(await post(rt, '/init', { value: { main: 'main', code: loadTime } })).toEqual({ status: 200, body: { OK: true } });
    const header = 'Unhandled promise rejection: Error: boom at load';
    const reply = { status: 502, body: { error: "The action's container failed because of an uncaught error outside any activation: Error: boom at load" } };
    expect(await post(rt, '/run', { value: {}, activation_id: ID1 })).toEqual(reply);
    expect(await post(rt, '/run', { value: {}, activation_id: ID2 })).toEqual(reply);
    expect(rt.child.exitCode).toBeNull();

    for (const id of [ID1, ID2]) {
      await vi.waitFor(() => expect(tagged(rt.stderr, id).at(-1)).toBe(LOG_SENTINEL));
      const lines = tagged(rt.stderr, id);
      expect(lines[0]).toBe(header);
      expect(lines.length).toBeGreaterThan(2);
      for (const line of lines.slice(1, -1)) expect(line).toMatch(/^ {4}at /);
      expect(tagged(rt.stdout, id)).toEqual([LOG_SENTINEL]);
    }
    // not also written untagged when it happened: the agent would give that copy to the next run too
    expect(untagged(rt.stderr)).toEqual([]);
    expect(untagged(rt.stdout)).toEqual([]);
  });

  it('process.exit() by an action ends the process without untagged output', async () => {
    const rt = await startRuntime({ __OW_ALLOW_CONCURRENT: 'true' });
    const exitCode = `async function main(p) {
      if (p.exit) { console.log('bye'); process.stdout.write('partial'); process.exit(3); }
      console.log('sibling waits');
      await new Promise(() => {});
    }`;
    await post(rt, '/init', { value: { main: 'main', code: exitCode } });
    const exit = closed(rt);
    // settled into a value at once: its rejection (when the process exits) must not go unhandled meanwhile
    const sibling = post(rt, '/run', { value: {}, activation_id: ID2 }).then(
      () => 'answered',
      (error: unknown) => error,
    );
    await vi.waitFor(() => expect(tagged(rt.stdout, ID2)).toEqual(['sibling waits']));
    await expect(post(rt, '/run', { value: { exit: true }, activation_id: ID1 })).rejects.toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    expect(await sibling).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    expect(await exit).toEqual({ code: 3, signal: null });
    expect(tagged(rt.stdout, ID1)).toEqual(['bye', 'partial']);
    expect(tagged(rt.stdout, ID2)).toEqual(['sibling waits']);
    expect(untagged(rt.stdout)).toEqual([]);
    expect(rt.stderr).toEqual([]);
  });
});
