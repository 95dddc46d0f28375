import * as grpc from "@grpc/grpc-js";
import {
  assertUnary,
  type CallClient,
  type CallContext,
  type CallOptions,
  type CallServer,
  resolveMethod,
  toCallError,
  type UnaryHandler,
} from "./calls.js";
import { CallError, GrpcStatus } from "./errors.js";
import { type FaultController, Faults } from "./faults.js";

function metadataToRecord(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) if (typeof v === "string") out[k] = v;
  return out;
}
function recordToMetadata(r: Record<string, string> | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (r) for (const [k, v] of Object.entries(r)) md.set(k, v);
  return md;
}

export interface GrpcCallServerOptions {
  /** "host:port"; port 0 picks a free one. */
  address: string;
  seed?: number;
  /** Share a fault controller (e.g. one for the in-process and gRPC servers of one service). */
  faults?: FaultController;
}

class GrpcCallServer implements CallServer {
  private readonly server = new grpc.Server();
  private readonly faultsImpl: Faults;
  private listening: Promise<string> | undefined;
  constructor(private readonly opts: GrpcCallServerOptions) {
    this.faultsImpl = opts.faults instanceof Faults ? opts.faults : new Faults(opts.seed);
  }
  get faults(): FaultController {
    return this.faultsImpl;
  }
  addService(def: grpc.ServiceDefinition, impl: Record<string, UnaryHandler>): void {
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const [key, md] of Object.entries(def)) {
      const h = impl[key] ?? impl[md.originalName as string];
      if (!h) continue; // grpc-js answers UNIMPLEMENTED
      assertUnary(key, md as grpc.MethodDefinition<unknown, unknown>);
      const path = md.path;
      handlers[key] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const dl = call.getDeadline();
        const deadline = dl instanceof Date ? dl.getTime() : dl;
        const ctx: CallContext = {
          metadata: metadataToRecord(call.metadata),
          peer: call.getPeer(),
          method: path,
        };
        if (Number.isFinite(deadline)) ctx.deadline = deadline as number;
        this.faultsImpl
          .applyCall(key, path)
          .then(() => h(call.request, ctx))
          .then(
            (res) => cb(null, res),
            (err) => {
              const ce = toCallError(err);
              cb({ code: ce.code, details: ce.details, metadata: recordToMetadata(ce.metadata) });
            },
          );
      };
    }
    this.server.addService(def, handlers);
  }
  listen(): Promise<string> {
    this.listening ??= new Promise<string>((resolve, reject) => {
      this.server.bindAsync(this.opts.address, grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err)
          reject(
            new CallError(GrpcStatus.UNAVAILABLE, `cannot listen on ${this.opts.address}: ${err.message}`),
          );
        else {
          const host = this.opts.address.slice(0, this.opts.address.lastIndexOf(":"));
          resolve(`${host}:${port}`);
        }
      });
    });
    return this.listening;
  }
  close(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2000);
      this.server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

export function createGrpcCallServer(opts: GrpcCallServerOptions): CallServer {
  return new GrpcCallServer(opts);
}

class GrpcCallClient implements CallClient {
  private readonly client: grpc.Client;
  private readonly faultsImpl: Faults;
  constructor(
    private readonly def: grpc.ServiceDefinition,
    address: string,
    seed?: number,
  ) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
    this.faultsImpl = new Faults(seed);
  }
  get faults(): FaultController {
    return this.faultsImpl;
  }
  async call<Req, Res>(method: string, req: Req, opts?: CallOptions): Promise<Res> {
    const m = resolveMethod(this.def, method);
    if (!m) throw new CallError(GrpcStatus.UNIMPLEMENTED, `unknown method ${method}`);
    const deadline = opts?.deadlineMs !== undefined ? Date.now() + opts.deadlineMs : undefined;
    await this.faultsImpl.applyCall(m.key, m.def.path);
    return new Promise<Res>((resolve, reject) => {
      const callOpts: grpc.CallOptions = {};
      if (deadline !== undefined) callOpts.deadline = deadline;
      this.client.makeUnaryRequest(
        m.def.path,
        m.def.requestSerialize as (v: Req) => Buffer,
        m.def.responseDeserialize as (b: Buffer) => Res,
        req,
        recordToMetadata(opts?.metadata),
        callOpts,
        (err, res) => {
          if (err) {
            const md = err.metadata ? metadataToRecord(err.metadata) : {};
            reject(new CallError(err.code, err.details, { metadata: md }));
          } else resolve(res as Res);
        },
      );
    });
  }
  close(): void {
    this.client.close();
  }
}

export function createGrpcCallClient(
  def: grpc.ServiceDefinition,
  address: string,
  opts?: { seed?: number },
): CallClient {
  return new GrpcCallClient(def, address, opts?.seed);
}
