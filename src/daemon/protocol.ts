/**
 * The daemon wire protocol: every WebSocket message between scheduler, agents and controllers is
 * defined here, once, as a zod schema. `decodeMessage` is the only way a received frame becomes a
 * typed message; anything that fails its schema is a ProtocolError.
 *
 * Connections:
 *   agent      → scheduler   (agent.register, container.ready/failed/exited; ← container.create/destroy)
 *   controller → scheduler   (controller.register, acquire, release, usage; ← acquire.granted/rejected, evict, container.gone)
 *   controller → agent       (pause, resume, destroy, logs.collect; ← result, logs.result)
 *   controller|observer → scheduler (decisions.request; ← decisions): the scheduler's decision log, read-only
 *   controller|observer → scheduler (watch.subscribe, watch.unsubscribe; ← watch.cluster): the live view's cluster data
 *
 * Handshake: the client sends `Authorization: Bearer <cluster token>` on the upgrade request (a wrong
 * token is refused with HTTP 401 before any frame), then `hello` as its first frame; the server answers
 * `welcome`, or closes with CloseCode.versionMismatch when the protocol versions differ.
 * Heartbeats are WebSocket ping/pong frames (see transport.ts).
 */
import { IMAGE_REFERENCE } from '../model/kinds.js';
import { z } from 'zod';
import { ProtocolError } from '../errors.js';
import { clusterViewSchema } from '../watch/snapshot.js';

export const PROTOCOL_VERSION = 1;

/** WebSocket close codes with a meaning of their own (4000-4999 is the application range). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unauthorized: 4001,
  versionMismatch: 4002,
  invalidMessage: 4003,
  // 4004 is reserved: a peer that misses a heartbeat is cut off (1006), it cannot be told why.
  replaced: 4005,
} as const;

const id = z.string().min(1).max(200);
const requestId = z.string().min(1).max(100);
const kind = z.string().min(1).max(64);
const memoryMB = z.number().int().positive().max(1_048_576);
/** a blackbox action's runtime image: only a Docker reference ever reaches an agent */
const image = z.string().max(512).regex(IMAGE_REFERENCE, 'not an image reference');
const epochMs = z.number().int().nonnegative();

/** `observer`: a read-only client (status views) that may only ask for reports such as `decisions.request`. */
export const roleSchema = z.enum(['agent', 'controller', 'observer']);
export type Role = z.infer<typeof roleSchema>;

export const addressSchema = z.object({ host: z.string().min(1).max(255), port: z.number().int().min(1).max(65535) });
export type Address = z.infer<typeof addressSchema>;

export const actionRefSchema = z.object({
  namespace: id,
  name: id,
  revision: z.string().min(1).max(300),
  kind,
  memoryMB,
  image: image.optional(),
});

export const errorInfoSchema = z.object({ code: z.string().min(1).max(100), message: z.string().max(10_000) });
export type ErrorInfo = z.infer<typeof errorInfoSchema>;

/** Why a container is gone. `oom` and `crash` are the action's fault; `timeout` is a run over its limit. */
export const exitReasonSchema = z.enum(['crash', 'oom', 'timeout', 'destroyed']);
export type ExitReason = z.infer<typeof exitReasonSchema>;

/** A container as the agent that runs it reports it on (re)registration. */
export const agentContainerSchema = z.object({
  containerId: id,
  kind,
  memoryMB,
  address: addressSchema,
  /** prewarm: a stem cell nobody owns yet; assigned: handed to a controller for an action */
  state: z.enum(['prewarm', 'assigned']),
  paused: z.boolean(),
});
export type AgentContainer = z.infer<typeof agentContainerSchema>;

/** A container as its owner controller reports it on (re)registration and in usage batches. */
export const ownedContainerSchema = z.object({
  containerId: id,
  agentId: id,
  action: actionRefSchema,
  inFlight: z.number().int().nonnegative(),
  paused: z.boolean(),
  lastUsedAt: epochMs,
});
export type OwnedContainer = z.infer<typeof ownedContainerSchema>;

/** What a controller needs to run a granted container directly. */
export const grantedContainerSchema = z.object({
  containerId: id,
  agentId: id,
  /** the agent's control endpoint (pause, resume, logs), ws://host:port */
  agentUrl: z.string().url(),
  address: addressSchema,
  fromStemCell: z.boolean(),
});
export type GrantedContainer = z.infer<typeof grantedContainerSchema>;

// ------------------------------------------------------------------ handshake

