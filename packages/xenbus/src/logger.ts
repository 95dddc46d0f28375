// The logger port of the drivers and flows built on xenbus (blkfront, blkback, displfront,
// displback, the toolstack): pino-shaped, so a pino logger or a child satisfies it as it is.

export interface DriverLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** A child bound to more fields ({domid, devid, queue}); absent = the logger itself. */
  child?(bindings: Record<string, unknown>): DriverLogger;
}

/** A logger that drops everything. */
export const NULL_LOGGER: DriverLogger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

export function childLogger(log: DriverLogger, bindings: Record<string, unknown>): DriverLogger {
  return log.child ? log.child(bindings) : log;
}
