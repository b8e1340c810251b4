/**
 * Loads the code of a JavaScript source action and finds its entry function.
 *
 * The code is evaluated once, in this realm (so AsyncLocalStorage contexts reach into it), inside a
 * CommonJS-like wrapper that provides `require`, `module`, `exports`, `__filename`, `__dirname`,
 * `console` and `process`. Both styles work: a top-level `function main(...)` and
 * `module.exports = ...` / `exports.main = ...`.
 *
 * Zip actions ({@link loadZipAction}) are extracted to a directory of their own and loaded with node's
 * `require`, so bundled `node_modules` resolve as usual.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { extractZip, normaliseEntryName, type ZipLimits } from './zip.js';
import { messageOf } from '../errors.js';

export type ActionFunction = (params: unknown) => unknown;

/** Entry names are an identifier or a dotted path of identifiers; nothing else is evaluated. */
const ENTRY_NAME = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

export interface LoadActionOptions {
  code: string;
  /** name of the entry function; default `main` */
  main?: string;
  /** directory `require` resolves from and `__dirname` names; default process.cwd() */
  baseDir?: string;
}

export class ActionLoadError extends Error {
  override readonly name = 'ActionLoadError';
}

interface ModuleShim {
  exports: unknown;
}

/** Evaluates the code and returns its entry function. Throws whatever evaluation throws, or ActionLoadError. */
export function loadAction(options: LoadActionOptions): ActionFunction {
  const main = options.main ?? 'main';
  if (!ENTRY_NAME.test(main)) throw new ActionLoadError(`The entry point name '${main}' is not a valid identifier.`);
  const baseDir = options.baseDir ?? process.cwd();
  const filename = path.join(baseDir, 'action.js');
  // The trailing lookup uses a direct eval so that function declarations of the code (which are
  // local to the wrapper) can be found by name; the name was validated above.
  const source =
    '(function (exports, require, module, __filename, __dirname, console, process) {' +
    options.code +
    '\n;return function (__brisk_entry) { try { return eval(__brisk_entry); } catch (e) { return undefined; } };\n})';
  const wrapper = new vm.Script(source, { filename }).runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: ModuleShim,
    filename: string,
    dirname: string,
    console: Console,
    process: NodeJS.Process,
  ) => (name: string) => unknown;
  const module: ModuleShim = { exports: {} };
  const lookup = wrapper(module.exports, createRequire(filename), module, filename, baseDir, console, process);

  const inScope = lookup(main);
  if (typeof inScope === 'function') return inScope as ActionFunction;
  const exported = resolvePath(module.exports, main);
  if (typeof exported === 'function') return exported as ActionFunction;
  if (typeof module.exports === 'function' && main === 'main') return module.exports as ActionFunction;
  throw new ActionLoadError(`Action entrypoint '${main}' is not a function.`);
}

