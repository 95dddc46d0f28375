// The xs wire protocol on a unix socket, as C xenstored serves dom0 tools (xenstore-read & co.
// reach it through XENSTORED_PATH). Every socket connection acts for dom0, privileged.
//
// Requests are read one at a time and only while the core allows it: a client that sends requests
// and never reads the replies stalls (the socket is paused, so the kernel's buffers push back on
// it) instead of growing the daemon, and replies are written only below a high-water mark of the
// socket's own buffer. A socket path that another live daemon serves is left alone: starting fails.
import { existsSync, lstatSync, unlinkSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { encodeXsMessage, XsDecoder, type XsMessage } from "@xensim/xenstore";
import type { Logger } from "pino";
import type { XenstoredCore } from "./xenstored.js";

/** Replies are handed to a socket only while less than this waits in its buffer. */
const SOCKET_HIGH_WATER = 64 * 1024;

export interface SocketServer {
  readonly path: string;
  readonly connections: number;
  close(): Promise<void>;
}

/** Starting xenstored on a socket path another daemon is listening on (C: bind fails). */
export class SocketInUseError extends Error {
  override readonly name = "SocketInUseError";
  readonly code = "XENSTORED_SOCKET_IN_USE";
  constructor(readonly path: string) {
    super(`xenstored socket ${path} is in use by a running daemon`);
  }
}

/** Whether something accepts connections on the unix socket at `path`. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

/** The identity of a file, to unlink our socket only if the path still names it. */
function inodeOf(path: string): string | undefined {
  try {
    const st = lstatSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

export async function listenXsSocket(core: XenstoredCore, path: string, log: Logger): Promise<SocketServer> {
  if (existsSync(path)) {
    if (await socketAnswers(path)) throw new SocketInUseError(path);
    unlinkSync(path); // a stale socket from a killed daemon
    log.info({ path }, "replaced a stale xenstored socket");
  }
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => serveSocket(core, sock, sockets, log));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const ours = inodeOf(path);
  log.info({ path }, "xs wire protocol listening on unix socket");
  return {
    path,
    get connections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          // Another daemon may have replaced the path meanwhile: unlink only our own socket.
          if (ours !== undefined && inodeOf(path) === ours) {
            try {
              unlinkSync(path);
            } catch {}
          }
          resolve();
        });
      }),
  };
}

function serveSocket(core: XenstoredCore, sock: Socket, sockets: Set<Socket>, log: Logger): void {
  sockets.add(sock);
  const decoder = new XsDecoder();
  /** Requests decoded from what the socket delivered and not yet handled (at most one chunk's). */
  let pending: XsMessage[] = [];
  let next = 0;
  /** The stream broke (len > XENSTORE_PAYLOAD_MAX) after the requests in `pending`. */
  let broken: Error | undefined;
  let dropped = false;
  let scheduled = false;

  const conn = core.connect(0, {
    kind: "socket",
    send: (msg) => {
      if (!sock.destroyed) sock.write(encodeXsMessage(msg));
    },
    canSend: () => !sock.destroyed && sock.writableLength < SOCKET_HIGH_WATER,
    resume: () => {
      if (scheduled || dropped) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        handlePending();
      });
    },
    drop: (reason) => {
      dropped = true;
      log.warn({ reason }, "xs socket connection dropped");
      sock.destroy();
    },
  });

  /** Handles decoded requests while the core lets this connection be read; pauses the socket if not. */
  const handlePending = () => {
    while (next < pending.length && !dropped) {
      if (!core.canRead(conn)) {
        sock.pause();
        return;
      }
      core.request(conn, pending[next++]!);
    }
    pending = [];
    next = 0;
    if (dropped) return;
    if (broken) {
      // len > XENSTORE_PAYLOAD_MAX: C xenstored closes the connection (after the requests before).
      dropped = true;
      log.warn({ err: broken.message }, "xs protocol error, closing");
      sock.destroy();
      core.disconnect(conn);
      return;
    }
    if (sock.isPaused()) sock.resume();
  };

  sock.on("data", (chunk: Buffer) => {
    if (dropped || broken) return;
    // Requests that came before a bad header are handled, as C xenstored reads them one by one
    // (whether they share a chunk with the bad header must not matter).
    const { messages, error } = decoder.feed(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    pending.push(...messages);
    broken = error;
    handlePending();
  });
  sock.on("drain", () => core.writable(conn));
  sock.on("close", () => {
    sockets.delete(sock);
    dropped = true;
    pending = [];
    core.disconnect(conn);
  });
  sock.on("error", () => sock.destroy());
}
