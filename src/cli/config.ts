/**
 * The CLI's saved settings: named profiles of settings (`apihost`, `auth`, `namespace`) and which one
 * is current, kept through `conf` in the user's config directory (`~/.config/brisk-nodejs/config.json`
 * on Linux), or in `$BRISK_CONFIG_DIR` when set (tests always set it). Values read back are
 * validated with zod; values set through `setKey` are validated per key (`validateConfigValue`).
 */
import Conf from 'conf';
import { z } from 'zod';
import { ConfigError, ConflictError, NotFoundError, messageOf } from '../errors.js';

export const DEFAULT_PROFILE = 'default';

/** The keys a profile holds, in the order they are listed. */
export const CONFIG_KEYS = ['apihost', 'auth', 'namespace'] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

/** What each key means, for `brisk config list --help` and error messages. */
export const CONFIG_KEY_DESCRIPTIONS: Record<ConfigKey, string> = {
  apihost: 'API host, an http:// or https:// URL, e.g. http://127.0.0.1:3233',
  auth: 'API key as UUID:KEY',
  namespace: 'namespace of entity paths; default _ (the namespace of the key)',
};

/** Profile names: letters, digits, `_`, `-`, `.`, up to 64 characters. */
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** OpenWhisk's entity name rule (namespaces follow it), or `_`. */
const NAMESPACE = /^(_|[\w]|[\w][\w@ .-]{0,254}[\w@.-])$/;

const profileSchema = z.object({ apihost: z.string().min(1).optional(), auth: z.string().min(1).optional(), namespace: z.string().min(1).optional() });
/** A profile as saved: any of the keys may be unset. */
export type ProfileSettings = z.infer<typeof profileSchema>;
/** A complete API target, as `brisk up` and `brisk controller` save it. */
export type Profile = { apihost: string; auth: string; namespace?: string };

const configSchema = z.object({
  currentProfile: z.string().min(1).default(DEFAULT_PROFILE),
  profiles: z.record(z.string().min(1), profileSchema).default({}),
});
type ConfigData = z.infer<typeof configSchema>;

export interface CliConfig {
  /** the config file */
  readonly path: string;
  /** the profile used when no --profile is given; `default` unless changed */
  currentProfile(): string;
  profile(name: string): ProfileSettings | undefined;
  profiles(): Record<string, ProfileSettings>;
  /** saves (replaces) a profile; `makeCurrent` also makes it the current profile */
  saveProfile(name: string, profile: Profile, options?: { makeCurrent?: boolean }): void;
  /** Validates and sets one key of a profile, creating the profile if needed; returns the stored value. */
  setKey(profile: string, key: string, value: string): string;
  /** Removes one key of a profile; NotFoundError when the profile does not exist. */
  unsetKey(profile: string, key: string): void;
  /** Creates an empty (or given) profile; ConflictError when it exists. Settings are validated. */
  createProfile(name: string, settings?: Partial<Record<ConfigKey, string>>, options?: { makeCurrent?: boolean }): ProfileSettings;
  /** Deletes a profile; deleting the current one makes `default` current. NotFoundError when absent. */
  deleteProfile(name: string): void;
  /** Makes a profile current; NotFoundError when it does not exist. */
  useProfile(name: string): void;
}

function validKeys(): string {
  return CONFIG_KEYS.join(', ');
}

/** The key, or ConfigError naming the valid keys. Pure. */
export function parseConfigKey(key: string): ConfigKey {
  if ((CONFIG_KEYS as readonly string[]).includes(key)) return key as ConfigKey;
  throw new ConfigError(`Unknown config key '${key}'. Valid keys: ${validKeys()}.`, {
    hint: `Use one of: ${CONFIG_KEYS.map((k) => `${k} (${CONFIG_KEY_DESCRIPTIONS[k]})`).join('; ')}.`,
  });
}

/** A profile name, or ConfigError. Pure. */
export function parseProfileName(name: string): string {
  if (PROFILE_NAME.test(name)) return name;
  throw new ConfigError(`Invalid profile name '${name}': use letters, digits, '_', '-' and '.', starting with a letter or digit (at most 64).`);
}

/**
 * Validates a value for a key and returns it normalised (an apihost loses its trailing slash).
 * Throws ConfigError saying what the key takes. Pure.
 */
