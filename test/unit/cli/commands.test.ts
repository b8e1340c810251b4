/**
 * Commands in-process (convention 16, first layer): the real command classes against a fake API on
 * port 0, stdout captured, the config dir private.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import ActionInvoke from '../../../src/commands/action/invoke.js';
import ActionList from '../../../src/commands/action/list.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let server: Server | undefined;
let configDir: string;
let savedEnv: string | undefined;
let out: string[];

beforeEach(async () => {
  configDir = await mkdtemp(join(tmpdir(), 'brisk-cmd-'));
  savedEnv = process.env.BRISK_CONFIG_DIR;
  process.env.BRISK_CONFIG_DIR = configDir;
  out = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterEach(async () => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  if (savedEnv === undefined) delete process.env.BRISK_CONFIG_DIR;
  else process.env.BRISK_CONFIG_DIR = savedEnv;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await rm(configDir, { recursive: true, force: true });
});

async function fakeApi(handler: (method: string, url: string, body: string) => { status: number; body: unknown }): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const answer = handler(req.method ?? '', req.url ?? '', body);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

function activation(success: boolean, result: unknown) {
  return {
    namespace: 'guest',
    name: 'hello',
    activationId: 'c'.repeat(32),
    start: 1,
    end: 2,
    duration: 1,
    response: { status: success ? 'success' : 'application error', success, result },
    logs: [],
    annotations: [],
  };
}

describe('action invoke (in-process)', () => {
  it('--result --json prints the result envelope and sends -p values parsed as JSON', async () => {
    const seen: string[] = [];
    const apihost = await fakeApi((method, url, body) => {
      seen.push(`${method} ${url} ${body}`);
      return { status: 200, body: activation(true, { greeting: 'Hello, Ada!' }) };
    });
    await ActionInvoke.run(['hello', '-p', 'name', 'Ada', '-p', 'n', '2', '--result', '--json', '--apihost', apihost, '--auth', 'u:k'], ROOT);
    expect(JSON.parse(out.join(''))).toEqual({ status: 0, result: { greeting: 'Hello, Ada!' } });
    expect(seen).toEqual(['POST /api/v1/namespaces/_/actions/hello?blocking=true {"name":"Ada","n":2}']);
    expect(process.exitCode).toBeUndefined();
  });

  it('a failed blocking activation sets exit code 1 and prints the error envelope with the result', async () => {
    const apihost = await fakeApi(() => ({ status: 502, body: activation(false, { error: 'nope' }) }));
    await ActionInvoke.run(['hello', '-r', '--json', '--apihost', apihost, '--auth', 'u:k'], ROOT);
    expect(process.exitCode).toBe(1);
    expect(JSON.parse(out.join(''))).toMatchObject({ status: 1, code: 'ACTIVATION_FAILED', data: { activationId: 'c'.repeat(32), result: { error: 'nope' } } });
  });

  it('non-blocking prints the wsk line', async () => {
    const apihost = await fakeApi(() => ({ status: 202, body: { activationId: 'd'.repeat(32) } }));
    await ActionInvoke.run(['hello', '--apihost', apihost, '--auth', 'u:k'], ROOT);
    expect(out.join('')).toBe(`ok: invoked /_/hello with id ${'d'.repeat(32)}\n`);
  });

  it('with nothing configured, tells the operator to run brisk up (exit 2)', async () => {
    await ActionInvoke.run(['hello', '--json'], ROOT);
    expect(process.exitCode).toBe(2);
    expect(JSON.parse(out.join(''))).toMatchObject({ status: 2, code: 'CONFIG_INVALID', hint: expect.stringContaining('brisk up') });
  });
});

describe('action list (in-process)', () => {
  it('prints a table for people', async () => {
    const apihost = await fakeApi(() => ({
      status: 200,
      body: [{ namespace: 'guest', name: 'hello', version: '0.0.2', exec: { binary: false }, limits: { timeout: 3000, memory: 128 }, annotations: [{ key: 'exec', value: 'nodejs:20' }], updated: Date.UTC(2024, 0, 1) }],
    }));
    await ActionList.run(['--apihost', apihost, '--auth', 'u:k'], ROOT);
    expect(out.join('').split('\n')).toEqual([
      'NAME          KIND       VERSION  MEMORY  TIMEOUT  UPDATED',
      '/guest/hello  nodejs:20  0.0.2    128 MB  3000 ms  2024-01-01 00:00:00',
      '',
    ]);
  });
});
