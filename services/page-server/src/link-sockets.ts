// The socket side of the link (docs/data-plane.md): the page-server's worker thread is the host's
// link thread. It listens (TCP, and a unix socket when configured), answers address lookups on NATS
// (`link.<hostId>.address`), connects to peers on demand, feeds frames to the LinkEngine and writes
// what it produces, with the fault hooks on outgoing DATA frames. It drains the host's record queue
// when a producer rings the doorbell (one Atomics.notify per sleep, not per record), on every socket
// event and on the timer.
//
// With credentials (`xensim keys init`, the service's `ctx.tls`) every link socket — TCP and unix —
// runs mutual TLS with the page-servers' certificates under the deployment's CA: a peer without a
// certificate of that CA never completes the handshake; a peer's host is the one its certificate
// names (@xensim/security authenticateLinkSocket) — a certificate of another service, or a HELLO
// claiming another host, is refused before any frame of it reaches the engine; and a dialled peer
// must present the certificate of the page-server of the host we meant to reach. Each refusal is
// counted by reason (`link_peers_refused_total`). Without credentials the sockets are plain.
import { randomInt } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket, connect as netConnect } from "node:net";
import { join } from "node:path";
import {
  connect as tlsConnect,
  createServer as createTlsServer,
  type PeerCertificate,
  type TLSSocket,
} from "node:tls";
import type { EventBus, Subscription, TlsMaterial } from "@xensim/bus";
import {
  decodeHello,
  FRAME_DATA,
  FRAME_HELLO,
  FrameDecoder,
  FrameFaults,
  type LinkFaultRecord,
  LinkEngine,
  type LinkEngineOptions,
} from "@xensim/link";
import { LINK_SUBJECTS } from "@xensim/subjects";
import type { PageStore } from "@xensim/memory";
import {
  authenticateLinkPeer,
  authenticateLinkSocket,
  type LinkRefusal,
  linkTlsOptions,
} from "@xensim/security";
import type { Logger } from "pino";
import type { LinkFaultConfig, PageServerConfig } from "./config.js";
import { Mulberry32 } from "@xensim/random";