export function validateConfigValue(key: ConfigKey, value: string): string {
  const bad = (why: string) =>
    new ConfigError(`Invalid value for ${key}: ${why}.`, { hint: `${key} takes ${CONFIG_KEY_DESCRIPTIONS[key]}.` });
  switch (key) {
    case 'apihost': {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw bad(`'${value}' is not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(`'${value}' is not an http:// or https:// URL`);
      if (url.search !== '' || url.hash !== '') throw bad('it must not have a query or fragment');
      return value.replace(/\/+$/, '');
    }
    case 'auth':
      if (!/^[^\s:]+:[^\s:]+$/.test(value)) throw bad('expected UUID:KEY (two parts separated by one colon, no spaces)');
      return value;
    case 'namespace':
      if (!NAMESPACE.test(value)) throw bad(`'${value}' is not a namespace name (letters, digits, _, @, ., -, space; or _)`);
      return value;
    default: {
      const unreachable: never = key;
      return unreachable;
    }
  }
}

/** An API key shown in tables: the UUID and the first 4 characters of the key. Pure. */
export function maskAuth(auth: string): string {
  const colon = auth.indexOf(':');
  if (colon < 0) return '****';
  return `${auth.slice(0, colon)}:${auth.slice(colon + 1, colon + 5)}…`;
}

function noProfile(name: string): NotFoundError {
  return new NotFoundError(`There is no profile '${name}' in the brisk config.`, {
    hint: 'List the profiles with `brisk config list`; create one with `brisk config create NAME`.',
  });
}

export interface OpenConfigOptions {
  /** directory of config.json; default `$BRISK_CONFIG_DIR`, else the user's config directory */
  dir?: string;
  env?: NodeJS.ProcessEnv;
}

/** Opens (without creating) the config. Throws ConfigError when the file exists but is invalid. */
export function openCliConfig(options: OpenConfigOptions = {}): CliConfig {
  const env = options.env ?? process.env;
  const dir = options.dir ?? (env.BRISK_CONFIG_DIR !== undefined && env.BRISK_CONFIG_DIR !== '' ? env.BRISK_CONFIG_DIR : undefined);
  let conf: Conf<ConfigData>;
  try {
    // 0o600: the file holds API keys.
    conf = new Conf<ConfigData>({ projectName: 'brisk', configFileMode: 0o600, ...(dir === undefined ? {} : { cwd: dir }) });
  } catch (error) {
    throw new ConfigError(`Cannot read the brisk config: ${messageOf(error)}`, {
      cause: error,
      hint: 'Fix or delete the config file (set BRISK_CONFIG_DIR to use another directory).',
    });
  }

  function read(): ConfigData {
    const parsed = configSchema.safeParse(conf.store);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(`The config file ${conf.path} is invalid at '${issue?.path.join('.') ?? ''}': ${issue?.message ?? 'invalid'}.`, {
        hint: `Fix or delete ${conf.path}; \`brisk up\` writes a fresh one.`,
      });
    }
    return parsed.data;
  }

  return {
    path: conf.path,
    currentProfile: () => read().currentProfile,
    profile: (name) => read().profiles[name],
    profiles: () => read().profiles,
    saveProfile(name, profile, { makeCurrent = false } = {}) {
      const data = read();
      // Keys other than the target (e.g. a namespace set by `brisk config set`) are kept.
      const next: ConfigData = {
        currentProfile: makeCurrent ? name : data.currentProfile,
        profiles: { ...data.profiles, [name]: profileSchema.parse({ ...data.profiles[name], ...profile }) },
      };
      conf.store = next;
    },
    setKey(name, rawKey, value) {
      const key = parseConfigKey(rawKey);
      const checked = validateConfigValue(key, value);
      const data = read();
      parseProfileName(name);
      conf.store = { ...data, profiles: { ...data.profiles, [name]: { ...data.profiles[name], [key]: checked } } };
      return checked;
    },
    unsetKey(name, rawKey) {
      const key = parseConfigKey(rawKey);
      const data = read();
      const existing = data.profiles[name];
      if (existing === undefined) throw noProfile(name);
      const { [key]: _removed, ...rest } = existing;
      conf.store = { ...data, profiles: { ...data.profiles, [name]: rest } };
    },
    createProfile(name, settings = {}, { makeCurrent = false } = {}) {
      parseProfileName(name);
      const data = read();
      if (data.profiles[name] !== undefined) {
        throw new ConflictError(`The profile '${name}' exists.`, { hint: `Change it with \`brisk config set KEY VALUE --profile ${name}\`, or delete it first.` });
      }
      const profile: ProfileSettings = {};
      for (const [key, value] of Object.entries(settings)) if (value !== undefined) profile[parseConfigKey(key)] = validateConfigValue(parseConfigKey(key), value);
      conf.store = { currentProfile: makeCurrent ? name : data.currentProfile, profiles: { ...data.profiles, [name]: profile } };
      return profile;
    },
    deleteProfile(name) {
      const data = read();
      if (data.profiles[name] === undefined) throw noProfile(name);
      const { [name]: _removed, ...profiles } = data.profiles;
      conf.store = { currentProfile: data.currentProfile === name ? DEFAULT_PROFILE : data.currentProfile, profiles };
    },
    useProfile(name) {
      const data = read();
      if (data.profiles[name] === undefined) throw noProfile(name);
      conf.store = { ...data, currentProfile: name };
    },
  };
}

