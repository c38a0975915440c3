// Structured logs: one JSON object per line on stdout ({ts, level, msg, ...fields}), so a log
// pipeline can filter by controller, key or error without parsing prose.

export const logLevels = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof logLevels)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line (e.g. {controller: "kernels"}). */
  with(fields: LogFields): Logger;
}

export type LogSink = (line: string) => void;

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Errors are not JSON-serialisable by default; keep their message (and status code if any). */
function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { statusCode?: unknown }).statusCode;
    return code === undefined ? value.message : { message: value.message, statusCode: code };
  }
  return value;
}

export function createLogger(level: LogLevel = "info", base: LogFields = {}, sink: LogSink = (l) => process.stdout.write(l + "\n")): Logger {
  const min = rank[level];
  const emit = (lvl: LogLevel, msg: string, fields?: LogFields): void => {
    if (rank[lvl] < min) return;
    const line: LogFields = { ts: new Date().toISOString(), level: lvl, msg };
    for (const [k, v] of Object.entries({ ...base, ...fields })) line[k] = plain(v);
    sink(JSON.stringify(line));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => createLogger(level, { ...base, ...fields }, sink),
  };
}

/** For tests and library defaults: drops everything. */
export const silentLogger: Logger = createLogger("error", {}, () => {});
