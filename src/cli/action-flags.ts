/** Flags shared by `action create` and `action update` (wsk's spellings and short forms). */
import { Flags } from '@oclif/core';
import type { ActionLimits } from '../model/limits.js';
import { LIMITS } from '../model/limits.js';
import { paramFileFlag, paramFlag } from './base.js';
import { countFlag, durationFlag, memoryFlag } from './flags.js';
import type { ActionSpec } from './actions.js';
import { mergeParams, readParamFile } from './params.js';

export const actionFlags = {
  kind: Flags.string({ description: 'runtime kind, e.g. nodejs:20 (default: nodejs:default for .js and .zip files)' }),
  main: Flags.string({ description: 'name of the entry function (default: main)' }),
  docker: Flags.string({ description: 'a blackbox action: the OpenWhisk-compatible runtime image that runs it (agents with --backend docker); the file, if given, is passed to its /init as code' }),
  memory: memoryFlag({ char: 'm', description: `memory limit, e.g. 256 or 256MB (${LIMITS.memoryMB.min}..${LIMITS.memoryMB.max} MB)` }),
  timeout: durationFlag({ char: 't', description: `time limit, e.g. 3000 or 3s (${LIMITS.timeoutMs.min}..${LIMITS.timeoutMs.max} ms)` }),
  logsize: memoryFlag({ char: 'l', description: `log limit in MB (${LIMITS.logsMB.min}..${LIMITS.logsMB.max}; 0 keeps no logs)` }),
  concurrency: countFlag({ char: 'c', description: `activations one container runs at once (${LIMITS.concurrency.min}..${LIMITS.concurrency.max})` }),
  param: paramFlag,
  'param-file': paramFileFlag,
};

export function limitsOf(flags: { memory?: number | undefined; timeout?: number | undefined; logsize?: number | undefined; concurrency?: number | undefined }): Partial<ActionLimits> {
  return {
    ...(flags.memory === undefined ? {} : { memory: flags.memory }),
    ...(flags.timeout === undefined ? {} : { timeout: flags.timeout }),
    ...(flags.logsize === undefined ? {} : { logs: flags.logsize }),
    ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency }),
  };
}

/** `-P` then `-p` merged; undefined when neither was given (so an update keeps the action's parameters). */
export async function paramsOf(paramFile: string | undefined, pairs: readonly (readonly [string, string])[]): Promise<Record<string, unknown> | undefined> {
  if (paramFile === undefined && pairs.length === 0) return undefined;
  return mergeParams(paramFile === undefined ? undefined : await readParamFile(paramFile), pairs);
}

/** The parsed values of actionFlags that describe an action. */
export interface ActionFlagValues {
  kind?: string | undefined;
  main?: string | undefined;
  docker?: string | undefined;
  memory?: number | undefined;
  timeout?: number | undefined;
  logsize?: number | undefined;
  concurrency?: number | undefined;
  'param-file'?: string | undefined;
}

/** What `action create` and `action update` send: the name, the code file and the flags. */
export async function actionSpecOf(
  args: { name: string; file?: string | undefined },
  flags: ActionFlagValues,
  pairs: readonly (readonly [string, string])[],
): Promise<ActionSpec> {
  return {
    name: args.name,
    file: args.file,
    kind: flags.kind,
    main: flags.main,
    docker: flags.docker,
    params: await paramsOf(flags['param-file'], pairs),
    limits: limitsOf(flags),
  };
}
