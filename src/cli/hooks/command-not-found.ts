/**
 * oclif `command_not_found` hook: an unknown command is a usage error (exit 2) like any other, and
 * with `--json` it is reported in the one error envelope every command uses.
 */
import { Errors, type Hook } from '@oclif/core';
import { errorEnvelope } from '../envelope.js';

const hook: Hook<'command_not_found'> = async function (options) {
  const error = new Errors.CLIError(`command ${options.id.replaceAll(':', ' ')} not found; \`brisk --help\` lists the commands`, { exit: 2 });
  if (options.argv?.includes('--json') === true) {
    const envelope = errorEnvelope(error);
    process.stdout.write(`${JSON.stringify(envelope)}\n`);
    process.exitCode = envelope.exitCode;
    return;
  }
  throw error;
};

export default hook;
