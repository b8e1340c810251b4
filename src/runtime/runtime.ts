/**
 * The action runtime's state machine: `/init` once, then `/run` per activation (compat §3).
 * Independent of HTTP so that it can be tested directly; server.ts maps it onto requests.
 *
 * Status: `uninitialized → initializing → ready ⇄ running`, and `stopped` after a failed init or a
 * developer error (a synchronous throw), after which the platform discards the container.
 * With `allowConcurrent`, overlapping runs are accepted and the status never becomes `running`.
 */
import { describeError, classifyOutcome, type RunOutcome } from './result.js';
import { loadAction, type ActionFunction } from './action.js';
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
  /** `require` base directory of the action code; default process.cwd() */
  baseDir?: string;
}

export const Messages = {
  missingCode: 'Missing main/no code to execute.',
  initTwice: 'Cannot initialize the action more than once.',
  notInitialized: 'System not initialized.',
  notReady: (status: RuntimeStatus) => `System not ready, status is ${status}.`,
  notAnObject: 'The action input is not a JSON object.',
  zipUnsupported: 'zip actions are not supported yet by the brisk runtime; send the code as JavaScript source.',
  initFailed: (detail: string) => `Initialization has failed due to: ${detail}`,
} as const;

export class ActionRuntime {
  #status: RuntimeStatus = 'uninitialized';
  #action: ActionFunction | undefined;
  readonly #options: ActionRuntimeOptions;

  constructor(options: ActionRuntimeOptions = {}) {
    this.#options = options;
  }

  get status(): RuntimeStatus {
    return this.#status;
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
      if (value.binary === true) throw new Error(Messages.zipUnsupported);
      this.#action = loadAction({ code, main, baseDir: this.#options.baseDir });
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

    const outcome = await activationStorage.run(context, () => invoke(action, value));
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
