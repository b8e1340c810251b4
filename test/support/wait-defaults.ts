/**
 * vitest setup: `vi.waitFor` waits up to 10 s by default instead of 1 s. The integration and e2e
 * tests wait for real daemons and processes on a shared two-core machine (CI runs two test files at
 * once); how long a condition takes to become true is never what a test asserts, so the ceiling
 * only separates "slow" from "never". A test that passes its own timeout keeps it.
 */
import { vi } from 'vitest';

const DEFAULT_TIMEOUT_MS = 10_000;
const waitFor = vi.waitFor.bind(vi);

vi.waitFor = ((callback: Parameters<typeof waitFor>[0], options?: Parameters<typeof waitFor>[1]) =>
  waitFor(callback, typeof options === 'number' ? options : { timeout: DEFAULT_TIMEOUT_MS, ...options })) as typeof vi.waitFor;