function resolvePath(root: unknown, dotted: string): unknown {
  let current: unknown = root;
  for (const part of dotted.split('.')) {
    if ((typeof current !== 'object' && typeof current !== 'function') || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export interface LoadZipActionOptions {
  /** the zip archive, base64-encoded (`exec.code` of an action whose `exec.binary` is true) */
  code: string;
  /**
   * The entry, as OpenWhisk's nodejs runtime reads it for zip actions: `fn` takes export `fn` of the
   * archive's root module (package.json `main`, else index.js); `module.fn` takes export `fn` of
   * `<root>/module` (the part before the first dot is the module, the rest a property path). Default `main`.
   */
  main?: string;
  /** directory in which the fresh extraction directory is created; default os.tmpdir() */
  dir?: string;
  /** once loaded, `process.chdir` into the extraction directory, as OpenWhisk does; default false */
  chdir?: boolean;
  /** remove the extraction directory when the process exits; default false */
  removeOnExit?: boolean;
  /** archive limits; default 10 000 entries and 256 MiB uncompressed (see zip.ts) */
  limits?: ZipLimits;
}

export interface LoadedZipAction {
  action: ActionFunction;
  /** the extraction directory (absolute) */
  root: string;
  /** the module file the entry function was taken from (absolute, symlinks resolved) */
  entryFile: string;
  /** removes the extraction directory; idempotent */
  remove(): void;
}

export const ZipActionMessages = {
  uncompress: (detail: string) => `There was an error uncompressing the action archive: ${detail}`,
  noRoot: 'Zipped actions must contain either package.json or index.js at the root.',
  invalidEntry: (main: string) => `The entry point name '${main}' is not valid.`,
  outsideRoot: (file: string) => `The action module '${file}' lies outside the action archive.`,
  notAFunction: (main: string) => `Action entrypoint '${main}' is not a function.`,
} as const;

/** `fn` or `module.fn`: split at the first dot, as OpenWhisk does for zip actions. */
const ZIP_ENTRY = /^(?:([^.]+)\.)?([^.].*)$/;

/**
 * Decodes and extracts a zip action into a fresh directory under `dir`, requires its module and returns
 * the entry function with the extraction directory. Synchronous, like {@link loadAction}.
 * Unlike source actions, and like OpenWhisk, a module whose `module.exports` is itself a function is not
 * an entry for `main`: the function must be the export named by `main`.
 * On failure the extraction directory is removed and nothing is changed (no chdir, no exit hook).
 * @throws ActionLoadError (an archive refused by zip.ts has the ZipError as `cause`), or whatever
 *   requiring the module throws
 */
export function loadZipAction(options: LoadZipActionOptions): LoadedZipAction {
  const main = options.main ?? 'main';
  const { modulePath, exportPath } = splitZipEntry(main);

  let root: string;
  try {
    const archive = Buffer.from(options.code.trim(), 'base64');
    root = extractZip({ archive, parentDir: options.dir, limits: options.limits }).dir;
  } catch (err) {
    throw new ActionLoadError(ZipActionMessages.uncompress(messageOf(err)), { cause: err });
  }
  const remove = (): void => fs.rmSync(root, { recursive: true, force: true });

  let action: ActionFunction;
  let entryFile: string;
  try {
    if (modulePath === undefined && !fs.existsSync(path.join(root, 'package.json')) && !fs.existsSync(path.join(root, 'index.js'))) {
      throw new ActionLoadError(ZipActionMessages.noRoot);
    }
    // Any file name inside root will do: createRequire only needs a location to resolve from.
    const requireFromRoot = createRequire(path.join(root, 'package.json'));
    // Requiring the directory itself gives node's own rule: package.json `main`, else index.js.
    entryFile = fs.realpathSync(requireFromRoot.resolve(modulePath === undefined ? root : path.join(root, modulePath)));
    const realRoot = fs.realpathSync(root);
    // package.json `main` is a path like any other: `../x.js` must not load code from outside the archive.
    if (!entryFile.startsWith(realRoot + path.sep)) throw new ActionLoadError(ZipActionMessages.outsideRoot(entryFile));
    const exported = resolvePath(requireFromRoot(entryFile), exportPath);
    if (typeof exported !== 'function') throw new ActionLoadError(ZipActionMessages.notAFunction(main));
    action = exported as ActionFunction;
  } catch (err) {
    remove();
    throw err;
  }

  if (options.chdir === true) process.chdir(root);
  if (options.removeOnExit === true) process.once('exit', remove);
  return { action, root, entryFile, remove };
}

function splitZipEntry(main: string): { modulePath: string | undefined; exportPath: string } {
  const match = ZIP_ENTRY.exec(main);
  const modulePart = match?.[1];
  const exportPath = match?.[2];
  if (exportPath === undefined || !ENTRY_NAME.test(exportPath)) throw new ActionLoadError(ZipActionMessages.invalidEntry(main));
  if (modulePart === undefined) return { modulePath: undefined, exportPath };
  let modulePath: string;
  try {
    modulePath = normaliseEntryName(modulePart);
  } catch (err) {
    throw new ActionLoadError(ZipActionMessages.invalidEntry(main), { cause: err });
  }
  if (modulePath === '') throw new ActionLoadError(ZipActionMessages.invalidEntry(main));
  return { modulePath, exportPath };
}
