import { BroadcastChannel, threadId } from "node:worker_threads";
import type * as grpc from "@grpc/grpc-js";
import type { Identity } from "@xensim/security";
import {
  assertUnary,
  type CallClient,
  type CallContext,
  type CallOptions,
  type CallServer,
  deadlineError,
  resolveMethod,
  toCallError,
  type UnaryHandler,
} from "./calls.js";
import { CallError, GrpcStatus } from "./errors.js";
import { uniqueToken } from "./events.js";
import { type FaultController, Faults } from "./faults.js";

/** Messages on the channel "xensim.calls.<server name>". */
type Wire =
  | { t: "who"; from: string }
  | { t: "up"; server: string }
  | { t: "down"; server: string }
  | {
      t: "req";
      to: string;
      from: string;
      id: number;
      path: string;
      data: Uint8Array;
      md: Record<string, string>;
      deadline?: number;
      /** The calling service's identity, as its runtime set it (the process is the trust boundary). */
      who?: Identity;
      /** The calling thread (worker_threads' threadId). */
      thread?: number;
    }
  | { t: "res"; to: string; id: number; data: Uint8Array }
  | { t: "err"; to: string; id: number; code: number; details: string; md: Record<string, string> };

function channelName(name: string): string {
  return `xensim.calls.${name}`;
}

interface Route {
  key: string;
  md: grpc.MethodDefinition<unknown, unknown>;
  handler: UnaryHandler;
}

export interface InProcessCallServerOptions {
  name: string;
  seed?: number;
  /** Share a fault controller (e.g. one for the in-process and gRPC servers of one service). */
  faults?: FaultController;
}

class InProcessCallServer implements CallServer {
  private readonly id = `srv-${uniqueToken(threadId)}`;
  private readonly routes = new Map<string, Route>();
  private chan: BroadcastChannel | undefined;
  private readonly faultsImpl: Faults;
  private readonly inflight = new Set<Promise<void>>();
  private closing = false;
  constructor(private readonly opts: InProcessCallServerOptions) {
    this.faultsImpl = opts.faults instanceof Faults ? opts.faults : new Faults(opts.seed);
  }
  get faults(): FaultController {
    return this.faultsImpl;
  }
  addService(def: grpc.ServiceDefinition, impl: Record<string, UnaryHandler>): void {
    for (const [key, md] of Object.entries(def)) {
      const h = impl[key] ?? impl[md.originalName as string];
      if (!h) continue;
      assertUnary(key, md as grpc.MethodDefinition<unknown, unknown>);
      this.routes.set(md.path, { key, md: md as grpc.MethodDefinition<unknown, unknown>, handler: h });
    }
  }
  async listen(): Promise<string> {
    if (!this.chan) {
      this.chan = new BroadcastChannel(channelName(this.opts.name));
      this.chan.onmessage = (ev) => this.onWire((ev as unknown as { data: Wire }).data);
      this.chan.postMessage({ t: "up", server: this.id } satisfies Wire);
    }
    return `inprocess:${this.opts.name}`;
  }
  private post(w: Wire): void {
    this.chan?.postMessage(w);
  }
  private onWire(w: Wire): void {
    if (w.t === "who" && !this.closing) {
      this.post({ t: "up", server: this.id });
    } else if (w.t === "req" && w.to === this.id) {
      const p = this.serve(w).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
  }
  private async serve(w: Extract<Wire, { t: "req" }>): Promise<void> {
    const fail = (e: CallError): void =>
      this.post({ t: "err", to: w.from, id: w.id, code: e.code, details: e.details, md: e.metadata });
    if (this.closing)
      return fail(new CallError(GrpcStatus.UNAVAILABLE, `server ${this.opts.name} is closing`));
    const route = this.routes.get(w.path);
    if (!route)
      return fail(
        new CallError(GrpcStatus.UNIMPLEMENTED, `The server does not implement the method ${w.path}`),
      );
    try {
      const req = route.md.requestDeserialize(
        Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength),
      );
      const ctx: CallContext = { metadata: w.md, peer: `inprocess:${w.from}`, method: w.path };
      if (w.deadline !== undefined) ctx.deadline = w.deadline;
      if (w.who !== undefined) ctx.identity = w.who;
      if (w.thread !== undefined) ctx.thread = w.thread;
      await this.faultsImpl.applyCall(route.key, w.path);
      const res = await route.handler(req, ctx);
      const data = route.md.responseSerialize(res);
      this.post({ t: "res", to: w.from, id: w.id, data });
    } catch (err) {
      fail(toCallError(err));
    }
  }
  async close(): Promise<void> {
    if (!this.chan || this.closing) return;
    this.closing = true;
    const all = Promise.allSettled([...this.inflight]);
    await Promise.race([all, new Promise((r) => setTimeout(r, 2000).unref())]);
    this.post({ t: "down", server: this.id });
    this.chan.close();
  }
}

/** A call server reachable by name from any worker thread of this process. */
export function createInProcessCallServer(opts: InProcessCallServerOptions): CallServer {
  return new InProcessCallServer(opts);
}

export interface InProcessCallClientOptions {
  seed?: number;
  /**
   * How long to wait for a server to answer "who" before UNAVAILABLE (default 1000 ms: a server's
   * thread on a loaded machine can take longer than 250 ms to answer, and a worker restarted just
   * then failed its first call although its server was up; an answer ends the wait at once).
   */
  connectTimeoutMs?: number;
  /** The identity of the service this client belongs to (set by the runtime; the server checks it). */
  identity?: Identity;
}

