import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type Message } from '../../../src/daemon/protocol.js';

describe('protocol encode/decode', () => {
  it('round-trips every kind of message it is given', () => {
    const messages: Message[] = [
      { type: 'hello', protocol: 1, role: 'agent', id: 'agent-1' },
      { type: 'acquire', requestId: 'r1', action: { namespace: 'guest', name: 'hello', revision: '0.0.1@1', kind: 'nodejs:20', memoryMB: 256 }, deadline: 1000 },
      { type: 'container.create', containerId: 'c1', kind: 'nodejs:20', memoryMB: 256, prewarm: true },
      { type: 'logs.collect', requestId: 'r2', containerId: 'c1', activationId: 'a'.repeat(32), limitBytes: 10, waitForSentinels: true },
      { type: 'release', containerIds: ['c1', 'c2'], reason: 'idle' },
    ];
    for (const message of messages) expect(decodeMessage(encodeMessage(message))).toEqual(message);
  });

  it('accepts a Buffer frame', () => {
    expect(decodeMessage(Buffer.from('{"type":"evict","containerId":"c9"}'))).toEqual({ type: 'evict', containerId: 'c9' });
  });

  it('rejects a frame that is not JSON', () => {
    expect(() => decodeMessage('{nope')).toThrow(expect.objectContaining({ code: 'PROTOCOL_INVALID_MESSAGE', message: 'frame is not valid JSON' }));
  });

  it('rejects an unknown type, naming it', () => {
    expect(() => decodeMessage('{"type":"launch.missiles"}')).toThrow(expect.objectContaining({ code: 'PROTOCOL_INVALID_MESSAGE' }));
    expect(() => decodeMessage('{"type":"launch.missiles"}')).toThrow(/launch\.missiles/);
  });

  it('rejects a message that fails its schema, naming the field', () => {
    expect(() => decodeMessage(JSON.stringify({ type: 'container.create', containerId: 'c1', kind: 'nodejs:20', memoryMB: -5, prewarm: false }))).toThrow(
      /container\.create: memoryMB/,
    );
    expect(() => decodeMessage(JSON.stringify({ type: 'logs.collect', requestId: 'r', containerId: 'c', activationId: 'xyz', limitBytes: 0, waitForSentinels: true }))).toThrow(
      /activationId/,
    );
  });

  it('rejects a message with no type', () => {
    expect(() => decodeMessage('{"containerId":"c1"}')).toThrow(/\(none\)/);
  });
});
