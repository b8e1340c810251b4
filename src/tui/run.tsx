/**
 * Runs the live view on this terminal until the operator quits: switches to the terminal's
 * alternate screen (so quitting gives back the shell's screen as it was), renders the App with Ink,
 * and always switches back, also when the app fails.
 */
import { render } from 'ink';
import { App } from './app.js';

export interface RunTopOptions {
  apihost: string;
  auth: string;
  /** default process.stdout; must be a TTY */
  stdout?: NodeJS.WriteStream;
  /** default process.stdin; must be a TTY (keys are read in raw mode) */
  stdin?: NodeJS.ReadStream;
}

const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h\u001B[H';
const LEAVE_ALTERNATE_SCREEN = '\u001B[?1049l';

/** Resolves when the operator quit (`q` or Ctrl-C). */
export async function runTop(options: RunTopOptions): Promise<void> {
  const stdout = options.stdout ?? process.stdout;
  const stdin = options.stdin ?? process.stdin;
  stdout.write(ENTER_ALTERNATE_SCREEN);
  const leave = () => stdout.write(LEAVE_ALTERNATE_SCREEN);
  // a crash or kill that bypasses the finally below still gives the terminal back
  process.once('exit', leave);
  try {
    // Ctrl-C is a key the reducer handles (quit), so the same exit path restores the terminal
    const instance = render(<App apihost={options.apihost} auth={options.auth} />, { stdout, stdin, exitOnCtrlC: false, patchConsole: true });
    await instance.waitUntilExit();
  } finally {
    process.off('exit', leave);
    leave();
  }
}
