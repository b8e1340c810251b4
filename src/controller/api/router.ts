/**
 * Maps a path under `/api/v1` to a route (pure). Unknown paths are undefined (404); each route lists
 * its methods so the server can answer 405.
 */
import { InvalidInputError } from '../../errors.js';

export type Route =
  | { kind: 'info' }
  | { kind: 'namespaces' }
  | { kind: 'limits'; ns: string }
  | { kind: 'emptyCollection'; ns: string }
  | { kind: 'actions'; ns: string }
  | { kind: 'action'; ns: string; name: string; pkg: string | undefined }
  | { kind: 'activations'; ns: string }
  | { kind: 'activation'; ns: string; id: string; part: 'record' | 'result' | 'logs' };

export interface RouteMatch {
  route: Route;
  methods: readonly string[];
}

export const API_BASE = '/api/v1';
const GET = ['GET'] as const;
const ACTION_METHODS = ['GET', 'PUT', 'DELETE', 'POST'] as const;
const EMPTY_COLLECTIONS = new Set(['packages', 'triggers', 'rules']);

function segment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidInputError(`The request path is malformed: '${raw}'.`);
  }
}

/** Route of a path (no query string), or undefined when nothing lives there. */
export function matchRoute(path: string): RouteMatch | undefined {
  if (!path.startsWith(API_BASE)) return undefined;
  const rest = path.slice(API_BASE.length);
  if (rest === '' || rest === '/') return { route: { kind: 'info' }, methods: GET };
  if (rest[0] !== '/') return undefined;
  const parts = rest.slice(1).split('/');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const [top, rawNs, collection, ...tail] = parts;
  if (top !== 'namespaces') return undefined;
  if (rawNs === undefined) return { route: { kind: 'namespaces' }, methods: GET };
  if (collection === undefined) return undefined;
  const ns = segment(rawNs);
  switch (collection) {
    case 'limits':
      return tail.length === 0 ? { route: { kind: 'limits', ns }, methods: GET } : undefined;
    case 'actions': {
      if (tail.length === 0) return { route: { kind: 'actions', ns }, methods: GET };
      if (tail.length === 1) return { route: { kind: 'action', ns, name: segment(tail[0] as string), pkg: undefined }, methods: ACTION_METHODS };
      if (tail.length === 2) {
        return { route: { kind: 'action', ns, name: segment(tail[1] as string), pkg: segment(tail[0] as string) }, methods: ACTION_METHODS };
      }
      return undefined;
    }
    case 'activations': {
      if (tail.length === 0) return { route: { kind: 'activations', ns }, methods: GET };
      const id = segment(tail[0] as string);
      if (tail.length === 1) return { route: { kind: 'activation', ns, id, part: 'record' }, methods: GET };
      if (tail.length === 2 && (tail[1] === 'result' || tail[1] === 'logs')) {
        return { route: { kind: 'activation', ns, id, part: tail[1] }, methods: GET };
      }
      return undefined;
    }
    default:
      if (EMPTY_COLLECTIONS.has(collection) && tail.length === 0) return { route: { kind: 'emptyCollection', ns }, methods: GET };
      return undefined;
  }
}