export interface ApiTargetFlags {
  apihost?: string | undefined;
  auth?: string | undefined;
  profile?: string | undefined;
}

export interface ApiTarget {
  apihost: string;
  auth: string;
  /** the profile the values came from (or would have) */
  profile: string;
  /** namespace of entity paths (`BRISK_NAMESPACE`, else the profile's); absent means `_` */
  namespace?: string;
}

/**
 * Where API commands go, by precedence: flags, then `BRISK_APIHOST`/`BRISK_AUTH`, then the profile
 * (`--profile`, else `BRISK_PROFILE`, else the config's current profile). Pure apart from reading the config.
 */
export function resolveApiTarget(options: { flags: ApiTargetFlags; config: Pick<CliConfig, 'currentProfile' | 'profile'>; env?: NodeJS.ProcessEnv }): ApiTarget {
  const env = options.env ?? process.env;
  const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
  const profileName = nonEmpty(options.flags.profile) ?? nonEmpty(env.BRISK_PROFILE) ?? options.config.currentProfile();
  const needsProfile = nonEmpty(options.flags.apihost) === undefined && nonEmpty(env.BRISK_APIHOST) === undefined;
  const needsAuth = nonEmpty(options.flags.auth) === undefined && nonEmpty(env.BRISK_AUTH) === undefined;
  const saved = needsProfile || needsAuth ? options.config.profile(profileName) : undefined;
  if (saved === undefined && nonEmpty(options.flags.profile) !== undefined && (needsProfile || needsAuth)) {
    throw new ConfigError(`There is no profile '${profileName}' in the brisk config.`, {
      hint: 'Run `brisk up` (it saves the default profile), or pass --apihost and --auth.',
    });
  }
  const apihost = nonEmpty(options.flags.apihost) ?? nonEmpty(env.BRISK_APIHOST) ?? saved?.apihost;
  const auth = nonEmpty(options.flags.auth) ?? nonEmpty(env.BRISK_AUTH) ?? saved?.auth;
  if (apihost === undefined || auth === undefined) {
    throw new ConfigError(`No ${apihost === undefined ? 'API host' : 'API key'} is configured (profile '${profileName}').`, {
      hint: 'Run `brisk up` first (it saves the API host and key), or pass --apihost and --auth.',
    });
  }
  // A profile's namespace goes with its credentials: not applied when flags or env replace both.
  const namespace = nonEmpty(env.BRISK_NAMESPACE) ?? saved?.namespace;
  return { apihost, auth, profile: profileName, ...(namespace === undefined ? {} : { namespace }) };
}

/** The profile a `brisk config` command works on: `--profile`, else `BRISK_PROFILE`, else the current one. */
export function selectedProfile(options: { flag?: string | undefined; config: Pick<CliConfig, 'currentProfile'>; env?: NodeJS.ProcessEnv }): string {
  const env = options.env ?? process.env;
  if (options.flag !== undefined && options.flag !== '') return options.flag;
  if (env.BRISK_PROFILE !== undefined && env.BRISK_PROFILE !== '') return env.BRISK_PROFILE;
  return options.config.currentProfile();
}

/** One row of `brisk config list`. */
export interface ProfileListing {
  name: string;
  current: boolean;
  settings: ProfileSettings;
}

/** Every profile, sorted by name, the current one marked (also when it has no settings yet). Pure apart from reading the config. */
export function listProfiles(config: Pick<CliConfig, 'currentProfile' | 'profiles'>): ProfileListing[] {
  const profiles = config.profiles();
  const current = config.currentProfile();
  const names = new Set([...Object.keys(profiles)]);
  return [...names].sort().map((name) => ({ name, current: name === current, settings: profiles[name] ?? {} }));
}
