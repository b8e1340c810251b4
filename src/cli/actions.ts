/**
 * What the `action` commands do, as library functions over a BriskClient: read the code file, build
 * the PUT body, deploy, invoke, and decide what an invoke's outcome means for the operator.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { BriskClient } from '../client/client.js';
import type { ActionPut, ActionView, InvokeOutcome } from '../client/types.js';
import { ActivationFailedError, InvalidInputError } from '../errors.js';
import type { ActionLimits } from '../model/limits.js';
import { MAX_CODE_BYTES } from '../model/limits.js';
import { toKeyValues } from './params.js';

export interface ActionSpec {
  name: string;
  /** code file; `.js`/`.mjs`/`.cjs` are source, `.zip` is sent base64 */
  file?: string | undefined;
  /** runtime kind; default `nodejs:default` for the file types above */
  kind?: string | undefined;
  /** entry function; the server's default is `main` */
  main?: string | undefined;
  /** default parameters; replace the action's parameters wholesale when given */
  params?: Record<string, unknown> | undefined;
  limits?: Partial<ActionLimits> | undefined;
  /** a blackbox action: the OpenWhisk-compatible image that runs it (the file, if any, is its code) */
  docker?: string | undefined;
}

export interface ActionCode {
  code: string;
  kind: string;
}

const SOURCE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

/** Reads a code file and picks its kind: `--kind` when given, else by extension. */
export async function readActionCode(file: string, kind: string | undefined): Promise<ActionCode> {
  const extension = extname(file).toLowerCase();
  const binary = extension === '.zip';
  const inferred = SOURCE_EXTENSIONS.has(extension) || binary ? 'nodejs:default' : undefined;
  const chosen = kind ?? inferred;
  if (chosen === undefined) {
    throw new InvalidInputError(`Cannot tell the runtime of '${file}' from its extension.`, { hint: 'Pass --kind, e.g. --kind nodejs:20.' });
  }
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    throw new InvalidInputError(`Cannot read the code file '${file}'.`, { cause: error, hint: 'Check the path of the action file.' });
  }
  if (size > MAX_CODE_BYTES) throw new InvalidInputError(`The code file '${file}' is ${size} bytes, over the ${MAX_CODE_BYTES}-byte limit.`);
  const bytes = await readFile(file);
  return { code: binary ? bytes.toString('base64') : bytes.toString('utf8'), kind: chosen };
}

/** The PUT body for a spec whose code (if any) has been read. Only given fields are sent, so updates merge. */
export function actionPutOf(spec: ActionSpec, code: ActionCode | undefined): ActionPut {
  const body: ActionPut = {};
  if (spec.docker !== undefined) {
    body.exec = { kind: 'blackbox', image: spec.docker, ...(code === undefined ? {} : { code: code.code }), ...(spec.main === undefined ? {} : { main: spec.main }) };
  } else if (code !== undefined) body.exec = { kind: code.kind, code: code.code, ...(spec.main === undefined ? {} : { main: spec.main }) };
  if (spec.params !== undefined) body.parameters = toKeyValues(spec.params);
  const limits = Object.fromEntries(Object.entries(spec.limits ?? {}).filter(([, value]) => value !== undefined));
  if (Object.keys(limits).length > 0) body.limits = limits;
  return body;
}

/** `action create`: the file is required; 409 (exit 2) when the action exists. */
export async function createAction(client: BriskClient, spec: ActionSpec): Promise<ActionView> {
  if (spec.docker !== undefined) {
    const code = spec.file === undefined ? undefined : await readActionCode(spec.file, spec.kind ?? 'blackbox');
    return client.actions.put(spec.name, actionPutOf(spec, code), { overwrite: false });
  }
  if (spec.file === undefined) throw new InvalidInputError('action create needs a code file.', { hint: 'brisk action create NAME FILE' });
  const code = await readActionCode(spec.file, spec.kind);
  return client.actions.put(spec.name, actionPutOf(spec, code), { overwrite: false });
}

/**
 * `action update`: creates or updates. Without a file, `--kind` or `--main` re-send the current code
 * with the new kind/entry (the API replaces `exec` as a whole); everything else is merged by the server.
 */
export async function updateAction(client: BriskClient, spec: ActionSpec): Promise<ActionView> {
  let code: ActionCode | undefined;
  if (spec.file !== undefined) {
    code = await readActionCode(spec.file, spec.docker === undefined ? spec.kind : (spec.kind ?? 'blackbox'));
  } else if (spec.kind !== undefined || spec.main !== undefined) {
    const current = await client.actions.get(spec.name);
    if (current.exec.code === undefined) throw new InvalidInputError(`The action '${spec.name}' has no code to re-send; pass a file.`);
    code = { code: current.exec.code, kind: spec.kind ?? current.exec.kind };
    if (spec.main === undefined && current.exec.main !== undefined) spec = { ...spec, main: current.exec.main };
  }
  return client.actions.put(spec.name, actionPutOf(spec, code), { overwrite: true });
}

export interface InvokeSpec {
  name: string;
  params: Record<string, unknown>;
  blocking: boolean;
}

export function invokeAction(client: BriskClient, spec: InvokeSpec): Promise<InvokeOutcome> {
  return client.actions.invoke(spec.name, { params: spec.params, blocking: spec.blocking });
}

/** What `action invoke` returns as its result (and prints with --json). */
export type InvokeResult = { activationId: string } | Record<string, unknown> | unknown;

/**
 * Turns an invoke outcome into the command's result: `{activationId}` when accepted, the action's
 * result with `--result`, else the activation record. A finished activation that did not succeed
 * throws ActivationFailedError (exit code 1), carrying the result.
 */
export function invokeResultOf(outcome: InvokeOutcome, options: { result: boolean }): InvokeResult {
  if (outcome.kind === 'accepted') return { activationId: outcome.activationId };
  const { activation } = outcome;
  if (!activation.response.success) {
    throw new ActivationFailedError({ activationId: activation.activationId, result: activation.response.result, statusText: activation.response.status });
  }
  return options.result ? activation.response.result : activation;
}
