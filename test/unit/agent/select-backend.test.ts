import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src/agent/backends/select.js';

describe('selectBackend', () => {
  const all = { root: true, runc: '/usr/sbin/runc', ip: '/usr/sbin/ip', nft: '/usr/sbin/nft' };

  it('takes an explicit choice as it is', () => {
    expect(selectBackend('docker', { root: false, runc: undefined })).toEqual({ name: 'docker', reason: '--backend docker' });
    expect(selectBackend('process', all)).toEqual({ name: 'process', reason: '--backend process' });
  });

  it('picks runc when root with runc, ip and nft, and says so', () => {
    expect(selectBackend('auto', all)).toEqual({ name: 'runc', reason: 'running as root and runc is installed at /usr/sbin/runc' });
  });

  it('falls back to process with the reason', () => {
    expect(selectBackend('auto', { ...all, root: false })).toEqual({ name: 'process', reason: 'not running as root: actions run as plain processes, without isolation' });
    expect(selectBackend('auto', { ...all, runc: undefined })).toEqual({ name: 'process', reason: 'runc is not installed: actions run as plain processes, without isolation' });
    expect(selectBackend('auto', { ...all, nft: undefined })).toEqual({
      name: 'process',
      reason: 'runc is installed but nft (nftables) is not: actions run as plain processes, without isolation',
    });
    expect(selectBackend('auto', { ...all, ip: undefined, nft: undefined }).reason).toBe(
      'runc is installed but ip (iproute2) and nft (nftables) are not: actions run as plain processes, without isolation',
    );
  });
});
