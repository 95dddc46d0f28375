// The receiving host process of `xensim bench link`: serves the same record stream over TCP and a
// unix socket (the link's length-prefixed frames), a gRPC bidi stream and NATS, applies every record
// into a SharedArrayBuffer, acknowledges each frame, and echoes latency pings (DATA flag 0x80).
// With `keysDir` it also serves them over mutual TLS (TCP and a unix socket, the page-server
// `benchB`'s certificate, as the link runs with credentials).
// argv[2]: JSON { nats, socketPath, keysDir? }. Prints one JSON line { tcp, unix, grpc, tlsTcp,
// tlsUnix } when ready.
import { createServer, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { connect } from "@nats-io/transport-node";
import { encodeAck, FrameDecoder } from "@xensim/link";
import { linkTlsOptions, loadCredentials } from "@xensim/security";
import { LINK_BENCH_SERVICE, lengthPrefixed, StreamApplier } from "./link-wire.js";

const PING = 0x80;
const args = JSON.parse(process.argv[2] ?? "{}") as { nats: string; socketPath: string; keysDir?: string };
const applier = new StreamApplier();

/** One frame (type byte first): a ping is echoed, anything else applied and acknowledged. */
function onFrame(frame: Uint8Array, reply: (bytes: Uint8Array) => void): void {
  if ((frame[17] ?? 0) & PING) {
    applier.apply(frame);
    reply(frame);
    return;
  }
  applier.apply(frame);
  reply(encodeAck(applier.frames).subarray(4));
}

function serveStream(sock: Socket): void {
  sock.setNoDelay(true);
  const dec = new FrameDecoder();
  sock.on("data", (chunk) => {
    dec.push(chunk, (f) => onFrame(f, (bytes) => sock.write(lengthPrefixed(bytes))));
  });
  sock.on("error", () => {});
}

const tcp = createServer(serveStream);
await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
const unix = createServer(serveStream);
await new Promise<void>((r) => unix.listen(args.socketPath, r));
let tlsTcp = 0;
let tlsUnix = "";
if (args.keysDir) {
  const c = loadCredentials(args.keysDir, { host: "benchB", service: "page-server" });
  const opts = linkTlsOptions({ ca: c.ca, cert: c.tls.cert, key: c.tls.key });
  const t = createTlsServer(opts, serveStream);
  await new Promise<void>((r) => t.listen(0, "127.0.0.1", r));
  tlsTcp = (t.address() as { port: number }).port;
  tlsUnix = `${args.socketPath}.tls`;
  const u = createTlsServer(opts, serveStream);
  await new Promise<void>((r) => u.listen(tlsUnix, r));
}

const server = new grpc.Server();
server.addService(LINK_BENCH_SERVICE, {
  Stream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    call.on("data", (b: Buffer) =>
      onFrame(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), (out) => call.write(Buffer.from(out))),
    );
    call.on("end", () => call.end());
    call.on("error", () => {});
  },
});
const grpcPort = await new Promise<number>((resolve, reject) =>
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
    err ? reject(err) : resolve(port),
  ),
);

const nc = await connect({ servers: args.nats, name: "link-bench-peer" });
nc.subscribe("linkbench.data", {
  callback: (_err, m) => onFrame(m.data, (out) => nc.publish("linkbench.ack", out)),
});
nc.subscribe("linkbench.ping", { callback: (_err, m) => nc.publish("linkbench.pong", m.data) });
await nc.flush();

process.stdout.write(
  `${JSON.stringify({ tcp: (tcp.address() as { port: number }).port, unix: args.socketPath, grpc: grpcPort, tlsTcp, tlsUnix })}\n`,
);
process.stdin.on("data", () => {});
process.stdin.on("end", () => {
  void nc.close().finally(() => process.exit(0));
});
