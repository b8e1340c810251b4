/**
 * What the OpenWhisk-compatible REST API returns, as zod schemas (compat spec §1.4-§1.7). The client
 * validates every body it hands out, so callers can trust the types; unknown extra fields pass
 * through untouched, because servers may add fields.
 */
import { z } from 'zod';
import type { ActionDoc } from '../model/action.js';

const keyValue = z.object({ key: z.string(), value: z.unknown() }).passthrough();

export const actionDocSchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    version: z.string(),
    publish: z.boolean(),
    exec: z.object({ kind: z.string(), code: z.string().optional(), binary: z.boolean(), main: z.string().optional() }).passthrough(),
    parameters: z.array(keyValue).default([]),
    limits: z.object({ timeout: z.number(), memory: z.number(), logs: z.number(), concurrency: z.number() }).passthrough(),
    annotations: z.array(keyValue).default([]),
    updated: z.number(),
  })
  .passthrough();

/** GET/PUT/DELETE of one action. `exec.code` is absent when fetched with `code=false`. */
export type ActionView = z.infer<typeof actionDocSchema>;

/** One entry of `GET .../actions`: the summary view, without code and parameters. */
export const actionSummarySchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    version: z.string(),
    publish: z.boolean().optional(),
    exec: z.object({ binary: z.boolean().optional(), kind: z.string().optional() }).passthrough().optional(),
    limits: z.object({ timeout: z.number(), memory: z.number() }).passthrough().optional(),
    annotations: z.array(keyValue).default([]),
    updated: z.number().optional(),
  })
  .passthrough();
export type ActionSummary = z.infer<typeof actionSummarySchema>;

export const activationResponseSchema = z
  .object({
    status: z.string(),
    success: z.boolean(),
    result: z.unknown().optional(),
    size: z.number().optional(),
    statusCode: z.number().optional(),
  })
  .passthrough();

/** The extended activation record (GET .../activations/{id}, blocking invoke). */
export const activationViewSchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    subject: z.string().optional(),
    activationId: z.string(),
    version: z.string().optional(),
    publish: z.boolean().optional(),
    start: z.number(),
    end: z.number().optional(),
    duration: z.number().optional(),
    response: activationResponseSchema,
    logs: z.array(z.string()).default([]),
    annotations: z.array(keyValue).default([]),
  })
  .passthrough();
export type ActivationView = z.infer<typeof activationViewSchema>;

/** One entry of `GET .../activations` without `docs=true`. */
export const activationSummarySchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    activationId: z.string(),
    version: z.string().optional(),
    start: z.number(),
    end: z.number().optional(),
    duration: z.number().optional(),
    statusCode: z.number().optional(),
    annotations: z.array(keyValue).default([]),
  })
  .passthrough();
export type ActivationSummary = z.infer<typeof activationSummarySchema>;

export const activationResultSchema = z
  .object({ result: z.unknown().optional(), success: z.boolean(), status: z.string(), size: z.number().optional() })
  .passthrough();
export type ActivationResultView = z.infer<typeof activationResultSchema>;

export const activationLogsSchema = z.object({ logs: z.array(z.string()) }).passthrough();

export const activationIdBodySchema = z.object({ activationId: z.string() }).passthrough();

/** The body of `PUT .../actions/{name}` (ActionPut): every field optional; the server merges on update. */
export interface ActionPut {
  exec?: { kind: string; code?: string; main?: string; image?: string };
  parameters?: { key: string; value: unknown }[];
  limits?: Partial<ActionDoc['limits']>;
  annotations?: { key: string; value: unknown }[];
  version?: string;
  publish?: boolean;
}

/** Outcome of an invoke: accepted (non-blocking, or blocking that outlived the wait) or completed. */
export type InvokeOutcome =
  | { kind: 'accepted'; activationId: string }
  | { kind: 'completed'; activation: ActivationView };

export interface ActivationListQuery {
  /** action name, `action` or `pkg/action` */
  name?: string;
  limit?: number;
  skip?: number;
  /** epoch ms, inclusive lower bound on `start` */
  since?: number;
  /** epoch ms, inclusive upper bound on `start` */
  upto?: number;
}
