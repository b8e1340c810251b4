import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/daemon/log.js';

describe('createLogger', () => {
  it('drops lines below the level and writes the rest as JSON', () => {
    const lines: string[] = [];
    const log = createLogger({ component: 'scheduler', level: 'warn', format: 'json', write: (l) => lines.push(l) });
    log('info', 'hidden');
    log('error', 'boom', { agent: 'a1' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', component: 'scheduler', msg: 'boom', agent: 'a1' });
  });

  it('writes text lines with fields', () => {
    const lines: string[] = [];
    const log = createLogger({ component: 'agent', write: (l) => lines.push(l) });
    log('debug', 'hidden');
    log('info', 'container ready', { id: 'c1', port: 4000 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ INFO  \[agent\] container ready id=c1 port=4000\n$/);
  });
});
