import type { PeerCertificate } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { describeIdentity, type Identity, identityFromSubjectAltName } from "@xensim/security";
import {
  assertUnary,
  type CallClient,
  type CallContext,
  type CallOptions,
  type CallServer,
  resolveMethod,
  type TlsMaterial,
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
  /**
   * Mutual TLS: serve with this certificate; a call whose peer presents no certificate chaining to
   * `ca` (or one naming no xensim identity) is refused UNAUTHENTICATED before any handler, and
   * reported to onRefused. Absent = insecure (loopback tests, embedded placements).
   */
  tls?: TlsMaterial;
  /** Every call refused by the transport (no or bad credentials): for a metric. */
  onRefused?: (method: string, reason: string) => void;
}

/** A certificate provider that never changes (grpc-js's interface for server credentials). */
class StaticCertificates implements grpc.experimental.CertificateProvider {
  constructor(
    private readonly ca: Buffer | undefined,
    private readonly identity: { certificate: Buffer; privateKey: Buffer } | undefined,
  ) {}
  // Delivered on the next tick: grpc-js registers a server's watcher only after it has added these
  // listeners, so an update delivered at once would be lost and the server would drop every
  // connection as "credentials not loaded".
  addCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    const ca = this.ca;
    if (ca) setImmediate(() => l({ caCertificate: ca }));
  }
  removeCaCertificateListener(): void {}
  addIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    const id = this.identity;
    if (id) setImmediate(() => l(id));
  }
  removeIdentityCertificateListener(): void {}
}

/**
 * Server credentials for mutual TLS that let an unauthenticated peer complete the handshake (the
 * call is then refused and counted by the server, instead of vanishing in a failed handshake).
 */
function serverCredentials(tls: TlsMaterial | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  // One provider gives both the CA and our certificate: grpc-js 1.14's factory passes its two
  // providers to the constructor in the other order than its types say.
  const both = new StaticCertificates(Buffer.from(tls.ca), {
    certificate: Buffer.from(tls.cert),
    privateKey: Buffer.from(tls.key),
  });
  // request a certificate, and refuse the call (counted) rather than the handshake
  return grpc.experimental.createCertificateProviderServerCredentials(both, both, false);
}

/** The identity in an authenticated peer certificate (chain verified by TLS), or undefined. */
function peerIdentity(call: {
  getAuthContext(): { sslPeerCertificate?: PeerCertificate };
}): Identity | undefined {
  const cert: PeerCertificate | undefined = call.getAuthContext().sslPeerCertificate;
  return cert ? identityFromSubjectAltName(cert.subjectaltname) : undefined;
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
        if (this.opts.tls) {
          const id = peerIdentity(call);
          if (!id) {
            const reason = "no client certificate from this deployment's CA";
            this.opts.onRefused?.(path, reason);
            cb({ code: GrpcStatus.UNAUTHENTICATED, details: `${path}: ${reason}` });
            return;
          }
          ctx.identity = id;
        }
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
      this.server.bindAsync(this.opts.address, serverCredentials(this.opts.tls), (err, port) => {
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

export interface GrpcCallClientOptions {
  seed?: number;
  /**
   * Mutual TLS: present this certificate, trust only servers chaining to `ca`. `expect` = the
   * service the server's certificate must name (the target's service name), when known.
   */
  tls?: { ca: string; cert?: string; key?: string; expect?: string };
}

class GrpcCallClient implements CallClient {
  private readonly client: grpc.Client;
  private readonly faultsImpl: Faults;
  constructor(
    private readonly def: grpc.ServiceDefinition,
    address: string,
    options: GrpcCallClientOptions = {},
  ) {
    const tls = options.tls;
    const creds = tls
      ? grpc.credentials.createSsl(
          Buffer.from(tls.ca),
          tls.key !== undefined ? Buffer.from(tls.key) : null,
          tls.cert !== undefined ? Buffer.from(tls.cert) : null,
          {
            // Host names vary (127.0.0.1:port, container names): the chain to our CA is what is
            // checked, and the certificate must name a xensim identity (the expected service's).
            checkServerIdentity: (_host, cert) => {
              const id = identityFromSubjectAltName(cert.subjectaltname);
              if (!id) return new Error("server certificate names no xensim identity");
              if (tls.expect !== undefined && (id.kind !== "service" || id.name !== tls.expect))
                return new Error(`server is ${describeIdentity(id)}, not ${tls.expect}`);
              return undefined;
            },
          },
        )
      : grpc.credentials.createInsecure();
    // TLS SNI must not be an IP address (RFC 6066): name the server "localhost" (every service
    // certificate carries it); the identity check above is what matters.
    this.client = new grpc.Client(
      address,
      creds,
      tls ? { "grpc.ssl_target_name_override": "localhost" } : {},
    );
    this.faultsImpl = new Faults(options.seed);
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
  opts?: GrpcCallClientOptions,
): CallClient {
  return new GrpcCallClient(def, address, opts);
}
