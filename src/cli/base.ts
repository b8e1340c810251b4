/**
 * The base commands. `BriskCommand` owns output for every command: `--json` envelopes (one on
 * success, one on error), human errors with the next step on stderr, exit codes, colour only on a
 * TTY, and the signal-driven shutdown of long-running commands. `ApiCommand` adds the API target
 * (`--apihost`, `--auth`, `--profile`, else the saved config) and wsk's `-p KEY VALUE` pairs.
 */
import { format } from 'node:util';
import { Command, Flags } from '@oclif/core';
import { createClient, type BriskClient } from '../client/client.js';
import { InvalidInputError, messageOf } from '../errors.js';
import { openCliConfig, resolveApiTarget, type ApiTargetFlags } from './config.js';
import { errorEnvelope, successEnvelope } from './envelope.js';
import { plainStyle, renderTable, styleFor, type Style } from './format.js';
import { extractPairs } from './params.js';
import { waitForShutdown, type ShutdownWaiter } from './shutdown.js';

/** After close, a process that still has open handles is made to exit after this long. */
const LINGER_MS = 3_000;

export abstract class BriskCommand extends Command {
  static override enableJsonFlag = true;

  protected style: Style = plainStyle;

  protected override async init(): Promise<void> {
    await super.init();
    this.style = styleFor(process.stdout);
  }

  /** Terminal width for tables; unlimited when stdout is not a terminal (pipes get whole cells). */
  protected get width(): number {
    return process.stdout.isTTY ? process.stdout.columns : Number.POSITIVE_INFINITY;
  }

  protected table(headers: readonly string[], rows: readonly (readonly string[])[]): void {
    this.log(renderTable(headers, rows, { width: this.width, style: this.style }));
  }

  /** Human output on stdout (silent with --json); written directly so it is one stream with logJson. */
  override log(message = '', ...args: unknown[]): void {
    if (!this.jsonEnabled()) process.stdout.write(`${format(message, ...args)}\n`);
  }

  override toSuccessJson(result: unknown): unknown {
    return successEnvelope(result);
  }

  /** Pretty on a terminal; one line otherwise, so scripts and tests can read line by line. */
  override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, process.stdout.isTTY ? 2 : undefined)}\n`);
  }

  /** Prints a success envelope now (for commands that keep running after reporting). */
  protected emitJson(result: unknown): void {
    this.logJson(successEnvelope(result));
  }

  /** Every error ends here: one envelope with --json, else a message and the next step on stderr. */
  override async catch(error: Error & { exitCode?: number }): Promise<void> {
    const envelope = errorEnvelope(error);
    process.exitCode = envelope.exitCode;
    if (this.jsonEnabled()) {
      this.logJson(envelope);
      return;
    }
    const style = styleFor(process.stderr);
    process.stderr.write(`${style.paint('red', 'error')} ${style.paint('dim', `[${envelope.code}]`)} ${envelope.message}\n`);
    process.stderr.write(`${style.paint('dim', `next: ${envelope.hint}`)}\n`);
    if (process.env.DEBUG !== undefined && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
  }

  /** Progress and status lines go to stderr, so stdout stays the command's result. Silent with --json. */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${message}\n`);
  }

  /**
   * Pass a waiter made before starting anything, so a signal during start-up is not lost (and does
   * not kill the process before it can clean up).
   * Runs until SIGINT or SIGTERM, then calls `close` (the same path tests use). A close failure sets
   * exit code 5; if handles still keep the process alive afterwards, it is made to exit.
   */
  protected async runUntilSignal(close: () => Promise<void>, waiter: ShutdownWaiter = waitForShutdown()): Promise<void> {
    const signal = await waiter.signal;
    this.note(`received ${signal}, shutting down…`);
    try {
      await close();
      this.note('stopped');
    } catch (error) {
      process.exitCode = 5;
      process.stderr.write(`error during shutdown: ${messageOf(error)}\n`);
    } finally {
      waiter.dispose();
    }
    const linger = setTimeout(() => {
      process.stderr.write('warning: open handles remained after shutdown; exiting anyway\n');
      process.exit(process.exitCode ?? 0);
    }, LINGER_MS);
    linger.unref();
  }
}

/** Commands that call the REST API. */
export abstract class ApiCommand extends BriskCommand {
  static override baseFlags = {
    apihost: Flags.string({ description: 'API host, e.g. http://127.0.0.1:3233 (default: the saved profile; env BRISK_APIHOST)', helpGroup: 'API' }),
    auth: Flags.string({ char: 'u', description: 'API key UUID:KEY (default: the saved profile; env BRISK_AUTH)', helpGroup: 'API' }),
    profile: Flags.string({ description: 'saved profile to use (default: the current one; env BRISK_PROFILE)', helpGroup: 'API' }),
  };

  /** Set by commands that take wsk's `-p KEY VALUE`; the pairs are taken out of argv before oclif parses. */
  protected static takesParamPairs = false;
  protected paramPairs: [string, string][] = [];

  protected override async init(): Promise<void> {
    await super.init();
    if ((this.constructor as typeof ApiCommand).takesParamPairs) {
      const bad = this.argv.find((token) => token.startsWith('--param=') || /^-p.+/.test(token));
      if (bad !== undefined) throw new InvalidInputError(`'${bad}' is not how parameters are given.`, { hint: 'Use -p KEY VALUE (repeatable) or -P params.json.' });
      const extracted = extractPairs(this.argv, ['-p', '--param']);
      this.argv = extracted.argv;
      this.paramPairs = extracted.pairs;
    }
  }

  /** A client for the resolved API target (flags, env, then the saved profile). */
  protected client(flags: ApiTargetFlags): BriskClient {
    const target = resolveApiTarget({ flags, config: openCliConfig() });
    return createClient({ apihost: target.apihost, auth: target.auth, ...(target.namespace === undefined ? {} : { namespace: target.namespace }) });
  }
}

/** `--profile` of the `brisk config` commands: the profile to read or change. */
export const configProfileFlag = Flags.string({ description: 'profile to work on (default: the current one; env BRISK_PROFILE)' });

/** `-p` for help output only: ApiCommand takes the pairs out of argv before oclif parses. */
export const paramFlag = Flags.string({
  char: 'p',
  description: 'parameter KEY VALUE; VALUE is JSON when it parses, else a string (repeatable)',
  helpValue: 'KEY VALUE',
  multiple: true,
});

/** `-P FILE`: a JSON object of parameters; `-p` pairs win over it. */
export const paramFileFlag = Flags.string({ char: 'P', description: 'JSON file of parameters', helpValue: 'FILE' });
