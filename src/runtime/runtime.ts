/**
 * The action runtime's state machine: `/init` once, then `/run` per activation (compat §3).
 * Independent of HTTP so that it can be tested directly; server.ts maps it onto requests.
 *
 * Status: `uninitialized → initializing → ready ⇄ running`, and `stopped` after a failed init, a
 * developer error (a synchronous throw) or an error that escaped the action asynchronously
 * ({@link ActionRuntime.fail}), after which the platform discards the container. A runtime stopped
 * by an error that belongs to no activation answers later runs 502 rather than 403 (see `fail`).
 * With `allowConcurrent`, overlapping runs are accepted and the status never becomes `running`.
 */
import { describeError, classifyOutcome, type RunOutcome } from './result.js';
import { loadAction, loadZipAction, type ActionFunction } from './action.js';
import { activationEnv, activationStorage, newActivationContext, type ActivationContext } from './context.js';
import { TAGGABLE_ID } from './framing.js';

export type RuntimeStatus = 'uninitialized' | 'initializing' | 'ready' | 'running' | 'stopped';

export interface Reply {
  status: number;
  body: unknown;
}

export interface ActionRuntimeOptions {
  /** accept overlapping /run calls (env `__OW_ALLOW_CONCURRENT=true`); default false */
  allowConcurrent?: boolean;
  /** called when an activation ends, before its reply is sent: flush its output, write sentinels */
  onActivationEnd?: (context: ActivationContext) => void;
  /** called after a failed init, before its reply is sent: write the (untagged) sentinels */
  onInitFailed?: () => void;
  /**
   * writes text to an activation's stderr (tagged with its id); used to put the report of an error
   * outside any activation into the logs of each later run answered 502 for it. Default: not written.
   */
  writeStderr?: (context: ActivationContext, text: string) => void;
  /** `require` base directory of the action code; default process.cwd() */
  baseDir?: string;
}

export const Messages = {
  missingCode: 'Missing main/no code to execute.',
  initTwice: 'Cannot initialize the action more than once.',
  notInitialized: 'System not initialized.',
  notReady: (status: RuntimeStatus) => `System not ready, status is ${status}.`,
  notAnObject: 'The action input is not a JSON object.',
  initFailed: (detail: string) => `Initialization has failed due to: ${detail}`,
  /** reply of an in-flight activation that is not the one whose uncaught error stopped the runtime */
  failedByOther: (detail: string) => `The action's container failed because another activation threw an uncaught error: ${detail}`,
  /** reply of in-flight activations when the uncaught error belongs to no activation (init code, the runtime) */
  failedOutside: (detail: string) => `The action's container failed because of an uncaught error outside any activation: ${detail}`,
} as const;

export interface FailOptions {
  /** the error that escaped */
  error: unknown;
  /** the activation it escaped from, if known (see fatal.ts) */
  culprit: ActivationContext | undefined;
  /**
   * the text reported for the error (fatal.ts `fatalReport`); without a culprit it is written (via
   * `writeStderr`) to the stderr of every later run answered 502. Default: nothing is written.
   */
  report?: string;
}

/** Why the runtime stopped, when the error belonged to no activation: every later /run gets this. */
interface OutsideFailure {
  readonly message: string;
  readonly report: string | undefined;
}

/** One /run being executed; `aborted` is set once {@link ActionRuntime.fail} answered it. */
interface InFlight {
  readonly context: ActivationContext;
  readonly abort: (reply: Reply) => void;
  aborted: Reply | undefined;
}

export class ActionRuntime {
  #status: RuntimeStatus = 'uninitialized';
  #action: ActionFunction | undefined;
  readonly #inFlight = new Set<InFlight>();
  #outside: OutsideFailure | undefined;
  readonly #options: ActionRuntimeOptions;

  constructor(options: ActionRuntimeOptions = {}) {
    this.#options = options;
  }

  get status(): RuntimeStatus {
    return this.#status;
  }