type WaitAsync = (
  i32: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Conn {
  socket: Socket;
  decoder: FrameDecoder;
  /** The peer host, once known (outbound: from the start; inbound: after its HELLO). */
  peer: string | undefined;
  outbound: boolean;
  /** Mutual TLS: the peer's host comes from its certificate. */
  tls: boolean;
  corked: boolean;
}

export interface LinkAddress {
  tcp: string;
  unix: string;
}

/** Peers refused by the socket side, by reason: TLS handshakes that failed, then the verdicts at HELLO. */
export type LinkPeerRefusals = Record<"handshake" | LinkRefusal | "wrong-server", number>;

export class LinkSockets {
  readonly engine: LinkEngine;
  private readonly servers: Server[] = [];
  private readonly conns = new Set<Conn>();
  /** The connection carrying each peer's link. */
  private readonly byPeer = new Map<string, Conn>();
  private readonly connecting = new Set<string>();
  private readonly subs: Subscription[] = [];
  private faults: { rules: LinkFaultConfig; byPeer: Map<string, FrameFaults> } | undefined;
  private address: LinkAddress = { tcp: "", unix: "" };
  private tick: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private draining = false;
  private sleeping = false;
  private blocked = false;
  readonly epoch: bigint;
  /** Peers refused (mutual TLS on): counted per reason. */
  readonly refusedPeers: LinkPeerRefusals = {
    handshake: 0,
    "no-certificate": 0,
    "no-identity": 0,
    "not-page-server": 0,
    "wrong-host": 0,
    "wrong-server": 0,
  };
  /** Connections whose peer's certificate was checked at HELLO (mutual TLS on). */
  authenticatedHellos = 0;

  constructor(
    private readonly options: {
      store: PageStore;
      hostId: string;
      bus: EventBus;
      log: Logger;
      cfg: Readonly<PageServerConfig>;
      engine?: Partial<LinkEngineOptions>;
      /** This page-server's certificate and the deployment's CA: the link runs mutual TLS. */
      tls?: TlsMaterial | undefined;
    },
  ) {
    const cfg = options.cfg;
    // A new epoch per process start: later starts compare higher (ms × 2^16 + 16 random bits).
    this.epoch = (BigInt(Date.now()) << 16n) | BigInt(randomInt(0x10000));
    if (cfg.queueBytes > 0) options.store.ensureLink({ queueBytes: cfg.queueBytes });
    this.engine = new LinkEngine({
      store: options.store,
      hostId: options.hostId,
      epoch: this.epoch,
      frameBytes: cfg.frameBytes,
      sender: {
        windowFrames: cfg.windowFrames,
        windowBytes: cfg.windowBytes,
        retransmitMs: cfg.retransmitMs,
      },
      log: { info: (obj, msg) => options.log.info(obj, msg), warn: (obj, msg) => options.log.warn(obj, msg) },
      transport: {
        connect: (peer) => this.connect(peer),
        write: (peer, bytes) => this.write(peer, bytes),
        close: (peer, reason) => this.drop(peer, reason),
      },
      ...options.engine,
    });
    if (cfg.faults) this.setFaults(cfg.faults);
  }

  /** Does the link run mutual TLS? */
  get secure(): boolean {
    return this.options.tls !== undefined;
  }

  /** A listener: plain, or mutual TLS whose failed handshakes are counted. */
  private listener(): Server {
    const tls = this.options.tls;
    if (!tls) return createServer((s) => this.accept(s));
    const server = createTlsServer({ ...linkTlsOptions(tls), handshakeTimeout: 10_000 }, (s) =>
      this.accept(s, true),
    );
    server.on("tlsClientError", (err) => {
      this.refusedPeers.handshake++;
      this.options.log.warn(
        { err: err.message },
        "link: TLS handshake refused (no certificate of this deployment)",
      );
    });
    return server;
  }

  async start(): Promise<void> {
    const cfg = this.options.cfg;
    const [host, portText] = splitHostPort(cfg.linkListen);
    const tcp = this.listener();
    await new Promise<void>((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen(Number(portText), host, () => resolve());
    });
    this.servers.push(tcp);
    const port = (tcp.address() as { port: number }).port;
    this.address.tcp = `${cfg.linkAdvertise || host}:${port}`;
    if (cfg.linkSocketDir !== "") {
      const path = join(cfg.linkSocketDir, `link-${this.options.hostId}.sock`);
      rmSync(path, { force: true });
      const unix = this.listener();
      await new Promise<void>((resolve, reject) => {
        unix.once("error", reject);
        unix.listen(path, () => resolve());
      });
      this.servers.push(unix);
      this.address.unix = path;
    }
    const bus = this.options.bus;
    this.subs.push(
      bus.subscribe(LINK_SUBJECTS.address(this.options.hostId), {
        callback: (m) => {
          if (m.reply && !bus.closed)
            bus.publish(m.reply, enc.encode(JSON.stringify({ ...this.address, epoch: String(this.epoch) })));
        },
      }),
      bus.subscribe(LINK_SUBJECTS.faults(this.options.hostId), {
        callback: (m) => {
          let reply: object;
          try {
            const q = JSON.parse(dec.decode(m.data)) as { rules: LinkFaultConfig | null };
            this.setFaults(q.rules);
            reply = { ok: true };
          } catch (err) {
            reply = { ok: false, error: String(err) };
          }
          if (m.reply && !bus.closed) bus.publish(m.reply, enc.encode(JSON.stringify(reply)));
        },
      }),
      bus.subscribe(LINK_SUBJECTS.faultRecords(this.options.hostId), {
        callback: (m) => {
          const out: Record<string, { counts?: object; records: LinkFaultRecord[] }> = {};
          // each fault with its wall-clock time (the hooks are given performance.now()), also those
          // of earlier rule sets (a healed fault's records stay)
          for (const [p, past] of this.pastFaultRecords) {
            const counts: Record<string, number> = { drop: 0, duplicate: 0, reorder: 0, stall: 0 };
            for (const r of past) counts[r.kind] = (counts[r.kind] ?? 0) + 1;
            out[p] = { counts, records: [...past] };
          }
          for (const [p, f] of this.faults?.byPeer ?? [])
            out[p] = {
              counts: f.counts,
              records: [
                ...(out[p]?.records ?? []),
                ...f.records.map((r) => ({ ...r, at: Math.round(performance.timeOrigin + r.at) })),
              ],
            };
          if (m.reply && !bus.closed)
            bus.publish(
              m.reply,
              enc.encode(JSON.stringify({ seed: this.faults?.rules.seed ?? 0, peers: out })),
            );
        },
      }),
    );
    await bus.flush();
    if (cfg.hypervisorHost !== "") this.engine.setHypervisorHost(cfg.hypervisorHost);
    this.tick = setInterval(() => this.onTick(), cfg.tickMs);
    void this.drainLoop();
    this.options.log.info({ address: this.address, epoch: String(this.epoch) }, "link listening");
  }

  get listenAddress(): LinkAddress {
    return this.address;
  }

  /** Faults injected under earlier rule sets, per peer (wall-clock ms; the last 10,000 of each). */
  private readonly pastFaultRecords = new Map<string, LinkFaultRecord[]>();

  /** Link fault hooks (null: none). What the previous rules injected stays on record. */
  setFaults(rules: LinkFaultConfig | null): void {
    for (const [peer, f] of this.faults?.byPeer ?? []) {
      const past = this.pastFaultRecords.get(peer) ?? [];
      past.push(...f.records.map((r) => ({ ...r, at: Math.round(performance.timeOrigin + r.at) })));
      this.pastFaultRecords.set(peer, past.slice(-10_000));
    }
    this.faults = rules === null ? undefined : { rules, byPeer: new Map() };
  }

  /** A seeded generator per peer, so each direction's fault schedule is reproducible. */
  private faultRandom(peer: string): () => number {
    const rng = new Mulberry32(((this.faults?.rules.seed ?? 1) ^ hash(peer)) >>> 0 || 1);
    return () => rng.next();
  }

  /** Fault records per peer (for tests: the faults really happened). */
  faultCounts(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [p, f] of this.faults?.byPeer ?? []) out[p] = { ...f.counts };
    return out;
  }

  // ---- connections ----------------------------------------------------------------------------

  private accept(socket: Socket, tls = false): void {
    this.track(socket, undefined, false, tls);
  }

  private track(socket: Socket, peer: string | undefined, outbound: boolean, tls: boolean): Conn {
    socket.setNoDelay(true);
    const c: Conn = { socket, decoder: new FrameDecoder(), peer, outbound, tls, corked: false };
    this.conns.add(c);
    socket.on("data", (chunk: Buffer) => this.onData(c, chunk));
    socket.on("drain", () => {
      if (this.blocked) {
        this.blocked = false;
        this.kick();
      }
    });
    socket.on("error", (err) =>
      this.options.log.debug({ err: err.message, peer: c.peer }, "link socket error"),
    );
    socket.on("close", () => {
      this.conns.delete(c);
      if (c.peer && this.byPeer.get(c.peer) === c) {
        this.byPeer.delete(c.peer);
        this.engine.onClose(c.peer);
      }
    });
    return c;
  }

  private onData(conn: Conn, chunk: Buffer): void {
    const now = performance.now();
    try {
      conn.decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), (frame) => {
        if (conn.socket.destroyed) return;
        if (conn.peer === undefined || frame[0] === FRAME_HELLO) {
          if (frame[0] !== FRAME_HELLO) {
            conn.socket.destroy();
            return;
          }
          const host = safeHelloHost(frame);
          if (host === undefined) {
            conn.socket.destroy();
            return;
          }
          if (conn.tls) {
            // The peer's host is the one its certificate names; the HELLO must say exactly that.
            const verdict = authenticateLinkSocket(conn.socket as TLSSocket, host);
            if (!verdict.ok) {
              this.refusedPeers[verdict.refusal]++;
              this.options.log.warn(
                { peer: host, reason: verdict.reason },
                "link: HELLO refused (authentication)",
              );
              conn.socket.destroy();
              return;
            }
            if (conn.outbound && host !== conn.peer) {
              this.refusedPeers["wrong-host"]++;
              this.options.log.warn(
                { peer: conn.peer, hello: host },
                "link: the dialled peer's HELLO names another host",
              );
              conn.socket.destroy();
              return;
            }
            this.authenticatedHellos++;
          }
          if (!this.engine.acceptsHello(frame)) {
            // Refused (an older epoch replaying, a bad version) before it may touch the working
            // connection of that host: counted and logged by the engine, this connection closed.
            this.engine.onFrame(undefined, frame, now);
            this.options.log.warn({ peer: host }, "link: HELLO refused");
            conn.socket.destroy();
            return;
          }
          if (!conn.outbound) {
            // An inbound connection: one link per pair. If we also have one to that peer, the one
            // opened by the smaller host id stays.
            const other = this.byPeer.get(host);
            if (other && other !== conn) {
              // Both connected at once: the connection opened by the smaller host id stays. An
              // older inbound one (the peer reconnected) is replaced.
              if (other.outbound && this.options.hostId < host) {
                conn.socket.destroy();
                return;
              }
              other.socket.destroy();
            }
            conn.peer = host;
            this.byPeer.set(host, conn);
            this.connecting.delete(host);
            this.engine.onOpen(host);
          }
          const r = this.engine.onFrame(undefined, frame, now);
          if (r === null) {
            this.options.log.warn({ peer: host }, "link: HELLO refused");
            if (this.byPeer.get(host) === conn) this.byPeer.delete(host);
            conn.socket.destroy();
          }
          return;
        }
        this.engine.onFrame(conn.peer, frame, now);
      });
    } catch (err) {
      this.options.log.warn({ err: String(err), peer: conn.peer }, "link: bad stream, connection closed");
      conn.socket.destroy();
    }
    this.kick();
  }

  private connect(peer: string): void {
    if (this.closed || this.connecting.has(peer) || this.byPeer.has(peer)) return;
    this.connecting.add(peer);
    void (async () => {
      for (let attempt = 0; !this.closed; attempt++) {
        try {
          const m = await this.options.bus.request(LINK_SUBJECTS.address(peer), new Uint8Array(0), {
            timeoutMs: 2000,
          });
          const a = JSON.parse(dec.decode(m.data)) as LinkAddress;
          if (this.byPeer.has(peer)) break;
          const target: { path: string } | { port: number; host: string } =
            a.unix !== "" && existsSync(a.unix)
              ? { path: a.unix }
              : (([port, host]) => ({ port, host }))(tcpTarget(a.tcp));
          const tls = this.options.tls;
          const socket: Socket = tls
            ? tlsConnect({
                ...target,
                ...linkTlsOptions(tls),
                // The server must be the page-server of the host we dial (the chain is checked first).
                checkServerIdentity: (_name: string, cert: PeerCertificate) => {
                  const v = authenticateLinkPeer({ authorized: true, certificate: cert }, peer);
                  if (v.ok) return undefined;
                  this.refusedPeers["wrong-server"]++;
                  return new Error(`link peer ${peer}: ${v.reason}`);
                },
              })
            : "path" in target
              ? netConnect(target.path)
              : netConnect(target.port, target.host);
          await new Promise<void>((resolve, reject) => {
            socket.once(tls ? "secureConnect" : "connect", resolve);
            socket.once("error", reject);
          });
          if (this.byPeer.has(peer)) {
            socket.destroy();
            break;
          }
          const c = this.track(socket, peer, true, tls !== undefined);
          this.byPeer.set(peer, c);
          this.engine.onOpen(peer);
          this.kick();
          break;
        } catch (err) {
          if (attempt % 20 === 0)
            this.options.log.debug({ peer, err: String(err) }, "link: peer not reachable yet");
          await new Promise((r) => setTimeout(r, Math.min(1000, 50 * (attempt + 1))));
        }
      }
      this.connecting.delete(peer);
    })();
  }

  private write(peer: string, bytes: Uint8Array): void {
    const c = this.byPeer.get(peer);
    if (!c || c.socket.destroyed) return;
    const f = this.faults;
    if (f && bytes[4] === FRAME_DATA && (!f.rules.peers || f.rules.peers.includes(peer))) {
      let ff = f.byPeer.get(peer);
      if (!ff) {
        ff = new FrameFaults(f.rules, this.faultRandom(peer));
        f.byPeer.set(peer, ff);
      }
      // planned on a copy: a duplicated or held frame is written after its buffer may be reused
      for (const b of ff.plan(bytes.slice(), performance.now())) this.rawWrite(c, b);
      return;
    }
    this.rawWrite(c, bytes);
  }

  private rawWrite(conn: Conn, bytes: Uint8Array): void {
    // The frames of one turn of the event loop go out in one writev.
    if (!conn.corked) {
      conn.corked = true;
      conn.socket.cork();
      process.nextTick(() => {
        conn.corked = false;
        conn.socket.uncork();
      });
    }
    if (!conn.socket.write(bytes) && conn.socket.writableLength > 32 * 1024 * 1024) this.blocked = true;
  }

  private drop(peer: string, reason: string): void {
    const c = this.byPeer.get(peer);
    this.options.log.warn({ peer, reason }, "link: connection closed");
    c?.socket.destroy();
  }

  // ---- draining ---------------------------------------------------------------------------------

  /** Drain now (a socket event, a timer). */
  private kick(): void {
    if (this.draining || this.blocked || this.closed) return;
    this.draining = true;
    try {
      for (let i = 0; i < 64; i++) if (this.engine.pump(performance.now()) <= 0) break;
    } finally {
      this.draining = false;
    }
  }

  /** Sleeps on the queue's doorbell; producers ring it (Atomics.notify) only while we sleep. */
  private async drainLoop(): Promise<void> {
    const area = this.engine.area;
    const i32 = this.options.store.i32;
    while (!this.closed) {
      let n = 0;
      if (!this.blocked) {
        this.draining = true;
        try {
          n = this.engine.pump(performance.now());
        } finally {
          this.draining = false;
        }
      }
      if (n > 0 || n < 0) {
        // More may be coming: let the event loop run (socket reads, timers) and come back.
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      const bell = area.prepareSleep();
      if (bell < 0) continue;
      this.sleeping = true;
      const w = waitAsync(i32, bell, 1, 50);
      if (w.async) await w.value;
      this.sleeping = false;
    }
  }

  private onTick(): void {
    const now = performance.now();
    for (const [peer, ff] of this.faults?.byPeer ?? []) {
      const due = ff.due(now);
      if (due.length === 0) continue;
      const c = this.byPeer.get(peer);
      if (c) for (const b of due) this.rawWrite(c, b);
    }
    this.engine.tick(now);
    if (!this.sleeping) this.kick();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.tick) clearInterval(this.tick);
    for (const s of this.subs) s.unsubscribe();
    this.engine.close();
    // Wake the drain loop so it sees `closed`.
    const bell = this.engine.area.prepareSleep();
    if (bell >= 0) Atomics.notify(this.options.store.i32, bell);
    for (const c of this.conns) c.socket.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (this.address.unix) rmSync(this.address.unix, { force: true });
  }
}

function splitHostPort(address: string): [string, string] {
  const i = address.lastIndexOf(":");
  if (i < 0) return ["127.0.0.1", address];
  return [address.slice(0, i).replace(/^\[|\]$/g, ""), address.slice(i + 1)];
}

function tcpTarget(address: string): [number, string] {
  const [h, p] = splitHostPort(address);
  return [Number(p), h];
}

function safeHelloHost(frame: Uint8Array): string | undefined {
  try {
    return decodeHello(frame).hostId;
  } catch {
    return undefined;
  }
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
