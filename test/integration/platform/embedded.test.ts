import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startPlatform, type Platform } from '../../../src/cli/platform.js';

let dir: string | undefined;
let platform: Platform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('the embedded platform of `brisk up`', () => {
  it('lets an in-flight activation finish when it shuts down', async () => {
    dir = await mkdtemp(join(tmpdir(), 'brisk-embedded-'));
    platform = await startPlatform({ dataDir: join(dir, 'data'), token: 'embedded-test', port: 0, memoryMB: 1024 });
    const auth = `Basic ${Buffer.from(platform.auth).toString('base64')}`;
    const headers = { authorization: auth, 'content-type': 'application/json' };
    const code = "async function main({ file }) { require('fs').writeFileSync(file, 'started'); await new Promise((r) => setTimeout(r, 300)); return { done: true }; }";
    const put = await fetch(`${platform.apihost}/api/v1/namespaces/_/actions/slowpoke`, { method: 'PUT', headers, body: JSON.stringify({ exec: { kind: 'nodejs:default', code } }) });
    expect(put.status).toBe(200);

    const marker = join(dir, 'started');
    const invoke = fetch(`${platform.apihost}/api/v1/namespaces/_/actions/slowpoke?blocking=true`, { method: 'POST', headers, body: JSON.stringify({ file: marker }) });
    await vi.waitFor(() => expect(existsSync(marker)).toBe(true), { timeout: 10_000 });
    const closing = platform.close();
    const reply = await invoke;
    expect(reply.status).toBe(200);
    expect(await reply.json()).toMatchObject({ response: { status: 'success', result: { done: true } } });
    await closing;
    platform = undefined;
  });
});