  /** The contexts of the activations being run right now. */
  inFlight(): ActivationContext[] {
    return [...this.#inFlight].map((flight) => flight.context);
  }

  /**
   * Stops the runtime after an error escaped the action asynchronously: its state is undefined from
   * now on, like after a developer error. Every in-flight /run is answered at once with 502 (the
   * platform then discards the container): the culprit, if still running, with
   * `An error has occurred: <err>` like a synchronous throw; the others with
   * {@link Messages.failedByOther} (or {@link Messages.failedOutside} without a known culprit), so
   * that their records say the failure is not theirs. A culprit that already returned keeps its
   * reply (it was correct when sent). Each answered activation ends (`onActivationEnd`) here;
   * whatever its action does later is ignored. Later /init calls are refused with 403, and so are
   * later /run calls when there was a culprit (the run was never started: the platform retries it
   * elsewhere). Without a culprit (e.g. a promise the action code rejects at load time, which fires
   * after /init answered 200) every later /run is answered 502 with {@link Messages.failedOutside}
   * and ended (its stderr gets `options.report`, then its sentinels): the action is broken in every
   * container, so moving the run on would only burn containers and lose the stack. Only the first
   * call counts once stopped (the caller ignores later errors). Returns the number of activations answered.
   */
  fail(options: FailOptions): number {
    const first = this.#status !== 'stopped';
    this.#status = 'stopped';
    const detail = describeError(options.error);
    if (first && options.culprit === undefined) this.#outside = { message: Messages.failedOutside(detail), report: options.report };
    const flights = [...this.#inFlight];
    this.#inFlight.clear();
    for (const flight of flights) {
      const body =
        flight.context === options.culprit
          ? classifyOutcome({ kind: 'threw', error: options.error }).body
          : { error: options.culprit === undefined ? Messages.failedOutside(detail) : Messages.failedByOther(detail) };
      flight.aborted = { status: 502, body };
      this.#options.onActivationEnd?.(flight.context);
      flight.abort(flight.aborted);
    }
    return flights.length;
  }

  /** Handles the body of `POST /init`. */
  init(body: unknown): Reply {
    if (this.#action !== undefined) return error(403, Messages.initTwice);
    if (this.#status !== 'uninitialized') return error(403, Messages.notReady(this.#status));
    const value = isRecord(body) && isRecord(body.value) ? body.value : {};
    const { main, code } = value;
    if (typeof main !== 'string' || main === '' || typeof code !== 'string' || code === '') return error(403, Messages.missingCode);
    this.#status = 'initializing';
    if (isRecord(value.env)) {
      for (const [key, v] of Object.entries(value.env)) process.env[key] = typeof v === 'string' ? v : JSON.stringify(v);
    }
    try {
      // A zip is extracted to a fresh directory (removed when the runtime exits) and run from there.
      this.#action =
        value.binary === true
          ? loadZipAction({ code, main, chdir: true, removeOnExit: true }).action
          : loadAction({ code, main, baseDir: this.#options.baseDir });
    } catch (err) {
      this.#status = 'stopped';
      this.#options.onInitFailed?.();
      const detail = err instanceof Error && err.stack !== undefined ? err.stack : describeError(err);
      return error(502, Messages.initFailed(detail));
    }
    this.#status = 'ready';
    return { status: 200, body: { OK: true } };
  }

  /** Handles the body of `POST /run`; resolves with the reply once the action has finished. */
  async run(body: unknown): Promise<Reply> {
    if (this.#outside !== undefined) return this.#refuseOutside(body, this.#outside);
    const action = this.#action;
    if (action === undefined && this.#status === 'uninitialized') return error(403, Messages.notInitialized);
    if (action === undefined || this.#status === 'stopped' || (this.#status === 'running' && !this.#options.allowConcurrent)) {
      return error(403, Messages.notReady(this.#status));
    }
    const fields = isRecord(body) ? body : {};
    const value = fields.value === undefined ? {} : fields.value;
    if (typeof value !== 'object' || value === null) return error(403, Messages.notAnObject);

    const env = activationEnv(fields);
    Object.assign(process.env, env);
    const id = env.__OW_ACTIVATION_ID;
    const context = newActivationContext(id !== undefined && TAGGABLE_ID.test(id) ? id : undefined, env);
    if (!this.#options.allowConcurrent) this.#status = 'running';

    let abort: (reply: Reply) => void = () => undefined;
    const aborted = new Promise<Reply>((resolve) => (abort = resolve));
    const flight: InFlight = { context, abort, aborted: undefined };
    this.#inFlight.add(flight);
    const settled = await Promise.race([
      activationStorage.run(context, () => invoke(action, value)).then((outcome) => ({ outcome })),
      aborted.then((reply) => ({ reply })),
    ]);
    // fail() may have answered this activation after its outcome settled but before we got here:
    // its answer (and its end of the activation) stands
    if (flight.aborted !== undefined) return flight.aborted;
    this.#inFlight.delete(flight);
    if ('reply' in settled) return settled.reply;
    const outcome = settled.outcome;
    let reply = classifyOutcome(outcome);
    if (reply.status === 200) {
      // A result JSON cannot encode (a cycle, a BigInt) is the action's fault, like a throw.
      try {
        JSON.stringify(reply.body);
      } catch (err) {
        reply = classifyOutcome({ kind: 'threw', error: err });
      }
    }
    if (reply.stop) this.#status = 'stopped';
    else if (this.#status === 'running') this.#status = 'ready';
    this.#options.onActivationEnd?.(context);
    return { status: reply.status, body: reply.body };
  }

  /** A /run after an error outside any activation: a developer error, with the report in its logs. */
  #refuseOutside(body: unknown, outside: OutsideFailure): Reply {
    const env = activationEnv(isRecord(body) ? body : {});
    const id = env.__OW_ACTIVATION_ID;
    const context = newActivationContext(id !== undefined && TAGGABLE_ID.test(id) ? id : undefined, env);
    if (outside.report !== undefined) this.#options.writeStderr?.(context, outside.report);
    this.#options.onActivationEnd?.(context);
    return error(502, outside.message);
  }
}

async function invoke(action: ActionFunction, params: unknown): Promise<RunOutcome> {
  let returned: unknown;
  try {
    returned = action(params);
  } catch (err) {
    return { kind: 'threw', error: err };
  }
  if (!isThenable(returned)) return { kind: 'returned', value: returned };
  try {
    return { kind: 'returned', value: await returned };
  } catch (reason) {
    return { kind: 'rejected', reason };
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function error(status: number, message: string): Reply {
  return { status, body: { error: message } };
}
