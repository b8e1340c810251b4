/**
 * Basic authentication against the entity store, with a bounded cache of identities that have
 * authenticated once: the hot path then costs one base64 decode and one constant-time compare.
 */
import { UnauthenticatedError } from '../../errors.js';
import type { EntityStore, Identity } from '../../store/types.js';
import { keysEqual } from '../../store/sqlite/entities.js';
import { LruCache } from './lru.js';

export const AUTH_MISSING = 'The resource requires authentication, which was not supplied with the request';
export const AUTH_INVALID = 'The supplied authentication is invalid';

/** Splits `Basic base64(uuid:key)`; undefined when the header is absent or not Basic. */
export function parseBasicAuth(header: string | undefined): { uuid: string; key: string } | undefined {
  if (header === undefined || header.length < 7 || header.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return { uuid: decoded, key: '' };
  return { uuid: decoded.slice(0, colon), key: decoded.slice(colon + 1) };
}

export class Authenticator {
  readonly #entities: EntityStore;
  readonly #cache: LruCache<string, Identity>;

  /** `cacheSize` bounds the identity cache (default 10000). Identities are immutable here, so no TTL. */
  constructor(entities: EntityStore, cacheSize = 10_000) {
    this.#entities = entities;
    this.#cache = new LruCache(cacheSize);
  }

  /** The identity of an Authorization header, or throws UnauthenticatedError (401). */
  authenticate(header: string | undefined): Identity {
    if (header === undefined) throw new UnauthenticatedError(AUTH_MISSING);
    const creds = parseBasicAuth(header);
    if (creds === undefined) throw new UnauthenticatedError(AUTH_MISSING);
    const cached = this.#cache.get(creds.uuid);
    if (cached !== undefined) {
      if (keysEqual(cached.key, creds.key)) return cached;
      throw new UnauthenticatedError(AUTH_INVALID);
    }
    const identity = this.#entities.findIdentity(creds.uuid, creds.key);
    if (identity === undefined) throw new UnauthenticatedError(AUTH_INVALID);
    this.#cache.set(creds.uuid, identity);
    return identity;
  }
}
