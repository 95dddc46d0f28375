import type * as grpc from "@grpc/grpc-js";
import { describeIdentity, type Identity } from "@xensim/security";
import { CallError, GrpcStatus } from "./errors.js";
import type { FaultController } from "./faults.js";

export interface CallContext {
  metadata: Record<string, string>;
  /** Who called: "ipv4:127.0.0.1:port" over gRPC, "inprocess:<client id>" in process. */
  peer: string;
  /** Absolute deadline (ms since the epoch), if the caller set one. */
  deadline?: number;
  /** Full method path, "/package.Service/Method". */
  method: string;
  /**
   * Who called, as the transport authenticated it: the peer certificate's identity over gRPC with
   * mutual TLS (a TLS server refuses a call without one before any handler), the calling service's
   * identity as its runtime set it in process. Undefined on a transport without credentials
   * (in-process callers outside a service, insecure gRPC): trusted as the host's own.
   */
  identity?: Identity;
  /**
   * In process: the calling thread's id (a service's worker thread). A server that keeps state per
   * caller (xenstored's sessions) drops it when its host says that thread's worker exited, as a
   * daemon sees a dead client's socket close.
   */
  thread?: number;
}

/**
 * An authorisation check run before every handler: undefined lets the call through, a string
 * refuses it with PERMISSION_DENIED and that reason. Decides from ctx.identity, never from a field
 * of the request alone.
 */
export type CallPolicy = (method: string, req: unknown, ctx: CallContext) => string | undefined;

/**
 * A service only dom0 may call (its identities with domid 0: dom0's services, the admin client).
 * A call without an identity came over a transport without credentials (trusted as the host's own).
 */
export const DOM0_ONLY: CallPolicy = (method, _req, ctx) =>
  ctx.identity === undefined || ctx.identity.domid === 0
    ? undefined
    : `${describeIdentity(ctx.identity)} may not call ${method}: dom0 only`;

/** Mutual TLS material (PEM): the CA peers must chain to, and this end's certificate and key. */
export interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
}

// Handler maps are keyed by method and typed per service by their callers.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type UnaryHandler<Req = any, Res = any> = (req: Req, ctx: CallContext) => Promise<Res>;

export interface CallOptions {
  /** Relative deadline; past it the call fails with DEADLINE_EXCEEDED. */
  deadlineMs?: number;
  metadata?: Record<string, string>;
}

export interface CallServer {
  /** Registers handlers by method name (the definition's key, e.g. "Echo", or its original name). */
  addService(def: grpc.ServiceDefinition, impl: Record<string, UnaryHandler>): void;
  /** Starts serving; returns the address (gRPC "host:port", in-process "inprocess:<name>"). Idempotent. */
  listen(): Promise<string>;
  close(): Promise<void>;
  readonly faults: FaultController;
}

export interface CallClient {
  /** Calls a unary method by name ("Echo"), original name, or full path. */
  call<Req = unknown, Res = unknown>(method: string, req: Req, opts?: CallOptions): Promise<Res>;
  close(): void;
  readonly faults: FaultController;
}

export interface ResolvedMethod {
  key: string;
  def: grpc.MethodDefinition<unknown, unknown>;
}

/** Finds a method of a definition by key, original name or full path. */
export function resolveMethod(def: grpc.ServiceDefinition, method: string): ResolvedMethod | undefined {
  for (const [key, md] of Object.entries(def)) {
    if (key === method || md.path === method || md.originalName === method) {
      return { key, def: md as grpc.MethodDefinition<unknown, unknown> };
    }
  }
  return undefined;
}

/** Unary handlers only for now; streaming methods are rejected at addService (room kept in the types). */
export function assertUnary(key: string, md: grpc.MethodDefinition<unknown, unknown>): void {
  if (md.requestStream || md.responseStream) {
    throw new CallError(
      GrpcStatus.UNIMPLEMENTED,
      `streaming method ${md.path} is not supported yet (${key})`,
    );
  }
}

/** Maps whatever a handler threw to a CallError (CallErrors pass through unchanged). */
export function toCallError(err: unknown): CallError {
  if (err instanceof CallError) return err;
  const e = err as { code?: unknown; details?: unknown; message?: unknown };
  if (typeof e?.code === "number" && e.code >= 0 && e.code <= 16 && typeof e.details === "string") {
    return new CallError(e.code, e.details);
  }
  return new CallError(GrpcStatus.UNKNOWN, typeof e?.message === "string" ? e.message : String(err), {
    cause: err,
  });
}

export function deadlineError(method: string): CallError {
  return new CallError(GrpcStatus.DEADLINE_EXCEEDED, `Deadline exceeded calling ${method}`);
}