interface Pending {
  server: string;
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  md: grpc.MethodDefinition<unknown, unknown>;
  timer: NodeJS.Timeout | undefined;
}

class InProcessCallClient implements CallClient {
  private readonly id = `cli-${uniqueToken(threadId)}`;
  private readonly chan: BroadcastChannel;
  private readonly servers: string[] = [];
  private readonly faultsImpl: Faults;
  private readonly pending = new Map<number, Pending>();
  private waitingUp: Array<() => void> = [];
  private nextId = 1;
  private closed = false;
  constructor(
    private readonly def: grpc.ServiceDefinition,
    private readonly name: string,
    private readonly opts: InProcessCallClientOptions,
  ) {
    this.faultsImpl = new Faults(opts.seed);
    this.chan = new BroadcastChannel(channelName(name));
    this.chan.onmessage = (ev) => this.onWire((ev as unknown as { data: Wire }).data);
    this.chan.unref();
  }
  get faults(): FaultController {
    return this.faultsImpl;
  }
  private onWire(w: Wire): void {
    switch (w.t) {
      case "up":
        // The newest server first: a server killed without its "down" (a crashed worker) stays
        // listed, and calls must reach the one that replaced it.
        if (!this.servers.includes(w.server)) this.servers.unshift(w.server);
        for (const f of this.waitingUp.splice(0)) f();
        return;
      case "down": {
        const i = this.servers.indexOf(w.server);
        if (i >= 0) this.servers.splice(i, 1);
        for (const [id, p] of this.pending) {
          if (p.server === w.server)
            this.settle(id, new CallError(GrpcStatus.UNAVAILABLE, `server ${this.name} went away`));
        }
        return;
      }
      case "res": {
        if (w.to !== this.id) return;
        const p = this.pending.get(w.id);
        if (!p) return;
        let v: unknown;
        try {
          v = p.md.responseDeserialize(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength));
        } catch (err) {
          this.settle(w.id, new CallError(GrpcStatus.INTERNAL, `cannot decode response: ${String(err)}`));
          return;
        }
        this.settle(w.id, undefined, v);
        return;
      }
      case "err":
        if (w.to !== this.id) return;
        this.settle(w.id, new CallError(w.code, w.details, { metadata: w.md }));
        return;
      default:
        return;
    }
  }
  private settle(id: number, err: Error | undefined, v?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    if (this.pending.size === 0 && !this.closed) this.chan.unref();
    if (err) p.reject(err);
    else p.resolve(v);
  }
  private async server(deadline: number | undefined): Promise<string> {
    if (this.servers.length > 0) return this.servers[0] as string;
    const wait = Math.min(
      this.opts.connectTimeoutMs ?? 1000,
      deadline !== undefined ? deadline - Date.now() : Infinity,
    );
    this.chan.ref();
    try {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, wait));
        this.waitingUp.push(() => {
          clearTimeout(t);
          resolve();
        });
        this.chan.postMessage({ t: "who", from: this.id } satisfies Wire);
      });
    } finally {
      if (this.pending.size === 0) this.chan.unref();
    }
    const s = this.servers[0];
    if (s !== undefined) return s;
    if (deadline !== undefined && Date.now() >= deadline) throw deadlineError(this.name);
    throw new CallError(
      GrpcStatus.UNAVAILABLE,
      `No connection established: no in-process server '${this.name}'`,
    );
  }
  async call<Req, Res>(method: string, req: Req, opts?: CallOptions): Promise<Res> {
    if (this.closed) throw new CallError(GrpcStatus.CANCELLED, "client closed");
    const m = resolveMethod(this.def, method);
    if (!m) throw new CallError(GrpcStatus.UNIMPLEMENTED, `unknown method ${method}`);
    const deadline = opts?.deadlineMs !== undefined ? Date.now() + opts.deadlineMs : undefined;
    await this.faultsImpl.applyCall(m.key, m.def.path);
    if (deadline !== undefined && Date.now() >= deadline) throw deadlineError(m.def.path);
    const data = m.def.requestSerialize(req);
    const server = await this.server(deadline);
    const id = this.nextId++;
    return new Promise<Res>((resolve, reject) => {
      const p: Pending = {
        server,
        method: m.def.path,
        resolve: resolve as (v: unknown) => void,
        reject,
        md: m.def,
        timer: undefined,
      };
      if (deadline !== undefined) {
        p.timer = setTimeout(
          () => this.settle(id, deadlineError(m.def.path)),
          Math.max(0, deadline - Date.now()),
        );
      }
      this.pending.set(id, p);
      this.chan.ref();
      const w: Wire = {
        t: "req",
        to: server,
        from: this.id,
        id,
        path: m.def.path,
        data,
        md: { ...opts?.metadata },
        thread: threadId,
      };
      if (deadline !== undefined) w.deadline = deadline;
      if (this.opts.identity !== undefined) w.who = this.opts.identity;
      this.chan.postMessage(w);
    });
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.pending.keys()])
      this.settle(id, new CallError(GrpcStatus.CANCELLED, "client closed"));
    this.chan.close();
  }
}

/** A client for the in-process server of that name (any worker thread of this process). */
export function createInProcessCallClient(
  def: grpc.ServiceDefinition,
  name: string,
  opts: InProcessCallClientOptions = {},
): CallClient {
  return new InProcessCallClient(def, name, opts);
}
