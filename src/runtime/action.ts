/**
 * Loads the code of a JavaScript source action and finds its entry function.
 *
 * The code is evaluated once, in this realm (so AsyncLocalStorage contexts reach into it), inside a
 * CommonJS-like wrapper that provides `require`, `module`, `exports`, `__filename`, `__dirname`,
 * `console` and `process`. Both styles work: a top-level `function main(...)` and
 * `module.exports = ...` / `exports.main = ...`.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

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
