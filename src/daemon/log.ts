/**
 * Structured logging for the daemons. A daemon takes a `LogFn`; the CLI builds one with
 * createLogger from `--log-level` and `--log-format`. Lines go to stderr so that stdout stays
 * free for a command's own output (and its `--json`).
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFn = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export interface LoggerOptions {
  /** lowest level written; default 'info' */
  level?: LogLevel;
  /** 'text' for people, 'json' for log shippers; default 'text' */
  format?: 'text' | 'json';
  /** daemon name put on every line, e.g. 'scheduler' */
  component: string;
  /** where lines go; default process.stderr */
  write?: (line: string) => void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: LoggerOptions): LogFn {
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const json = options.format === 'json';
  return (level, message, fields) => {
    if (RANK[level] < min) return;
    const time = new Date().toISOString();
    if (json) {
      write(`${JSON.stringify({ time, level, component: options.component, msg: message, ...fields })}\n`);
      return;
    }
    const extra = fields === undefined ? '' : Object.entries(fields).map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('');
    write(`${time} ${level.toUpperCase().padEnd(5)} [${options.component}] ${message}${extra}\n`);
  };
}

/** A LogFn that drops everything (tests, library use). */
export const silentLog: LogFn = () => undefined;
