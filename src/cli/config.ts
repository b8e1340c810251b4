/**
 * The CLI's saved settings: named profiles of `{apihost, auth}` and which one is current, kept
 * through `conf` in the user's config directory (`~/.config/brisk-nodejs/config.json` on Linux), or
 * in `$BRISK_CONFIG_DIR` when set (tests always set it). Values read back are validated with zod.
 */
import Conf from 'conf';
import { z } from 'zod';
import { ConfigError, messageOf } from '../errors.js';

export const DEFAULT_PROFILE = 'default';

const profileSchema = z.object({ apihost: z.string().min(1), auth: z.string().min(1) });
export type Profile = z.infer<typeof profileSchema>;

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
  profile(name: string): Profile | undefined;
  profiles(): Record<string, Profile>;
  /** saves (replaces) a profile; `makeCurrent` also makes it the current profile */
  saveProfile(name: string, profile: Profile, options?: { makeCurrent?: boolean }): void;
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
      const next: ConfigData = {
        currentProfile: makeCurrent ? name : data.currentProfile,
        profiles: { ...data.profiles, [name]: profileSchema.parse(profile) },
      };
      conf.store = next;
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
  return { apihost, auth, profile: profileName };
}
