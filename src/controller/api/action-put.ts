/**
 * PUT of an action (compat §1.3/§1.4): the body schema, and the pure create / merge-update that
 * turns a validated body plus the stored doc into the doc to store.
 */
import { z } from 'zod';
import { InvalidInputError } from '../../errors.js';
import type { ActionDoc, ActionExec, KeyValue } from '../../model/action.js';
import { BLACKBOX_KIND, IMAGE_REFERENCE, resolveKind, unsupportedKindMessage } from '../../model/kinds.js';
import { DEFAULT_LIMITS } from '../../model/limits.js';
import { checkEntitySizes, isBinaryCode, validateLimits } from './entity-rules.js';

const keyValue = z
  .object({ key: z.string().min(1).max(1024), value: z.unknown() })
  .refine((kv) => kv.value !== undefined, { message: 'value is required' })
  .transform((kv): KeyValue => ({ key: kv.key, value: kv.value }));

const limitField = z.number().int().safe();

/** The ActionPut body; everything optional, unknown fields (namespace, name, updated, ...) ignored. */
export const actionPutSchema = z.object({
  exec: z
    .object({
      kind: z.string().min(1).max(64),
      code: z.string().optional(),
      main: z.string().min(1).max(256).optional(),
      image: z.string().min(1).max(512).optional(),
    })
    .passthrough()
    .optional(),
  parameters: z.array(keyValue).optional(),
  annotations: z.array(keyValue).optional(),
  delAnnotations: z.array(z.string()).optional(),
  limits: z
    .object({ timeout: limitField.optional(), memory: limitField.optional(), logs: limitField.optional(), concurrency: limitField.optional() })
    .passthrough()
    .optional(),
  version: z.string().regex(/^\d{1,9}\.\d{1,9}\.\d{1,9}$/, 'version must be a semantic version major.minor.patch').optional(),
  publish: z.boolean().optional(),
});
export type ActionPut = z.infer<typeof actionPutSchema>;

/** Parses a PUT body, or throws InvalidInputError naming the first bad field. */
export function parseActionPut(body: unknown): ActionPut {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidInputError('The request content was malformed: the action must be a JSON object.');
  }
  const parsed = actionPutSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at '${issue.path.join('.')}'` : '';
    throw new InvalidInputError(`The request content was malformed${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** Resolves the kind, computes `binary` from the code, keeps `main` only if supplied. */
export function buildExec(exec: NonNullable<ActionPut['exec']>): ActionExec {
  if (exec.kind === BLACKBOX_KIND) return buildBlackboxExec(exec);
  if (exec.image !== undefined) throw new InvalidInputError(`exec malformed: 'image' is only allowed with kind '${BLACKBOX_KIND}'.`);
  const kind = resolveKind(exec.kind);
  if (kind === undefined) throw new InvalidInputError(unsupportedKindMessage(exec.kind));
  if (typeof exec.code !== 'string') throw new InvalidInputError(`exec malformed: kind '${kind}' requires 'code' as a string.`);
  const built: ActionExec = { kind, code: exec.code, binary: isBinaryCode(exec.code) };
  if (exec.main !== undefined) built.main = exec.main;
  return built;
}

/** A blackbox action: an image (validated as a Docker reference), optional code and main. */
function buildBlackboxExec(exec: NonNullable<ActionPut['exec']>): ActionExec {
  if (exec.image === undefined) throw new InvalidInputError(`exec malformed: kind '${BLACKBOX_KIND}' requires 'image'.`);
  if (!IMAGE_REFERENCE.test(exec.image)) throw new InvalidInputError(`exec malformed: '${exec.image}' is not a valid image name.`);
  const code = exec.code ?? '';
  const built: ActionExec = { kind: BLACKBOX_KIND, image: exec.image, code, binary: code === '' ? false : isBinaryCode(code) };
  if (exec.main !== undefined) built.main = exec.main;
  return built;
}

/** Patch + 1: `0.0.1` → `0.0.2`. */
export function nextVersion(version: string): string {
  const [major = '0', minor = '0', patch = '0'] = version.split('.');
  return `${major}.${minor}.${Number(patch) + 1}`;
}

/** Sets (or replaces, in place) one annotation; returns a new array. */
export function setAnnotation(annotations: readonly KeyValue[], key: string, value: unknown): KeyValue[] {
  const index = annotations.findIndex((a) => a.key === key);
  if (index < 0) return [...annotations, { key, value }];
  const copy = [...annotations];
  copy[index] = { key, value };
  return copy;
}

/** Old annotations minus `delAnnotations`, then the new ones merged over them (new wins per key). */
export function mergeAnnotations(old: readonly KeyValue[], added: readonly KeyValue[] = [], deleted: readonly string[] = []): KeyValue[] {
  const drop = new Set(deleted);
  let merged = old.filter((a) => !drop.has(a.key));
  for (const a of added) merged = setAnnotation(merged, a.key, a.value);
  return merged;
}

export interface BuildActionOptions {
  namespace: string;
  name: string;
  put: ActionPut;
  /** the stored doc when updating with overwrite; undefined to create */
  existing: ActionDoc | undefined;
  /** epoch ms now */
  now: number;
}

/**
 * The doc to store. Create: `exec` required ("exec undefined"), version 0.0.1, default limits,
 * `provide-api-key:false` unless given. Update: each limit replaced only if given, exec kept if absent,
 * parameters replaced if given, annotations merged, version patch+1 unless given, publish kept.
 * Both set the `exec` annotation to the kind and make `updated` strictly newer than the stored one.
 */
export function buildAction(options: BuildActionOptions): ActionDoc {
  const { put, existing } = options;
  if (put.limits) validateLimits(put.limits);
  checkEntitySizes({ code: put.exec?.code, parameters: put.parameters, annotations: put.annotations });
  const givenLimits = put.limits
    ? Object.fromEntries(
        (['timeout', 'memory', 'logs', 'concurrency'] as const)
          .filter((k) => put.limits?.[k] !== undefined)
          .map((k) => [k, put.limits?.[k]]),
      )
    : {};

  if (existing === undefined) {
    if (!put.exec) throw new InvalidInputError('exec undefined');
    const exec = buildExec(put.exec);
    let annotations = mergeAnnotations([], put.annotations, put.delAnnotations);
    if (!annotations.some((a) => a.key === 'provide-api-key')) annotations.push({ key: 'provide-api-key', value: false });
    annotations = setAnnotation(annotations, 'exec', exec.kind);
    return {
      namespace: options.namespace,
      name: options.name,
      version: put.version ?? '0.0.1',
      publish: put.publish ?? false,
      exec,
      parameters: put.parameters ?? [],
      limits: { ...DEFAULT_LIMITS, ...givenLimits },
      annotations,
      updated: options.now,
    };
  }

  const exec = put.exec ? buildExec(put.exec) : existing.exec;
  const annotations = setAnnotation(mergeAnnotations(existing.annotations, put.annotations, put.delAnnotations), 'exec', exec.kind);
  return {
    namespace: existing.namespace,
    name: existing.name,
    version: put.version ?? nextVersion(existing.version),
    publish: put.publish ?? existing.publish,
    exec,
    parameters: put.parameters ?? existing.parameters,
    limits: { ...existing.limits, ...givenLimits },
    annotations,
    updated: Math.max(options.now, existing.updated + 1),
  };
}
