// `xensim bench link`: the transport of the data plane, chosen by measurement (docs/data-plane.md).
// The same batched record stream — DATA frames of @xensim/link, each I/O a 4 KiB page delta, a
// 112-byte slot delta, a 4-byte index and a kick — from this process to a second host process over
// (a) a gRPC bidi stream (raw byte messages), (b) NATS (one message per frame), (c) our own
// length-prefixed frames over TCP and (d) over a unix socket, and (e, f) the same frames over mutual
// TLS on TCP and on a unix socket (the link with credentials: page-servers' certificates of a CA made
// for the run). The peer applies every record into a
// SharedArrayBuffer and acknowledges every frame; at most `window` frames are in flight. Then the
// one-record latency (a kick frame echoed back; round trip ÷ 2) on each, beside a bare NATS publish
// → receive ping-pong measured in the same run.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { connect as tlsConnect, type PeerCertificate } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { connect as natsConnect, type NatsConnection } from "@nats-io/transport-node";
import { DataFrameBuilder, FRAME_ACK, FrameDecoder } from "@xensim/link";
import { authenticateLinkPeer, initKeys, linkTlsOptions, loadCredentials } from "@xensim/security";
import { startNatsServer } from "@xensim/testkit";
import {
  buildPingFrame,
  buildStreamFrame,
  LINK_BENCH_SERVICE,
  PAYLOAD_PER_IO,
  RECORDS_PER_IO,
} from "./link-wire.js";
import { LatencyRecorder, machineInfo, type OpFigures, round } from "./stats.js";

export const LINK_TRANSPORTS = [
  "grpc-bidi",
  "nats",
  "tcp-framed",
  "unix-framed",
  "tcp-tls-framed",
  "unix-tls-framed",
] as const;
export type LinkTransportName = (typeof LINK_TRANSPORTS)[number];

export interface LinkBenchOptions {
  durationMs?: number;
  /** I/Os per DATA frame (default 15: ≈ 64 KiB frames). */
  iosPerFrame?: number;
  /** Frames in flight (default 64). */
  window?: number;
  natsUrl?: string;
  transports?: LinkTransportName[];
  log?: (line: string) => void;
}

export interface LinkStreamFigures {
  transport: LinkTransportName;
  frames: number;
  seconds: number;
  frames_per_s: number;
  records_per_s: number;
  ios_per_s: number;
  mb_per_s: number;
  frame_bytes: number;
}

export interface LinkLatencyFigures {
  transport: LinkTransportName | "nats-pub-recv";
  round_trip: OpFigures;
  one_way_p50_us: number;
  one_way_p99_us: number;
}

export interface LinkBenchResult {
  benchmark: "link";
  machine: Record<string, unknown>;
  duration_ms: number;
  ios_per_frame: number;
  window: number;
  stream: LinkStreamFigures[];
  latency: LinkLatencyFigures[];
  /** The stream with the most records/s (the link's transport). */
  fastest: LinkTransportName;
}

interface Client {
  /** A frame as DataFrameBuilder.finish returns it (length word first). */
  send(frame: Uint8Array): void;
  onFrame(cb: (typeFirst: Uint8Array) => void): void;
  close(): Promise<void>;
}

function streamClient(sock: Socket): Client {
  sock.setNoDelay(true);
  const dec = new FrameDecoder();
  let cb: (f: Uint8Array) => void = () => {};
  sock.on("data", (chunk) => dec.push(chunk, (f) => cb(f)));
  return {
    send: (f) => void sock.write(f),
    onFrame: (c) => {
      cb = c;
    },
    close: async () => {
      sock.end();
      await once(sock, "close").catch(() => {});
    },
  };
}

interface PeerAddress {
  tcp: number;
  unix: string;
  grpc: number;
  tlsTcp: number;
  tlsUnix: string;
}

