/** Deploys the sample action and invokes it once, blocking: the end-to-end check `brisk up` prints. */
import type { BriskClient } from '../client/client.js';
import { invokeAction, invokeResultOf, updateAction } from './actions.js';

export interface SampleRun {
  action: string;
  activationId: string;
  params: Record<string, unknown>;
  result: unknown;
}

export interface SampleOptions {
  file: string;
  /** default `hello` */
  name?: string;
  /** default `{name: 'brisk'}` */
  params?: Record<string, unknown>;
}

/** Creates or updates the action from `file`, invokes it blocking, and returns its result. Throws ActivationFailedError if it fails. */
export async function runSample(client: BriskClient, options: SampleOptions): Promise<SampleRun> {
  const name = options.name ?? 'hello';
  const params = options.params ?? { name: 'brisk' };
  await updateAction(client, { name, file: options.file });
  const outcome = await invokeAction(client, { name, params, blocking: true });
  const result = invokeResultOf(outcome, { result: true });
  const activationId = outcome.kind === 'accepted' ? outcome.activationId : outcome.activation.activationId;
  return { action: name, activationId, params, result };
}