const hello = z.object({ type: z.literal('hello'), protocol: z.number().int(), role: roleSchema, id });
const welcome = z.object({ type: z.literal('welcome'), protocol: z.number().int(), serverId: id });

// ------------------------------------------------------------------ agent → scheduler

const agentRegister = z.object({
  type: z.literal('agent.register'),
  agentId: id,
  /** ws:// URL of the agent's control server, where controllers pause/resume/collect logs */
  controlUrl: z.string().url(),
  memoryMB,
  backend: z.enum(['process', 'runc', 'docker']),
  containers: z.array(agentContainerSchema).max(100_000),
});
const containerReady = z.object({ type: z.literal('container.ready'), containerId: id, address: addressSchema });
const containerFailed = z.object({ type: z.literal('container.failed'), containerId: id, error: errorInfoSchema });
const containerExited = z.object({
  type: z.literal('container.exited'),
  containerId: id,
  reason: exitReasonSchema,
  detail: z.string().max(10_000).optional(),
});

// ------------------------------------------------------------------ scheduler → agent

const containerCreate = z.object({
  type: z.literal('container.create'),
  containerId: id,
  kind,
  memoryMB,
  /** a stem cell: started without /init, waiting to be assigned */
  prewarm: z.boolean(),
  /** run this OpenWhisk-compatible image instead of brisk's runtime (blackbox actions; docker backend) */
  image: image.optional(),
});
const containerDestroy = z.object({ type: z.literal('container.destroy'), containerId: id, reason: z.string().max(200) });

// ------------------------------------------------------------------ controller → scheduler

const controllerRegister = z.object({
  type: z.literal('controller.register'),
  controllerId: id,
  containers: z.array(ownedContainerSchema).max(100_000),
});
const acquire = z.object({
  type: z.literal('acquire'),
  requestId,
  action: actionRefSchema,
  /** epoch ms after which the controller no longer wants the container */
  deadline: epochMs,
});
const release = z.object({
  type: z.literal('release'),
  containerIds: z.array(id).min(1).max(10_000),
  reason: z.enum(['idle', 'evicted', 'failed', 'shutdown']),
});
/** Batched idle/busy summary of the containers a controller owns (not one message per invoke). */
const usage = z.object({ type: z.literal('usage'), containers: z.array(ownedContainerSchema).max(100_000) });

// ------------------------------------------------------------------ scheduler → controller

const acquireGranted = z.object({ type: z.literal('acquire.granted'), requestId, container: grantedContainerSchema });
const acquireRejected = z.object({
  type: z.literal('acquire.rejected'),
  requestId,
  /** which limit was hit: schedulerQueue, queueDeadline, noAgents, tooLargeForAnyAgent, ... */
  limit: z.string().min(1).max(100),
  message: z.string().max(2000),
});
/** The scheduler wants this idle container back; the owner releases it if nothing is in flight. */
const evict = z.object({ type: z.literal('evict'), containerId: id });
const containerGone = z.object({ type: z.literal('container.gone'), containerId: id, reason: exitReasonSchema });

// ------------------------------------------------------------------ controller|observer → scheduler: the decision log

/** Most decision records one `decisions` reply carries. */
export const MAX_DECISIONS_PER_REPLY = 1000;

/** One entry of the scheduler's bounded decision log: what was decided, on which inputs, and why. */
export const decisionRecordSchema = z.object({
  /** increasing from 1 per scheduler run */
  seq: z.number().int().positive(),
  /** epoch ms */
  at: epochMs,
  /** the policy's decision kind, or `stemCells` (refill) and `reject` (deadline passed, queue full) decided by the daemon */
  decision: z.enum(['assignStemCell', 'create', 'evictThenCreate', 'queue', 'reject', 'stemCells']),
  /** one sentence for an operator */
  reason: z.string().max(1000),
  /** the acquire it answers, absent for stem cell refills */
  request: z
    .object({ controllerId: id, requestId, action: z.string().max(700), kind, memoryMB, queued: z.boolean() })
    .optional(),
  agentId: id.optional(),
  containerId: id.optional(),
  evict: z.array(id).max(1000).optional(),
  limit: z.string().max(100).optional(),
  /** the pool as the decision saw it */
  inputs: z.object({
    connectedAgents: z.number().int().nonnegative(),
    containers: z.number().int().nonnegative(),
    queued: z.number().int().nonnegative(),
    /** free memory of the chosen agent before the decision, MB */
    agentFreeMB: z.number().int().optional(),
  }),
});
export type DecisionRecord = z.infer<typeof decisionRecordSchema>;

