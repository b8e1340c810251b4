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

/** Text of the 400 answer for an unsupported kind, listing what is valid. */
export function unsupportedKindMessage(kind: string): string {
  return `The specified runtime '${kind}' is not supported by this platform. Valid values are: ${[...KINDS, 'nodejs:default'].join(', ')}.`;
}
