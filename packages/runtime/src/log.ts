import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

export type { Logger };

export interface LoggerBindings {
  svc: string;
  host: string;
  domid?: number;
  level?: string;
  /** Where lines go (default stdout); tests pass a stream to read them. */
  destination?: DestinationStream;
}

/** A pino JSON logger bound to {svc, host[, domid]}. */
export function createLogger(opts: LoggerBindings): Logger {
  const base: Record<string, unknown> = { svc: opts.svc, host: opts.host };
  if (opts.domid !== undefined) base.domid = opts.domid;
  const options: LoggerOptions = {
    level: opts.level ?? process.env.XENSIM_LOG_LEVEL ?? "info",
    base,
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A child logger for one device of a domain. */
export function deviceLogger(log: Logger, devid: number | string, domid?: number): Logger {
  return log.child(domid === undefined ? { devid } : { domid, devid });
}
