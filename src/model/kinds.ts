/**
 * Runtime kinds this platform runs. `nodejs:default` resolves to the family default at PUT time,
 * as OpenWhisk does. Every nodejs kind runs on the brisk runtime (src/runtime) with the host's node.
 */
export const KINDS = ['nodejs:20', 'nodejs:18', 'nodejs:22'] as const;
export type Kind = (typeof KINDS)[number];
export const DEFAULT_KIND: Kind = 'nodejs:20';

const FAMILY_DEFAULTS: Record<string, Kind> = { nodejs: 'nodejs:20' };

/** Resolves `family:default` to the concrete kind; returns undefined for kinds not supported here. */
export function resolveKind(kind: string): Kind | undefined {
  const [family, version] = kind.split(':');
  if (version === 'default' && family !== undefined) return FAMILY_DEFAULTS[family];
  return (KINDS as readonly string[]).includes(kind) ? (kind as Kind) : undefined;
}

/**
 * The kind of actions that bring their own runtime image (`exec.image`): any OpenWhisk-compatible
 * image that listens on 8080 for /init and /run. Only agents with the docker backend run them.
 */
export const BLACKBOX_KIND = 'blackbox';

/**
 * A Docker image reference: [registry[:port]/]path[:tag][@digest], lower-case path components.
 * Checked so that nothing but an image name ever reaches the Docker API.
 */
export const IMAGE_REFERENCE = /^(?:[a-zA-Z0-9.-]+(?::\d{1,5})?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** Text of the 400 answer for an unsupported kind, listing what is valid. */
export function unsupportedKindMessage(kind: string): string {
  return `The specified runtime '${kind}' is not supported by this platform. Valid values are: ${[...KINDS, 'nodejs:default', BLACKBOX_KIND].join(', ')}.`;
}