async function connectClient(
  t: LinkTransportName,
  addr: PeerAddress,
  nc: NatsConnection,
  keysDir: string | undefined,
): Promise<Client> {
  switch (t) {
    case "tcp-tls-framed":
    case "unix-tls-framed": {
      if (!keysDir) throw new Error(`${t}: no credentials`);
      const c = loadCredentials(keysDir, { host: "benchA", service: "page-server" });
      const s = tlsConnect({
        ...(t === "tcp-tls-framed" ? { port: addr.tlsTcp, host: "127.0.0.1" } : { path: addr.tlsUnix }),
        ...linkTlsOptions({ ca: c.ca, cert: c.tls.cert, key: c.tls.key }),
        checkServerIdentity: (_name: string, cert: PeerCertificate) => {
          const v = authenticateLinkPeer({ authorized: true, certificate: cert }, "benchB");
          return v.ok ? undefined : new Error(v.reason);
        },
      });
      await once(s, "secureConnect");
      return streamClient(s);
    }
    case "tcp-framed": {
      const s = netConnect(addr.tcp, "127.0.0.1");
      await once(s, "connect");
      return streamClient(s);
    }
    case "unix-framed": {
      const s = netConnect(addr.unix);
      await once(s, "connect");
      return streamClient(s);
    }
    case "grpc-bidi": {
      const Ctor = grpc.makeGenericClientConstructor(LINK_BENCH_SERVICE, "LinkBench");
      const client = new Ctor(
        `127.0.0.1:${addr.grpc}`,
        grpc.credentials.createInsecure(),
      ) as unknown as grpc.Client & {
        Stream(): grpc.ClientDuplexStream<Buffer, Buffer>;
      };
      const call = client.Stream();
      let cb: (f: Uint8Array) => void = () => {};
      call.on("data", (b: Buffer) => cb(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
      call.on("error", () => {});
      return {
        send: (f) => void call.write(Buffer.from(f.buffer, f.byteOffset + 4, f.byteLength - 4)),
        onFrame: (c) => {
          cb = c;
        },
        close: async () => {
          call.end();
          client.close();
        },
      };
    }
    case "nats": {
      let cb: (f: Uint8Array) => void = () => {};
      const sub = nc.subscribe("linkbench.ack", { callback: (_e, m) => cb(m.data) });
      await nc.flush();
      return {
        send: (f) => nc.publish("linkbench.data", f.subarray(4)),
        onFrame: (c) => {
          cb = c;
        },
        close: async () => {
          sub.unsubscribe();
        },
      };
    }
  }
}

async function streamRun(
  c: Client,
  options: Required<Pick<LinkBenchOptions, "durationMs" | "iosPerFrame" | "window">>,
  t: LinkTransportName,
): Promise<LinkStreamFigures> {
  const builder = new DataFrameBuilder(128 * 1024);
  const src = new Uint8Array(8192).map((_, i) => i & 255);
  let sent = 0;
  let acked = 0;
  let frameBytes = 0;
  let stopAt = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const pump = (): void => {
    while (sent - acked < options.window && performance.now() < stopAt) {
      const f = buildStreamFrame(builder, sent + 1, options.iosPerFrame, src);
      frameBytes = f.length;
      c.send(f);
      sent++;
    }
    if (acked === sent && performance.now() >= stopAt) done();
  };
  c.onFrame((f) => {
    if (f[0] !== FRAME_ACK) return;
    acked++;
    pump();
  });
  // warm-up
  stopAt = performance.now() + Math.min(300, options.durationMs / 4);
  pump();
  await finished;
  const warm = sent;
  const ended = new Promise<void>((r) => {
    done = r;
  });
  const started = performance.now();
  stopAt = started + options.durationMs;
  pump();
  await ended;
  const seconds = (performance.now() - started) / 1000;
  const frames = sent - warm;
  const ios = frames * options.iosPerFrame;
  return {
    transport: t,
    frames,
    seconds: round(seconds, 3),
    frames_per_s: round(frames / seconds, 0),
    records_per_s: round((ios * RECORDS_PER_IO) / seconds, 0),
    ios_per_s: round(ios / seconds, 0),
    mb_per_s: round((ios * PAYLOAD_PER_IO) / seconds / 1e6, 1),
    frame_bytes: frameBytes,
  };
}

async function pingPong(
  send: () => void,
  onReply: (cb: () => void) => void,
  durationMs: number,
): Promise<OpFigures> {
  let resolve: () => void = () => {};
  onReply(() => resolve());
  const once1 = (): Promise<void> =>
    new Promise<void>((r) => {
      resolve = r;
      send();
    });
  const warmEnd = performance.now() + 200;
  while (performance.now() < warmEnd) await once1();
  const rec = new LatencyRecorder();
  rec.start();
  const end = performance.now() + durationMs;
  for (;;) {
    const t0 = performance.now();
    await once1();
    const t1 = performance.now();
    rec.add((t1 - t0) * 1000);
    if (t1 >= end) break;
  }
  rec.stop();
  return rec.figures();
}

function latencyFigures(transport: LinkLatencyFigures["transport"], rt: OpFigures): LinkLatencyFigures {
  return {
    transport,
    round_trip: rt,
    one_way_p50_us: round(rt.p50_us / 2, 1),
    one_way_p99_us: round(rt.p99_us / 2, 1),
  };
}

export async function runLinkBench(options: LinkBenchOptions = {}): Promise<LinkBenchResult> {
  const log = options.log ?? (() => {});
  const durationMs = options.durationMs ?? 2000;
  const iosPerFrame = options.iosPerFrame ?? 15;
  const window = options.window ?? 64;
  const transports = options.transports ?? [...LINK_TRANSPORTS];
  const nats = options.natsUrl ? undefined : await startNatsServer();
  const natsUrl = options.natsUrl ?? nats!.url;
  const socketPath = join(tmpdir(), `xensim-link-bench-${process.pid}-${Date.now()}.sock`);
  const tls = transports.some((t) => t.includes("tls"));
  const keysDir = tls ? join(mkdtempSync(join(tmpdir(), "xensim-link-bench-keys-")), "keys") : undefined;
  if (keysDir) await initKeys(keysDir, { hosts: { benchA: ["page-server"], benchB: ["page-server"] } });
  const child = spawn(
    process.execPath,
    [
      new URL("./link-peer.js", import.meta.url).pathname,
      JSON.stringify({ nats: natsUrl, socketPath, ...(keysDir ? { keysDir } : {}) }),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const nc = await natsConnect({ servers: natsUrl, name: "link-bench" });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`link bench peer exited (${code})`)));
    });
    const addr = JSON.parse(line) as PeerAddress;
    const stream: LinkStreamFigures[] = [];
    const latency: LinkLatencyFigures[] = [];
    for (const t of transports) {
      const c = await connectClient(t, addr, nc, keysDir);
      const s = await streamRun(c, { durationMs, iosPerFrame, window }, t);
      stream.push(s);
      log(
        `${t.padEnd(15)} ${String(s.records_per_s).padStart(9)} records/s  ${String(s.mb_per_s).padStart(7)} MB/s  ${s.frames_per_s} frames/s of ${s.frame_bytes} B`,
      );
      const builder = new DataFrameBuilder(1024);
      let seq = 0;
      const rt = await pingPong(
        () => c.send(buildPingFrame(builder, ++seq, 0x80)),
        (cb) => c.onFrame(() => cb()),
        Math.min(durationMs, 1500),
      );
      const l = latencyFigures(t, rt);
      latency.push(l);
      log(`${t.padEnd(15)} one record one way p50 ${l.one_way_p50_us} µs, p99 ${l.one_way_p99_us} µs`);
      await c.close();
    }
    // The bare NATS publish → receive, same run.
    {
      let cb: () => void = () => {};
      const sub = nc.subscribe("linkbench.pong", { callback: () => cb() });
      await nc.flush();
      const payload = new Uint8Array(16);
      const rt = await pingPong(
        () => nc.publish("linkbench.ping", payload),
        (c) => {
          cb = c;
        },
        Math.min(durationMs, 1500),
      );
      sub.unsubscribe();
      const l = latencyFigures("nats-pub-recv", rt);
      latency.push(l);
      log(`nats publish → receive one way p50 ${l.one_way_p50_us} µs, p99 ${l.one_way_p99_us} µs`);
    }
    const fastest = [...stream].sort((a, b) => b.records_per_s - a.records_per_s)[0]!.transport;
    return {
      benchmark: "link",
      machine: machineInfo(),
      duration_ms: durationMs,
      ios_per_frame: iosPerFrame,
      window,
      stream,
      latency,
      fastest,
    };
  } finally {
    child.stdin!.end();
    await Promise.race([once(child, "exit"), new Promise((r) => setTimeout(r, 2000))]);
    if (child.exitCode === null) child.kill();
    await nc.close();
    await nats?.stop();
    if (keysDir) rmSync(join(keysDir, ".."), { recursive: true, force: true });
  }
}
