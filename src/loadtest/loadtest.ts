/**
 * `brisk loadtest` as one library function: check the actions, run the engine, read the activation
 * records of (a bounded sample of) the run, classify them, and build the report.
 */
import { createClient, type BriskClient } from '../client/client.js';
import { BriskError, NotFoundError } from '../errors.js';
import { breakdown, DEFAULT_MAX_CLASSIFIED, pickForClassification } from './classify.js';
import { fetchClasses, recordGetter, type GetRecord } from './records.js';
import { buildReport, type LoadtestReport } from './report.js';
import { createHttpInvoker, runEngine, type EngineOptions, type InvokeFn } from './run.js';
import { checkStop, MAX_ACTIONS } from './schedule.js';

/** The engine's options (without its test seams: the clock and the random source), plus where to send and how to classify. */
export interface LoadtestOptions extends Omit<EngineOptions, 'invoke' | 'now' | 'random'> {
  apihost: string;
  /** `uuid:key` */
  auth: string;
  /** most records read to classify; default DEFAULT_MAX_CLASSIFIED (10 000), a uniform random subset beyond */
  maxClassified?: number;
  /** record reads at once; default 8 */
  classifyConcurrency?: number;
  /** test seams */
  invoke?: InvokeFn;
  getRecord?: GetRecord;
  client?: BriskClient;
}

export interface LoadtestOutcome {
  report: LoadtestReport;
  /** the activation ids whose records were read for the per-class split */
  classifiedIds: string[];
}

/** Throws NotFoundError naming the first action that does not exist, so a typo fails before any load is sent. */
export async function checkActions(client: BriskClient, names: readonly string[], concurrency = 8): Promise<void> {
  const distinct = [...new Set(names)];
  let next = 0;
  const worker = async () => {
    while (next < distinct.length) {
      const name = distinct[next++]!;
      try {
        await client.actions.get(name, { code: false });
      } catch (error) {
        if (error instanceof BriskError && error.code === 'NOT_FOUND') {
          throw new NotFoundError(`The action '${name}' does not exist.`, { hint: 'Create it with `brisk action create`, or check the name with `brisk action list`.' });
        }
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, distinct.length) }, worker));
}

/**
 * Every action of the credentials' namespace whose name starts with `prefix`, in name order, at most
 * MAX_ACTIONS. Throws NotFoundError when none does.
 */
export async function actionsWithPrefix(client: BriskClient, prefix: string): Promise<string[]> {
  const names: string[] = [];
  const page = 200;
  for (let skip = 0; ; skip += page) {
    const batch = await client.actions.list({ limit: page, skip });
    for (const action of batch) if (action.name.startsWith(prefix)) names.push(action.name);
    if (batch.length < page || names.length > MAX_ACTIONS) break;
  }
  if (names.length === 0) throw new NotFoundError(`No action's name starts with '${prefix}'.`, { hint: 'Check the prefix with `brisk action list`.' });
  return names.sort().slice(0, MAX_ACTIONS);
}

/** Runs a load test against a running API and reports on it. Rejects only before sending (bad input, unknown action, API unreachable). */
export async function runLoadtest(options: LoadtestOptions): Promise<LoadtestOutcome> {
  checkStop(options.stop);
  const client = options.client ?? createClient({ apihost: options.apihost, auth: options.auth });
  await checkActions(
    client,
    options.targets.map((t) => t.name),
  );
  const connections = options.mode.kind === 'closed' ? options.mode.concurrency : options.mode.maxInFlight;
  const http = options.invoke === undefined ? createHttpInvoker({ apihost: options.apihost, auth: options.auth, connections }) : undefined;
  let run;
  try {
    run = await runEngine({
      invoke: options.invoke ?? http!.invoke,
      targets: options.targets,
      mode: options.mode,
      stop: options.stop,
      ...(options.payload === undefined ? {} : { payload: options.payload }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.maxSamples === undefined ? {} : { maxSamples: options.maxSamples }),
      ...(options.histogram === undefined ? {} : { histogram: options.histogram }),
    });
  } finally {
    await http?.close();
  }
  const chosen = pickForClassification(run.samples, options.maxClassified ?? DEFAULT_MAX_CLASSIFIED);
  const fetched = await fetchClasses({
    ids: chosen.map((s) => s.activationId),
    get: options.getRecord ?? recordGetter(client),
    concurrency: options.classifyConcurrency ?? 8,
  });
  const classes = breakdown(chosen, fetched.classes, options.histogram);
  const report = buildReport({ targets: options.targets, mode: options.mode, stop: options.stop, run, classes, sampled: chosen.length });
  return { report, classifiedIds: chosen.map((s) => s.activationId) };
}