const decisionsRequest = z.object({
  type: z.literal('decisions.request'),
  requestId,
  /** newest entries wanted, default 100 */
  limit: z.number().int().positive().max(MAX_DECISIONS_PER_REPLY).optional(),
  /** only entries with a greater `seq` (to follow the log) */
  afterSeq: z.number().int().nonnegative().optional(),
});
const decisions = z.object({
  type: z.literal('decisions'),
  requestId,
  /** oldest first */
  entries: z.array(decisionRecordSchema).max(MAX_DECISIONS_PER_REPLY),
  /** entries the log keeps at most */
  capacity: z.number().int().nonnegative(),
  /** `seq` of the newest entry ever logged (0 when none) */
  lastSeq: z.number().int().nonnegative(),
});

// ------------------------------------------------------------------ controller|observer → scheduler: the watch stream

/** Start receiving `watch.cluster` (at once, then every 500 ms while subscribed; latest only). */
const watchSubscribe = z.object({ type: z.literal('watch.subscribe') });
/** Stop receiving `watch.cluster` (also implied by closing the connection). */
const watchUnsubscribe = z.object({ type: z.literal('watch.unsubscribe') });
/** The cluster as the live view shows it: agents, queue, recent decisions (src/watch/snapshot.ts). */
const watchCluster = z.object({ type: z.literal('watch.cluster'), cluster: clusterViewSchema });

// ------------------------------------------------------------------ controller → agent, and replies

const pause = z.object({ type: z.literal('pause'), requestId, containerId: id });
const resume = z.object({ type: z.literal('resume'), requestId, containerId: id });
const destroy = z.object({ type: z.literal('destroy'), requestId, containerId: id, reason: exitReasonSchema });
const logsCollect = z.object({
  type: z.literal('logs.collect'),
  requestId,
  containerId: id,
  activationId: z.string().regex(/^[0-9a-f]{32}$/),
  /** cap on the bytes of log text kept; 0 skips collection */
  limitBytes: z.number().int().nonnegative(),
  /** wait for the stdout and stderr sentinels before cutting (false after a developer error) */
  waitForSentinels: z.boolean(),
  /**
   * The controller lost the container mid-request: wait up to this long for the container's exit to
   * be seen, so the reply's `exit` can tell an out-of-memory kill from a crash. Default 0.
   */
  awaitExitMs: z.number().int().nonnegative().max(60_000).optional(),
});
/** Reply to pause, resume and destroy. */
const result = z.object({ type: z.literal('result'), requestId, error: errorInfoSchema.optional() });
const logsResult = z.object({
  type: z.literal('logs.result'),
  requestId,
  logs: z.array(z.string()),
  truncated: z.boolean(),
  /** set when the container has exited, so the controller can say why the activation failed */
  exit: z.object({ reason: exitReasonSchema, detail: z.string().max(10_000).optional() }).optional(),
  error: errorInfoSchema.optional(),
});

export const messageSchema = z.discriminatedUnion('type', [
  hello,
  welcome,
  agentRegister,
  containerReady,
  containerFailed,
  containerExited,
  containerCreate,
  containerDestroy,
  controllerRegister,
  acquire,
  release,
  usage,
  acquireGranted,
  acquireRejected,
  evict,
  containerGone,
  pause,
  resume,
  destroy,
  logsCollect,
  result,
  logsResult,
  decisionsRequest,
  decisions,
  watchSubscribe,
  watchUnsubscribe,
  watchCluster,
]);

export type Message = z.infer<typeof messageSchema>;
export type MessageType = Message['type'];
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

/** Largest frame a daemon accepts (registration of a large pool fits well within it). */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024;

export function encodeMessage(message: Message): string {
  return JSON.stringify(message);
}

/** Parses and validates one frame. Throws ProtocolError on bad JSON, unknown type or a failed schema. */
export function decodeMessage(data: string | Buffer): Message {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    throw new ProtocolError('frame is not valid JSON');
  }
  const parsed = messageSchema.safeParse(raw);
  if (!parsed.success) {
    const type = typeof raw === 'object' && raw !== null && 'type' in raw ? String((raw as { type: unknown }).type) : '(none)';
    const issue = parsed.error.issues[0];
    throw new ProtocolError(`invalid message of type ${type}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'schema mismatch'}`);
  }
  return parsed.data;
}
