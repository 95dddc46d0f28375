import { status as GrpcStatus } from "@grpc/grpc-js";

export { GrpcStatus };

/** Stable codes of event-bus errors. */
export const BusErrorCode = Object.freeze({
  Timeout: "TIMEOUT",
  NoResponders: "NO_RESPONDERS",
  Closed: "CLOSED",
  BadSubject: "BAD_SUBJECT",
  Connection: "CONNECTION",
  Protocol: "PROTOCOL",
  BadFaultRules: "BAD_FAULT_RULES",
} as const);
export type BusErrorCode = (typeof BusErrorCode)[keyof typeof BusErrorCode];

/** An event-bus error: the same codes from every adapter. */
export class BusError extends Error {
  override readonly name = "BusError";
  constructor(
    readonly code: BusErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  static is(err: unknown, code?: BusErrorCode): err is BusError {
    return err instanceof BusError && (code === undefined || err.code === code);
  }
}

/**
 * A call failure with a gRPC status code. Handlers throw it; clients of every adapter receive it with
 * the same code and details. Other errors thrown by a handler arrive as UNKNOWN with their message.
 */
export class CallError extends Error {
  override readonly name = "CallError";
  readonly code: number;
  readonly details: string;
  readonly metadata: Record<string, string>;
  constructor(
    code: number,
    details: string,
    options?: { cause?: unknown; metadata?: Record<string, string> },
  ) {
    super(`${statusName(code)}: ${details}`, options);
    this.code = code;
    this.details = details;
    this.metadata = options?.metadata ?? {};
  }
  get statusName(): string {
    return statusName(this.code);
  }
  static is(err: unknown, code?: number): err is CallError {
    return err instanceof CallError && (code === undefined || err.code === code);
  }
}

export function statusName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string>)[code] ?? `STATUS_${code}`;
}
