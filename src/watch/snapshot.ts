/**
 * The watch stream's data: what `brisk top` and `brisk status` show. One schema, validated where it
 * crosses a process boundary (controller → viewer), shared by the producers (scheduler, controller)
 * and the consumers (the Ink view, the status command).
 *
 * Flow: the scheduler publishes a ClusterWatch (agents, pools, queue, recent decisions) to controllers
 * that subscribed; each controller adds its own view (actions it serves, in-flight and recent
 * activations) and serves the combined WatchSnapshot to viewers at `GET /api/v1/watch` (WebSocket,
 * Basic auth of a namespace) and as one JSON document at `GET /api/v1/status`. Action and activation
 * entries are filtered to the viewer's namespace; agents and pool counts are cluster-wide numbers.
 *
 * Bounds: every list has a maximum length (below); producers keep the newest entries. A viewer that
 * reads slowly gets the latest snapshot only (older unsent ones are dropped), never a growing queue.
 */
import { z } from 'zod';

export const WATCH_LIMITS = {
  agents: 1000,
  actions: 500,
  activations: 200,
  decisions: 100,
} as const;

const ms = z.number().finite().nonnegative();
const count = z.number().int().nonnegative();

/** One agent (host): containers by state and memory. */
export const agentViewSchema = z.object({
  agentId: z.string(),
  backend: z.string(),
  connected: z.boolean(),
  memoryMB: count,
  usedMB: count,
  containers: z.object({
    starting: count,
    prewarm: count,
    busy: count,
    idle: count,
    paused: count,
  }),
});

/** One scheduler decision, explained. */
export const decisionViewSchema = z.object({
  at: z.number(),
  /** e.g. assignStemCell, create, evictThenCreate, queue, reject */
  kind: z.string(),
  /** namespace/name of the action it was for, when it was for one */
  action: z.string().optional(),
  agentId: z.string().optional(),
  /** why, in one sentence */
  reason: z.string(),
});

export const clusterViewSchema = z.object({
  schedulerId: z.string(),
  agents: z.array(agentViewSchema).max(WATCH_LIMITS.agents),
  queue: z.object({ length: count, capacity: count }),
  decisions: z.array(decisionViewSchema).max(WATCH_LIMITS.decisions),
});

/** One action this controller serves, over the last window. */
export const actionViewSchema = z.object({
  /** namespace/name */
  action: z.string(),
  warm: count,
  inFlight: count,
  queued: count,
  requestsPerSecond: z.number().nonnegative(),
  p50Ms: ms.optional(),
  p99Ms: ms.optional(),
  coldStarts: count,
});

/** Where an activation's time went, ms; absent phases did not happen (yet). */
export const phasesSchema = z.object({
  waitMs: ms.optional(),
  createMs: ms.optional(),
  resumeMs: ms.optional(),
  initMs: ms.optional(),
  runMs: ms.optional(),
});

export const activationViewSchema = z.object({
  activationId: z.string(),
  action: z.string(),
  /** running, or the record's status: success, application error, action developer error, whisk internal error */
  status: z.string(),
  startedAt: z.number(),
  durationMs: ms.optional(),
  phases: phasesSchema,
});

export const watchSnapshotSchema = z.object({
  /** epoch ms when the controller built it */
  at: z.number(),
  controllerId: z.string(),
  namespace: z.string(),
  /** absent while the controller has no scheduler data (not connected) */
  cluster: clusterViewSchema.optional(),
  schedulerConnected: z.boolean(),
  actions: z.array(actionViewSchema).max(WATCH_LIMITS.actions),
  inFlight: z.array(activationViewSchema).max(WATCH_LIMITS.activations),
  recent: z.array(activationViewSchema).max(WATCH_LIMITS.activations),
});

export type AgentWatch = z.infer<typeof agentViewSchema>;
export type DecisionWatch = z.infer<typeof decisionViewSchema>;
export type ClusterWatch = z.infer<typeof clusterViewSchema>;
export type ActionWatch = z.infer<typeof actionViewSchema>;
export type ActivationWatch = z.infer<typeof activationViewSchema>;
export type WatchSnapshot = z.infer<typeof watchSnapshotSchema>;
