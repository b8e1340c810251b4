/**
 * `brisk doctor`: probe the host (effects), judge the facts (pure), summarise. See probe.ts and checks.ts.
 */
import { runChecks, summarize, type CheckOptions, type CheckResult, type DoctorSummary } from './checks.js';
import type { HostFacts } from './facts.js';
import { probeHost, type ProbeOptions } from './probe.js';

export type { CheckResult, CheckStatus, DoctorBackend, DoctorSummary } from './checks.js';
export type { HostFacts } from './facts.js';

export interface DoctorReport {
  checks: CheckResult[];
  summary: DoctorSummary;
  facts: HostFacts;
}

export interface DoctorOptions extends ProbeOptions, CheckOptions {}

/** Probes this host and runs every check. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const facts = await probeHost(options);
  const checks = runChecks(facts, options.backend === undefined ? {} : { backend: options.backend });
  return { checks, summary: summarize(checks), facts };
}
