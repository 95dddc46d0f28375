// The xs wire protocol on a unix socket, as C xenstored serves dom0 tools (xenstore-read & co.
// reach it through XENSTORED_PATH). Every socket connection acts for dom0, privileged.
import { existsSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { encodeXsMessage, XsDecoder } from "@xensim/xenstore";
import type { Logger } from "pino";
import type { XenstoredCore } from "./core.js";

export interface SocketServer {
  readonly path: string;
  readonly connections: number;
  close(): Promise<void>;
}

export async function listenXsSocket(core: XenstoredCore, path: string, log: Logger): Promise<SocketServer> {
  if (existsSync(path)) unlinkSync(path); // a stale socket from a killed daemon
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    const decoder = new XsDecoder();
    let dropped = false;
    const conn = core.connect(0, {
      kind: "socket",
      send: (msg) => {
        if (!sock.destroyed) sock.write(encodeXsMessage(msg));
      },
      drop: (reason) => {
        dropped = true;
        log.warn({ reason }, "xs socket connection dropped");
        sock.destroy();
      },
    });
    sock.on("data", (chunk: Buffer) => {
      if (dropped) return;
      // Requests that came before a bad header are handled, as C xenstored reads them one by one
      // (whether they share a chunk with the bad header must not matter).
      const { messages, error } = decoder.feed(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      for (const m of messages) {
        if (dropped) break;
        core.request(conn, m);
      }
      if (error && !dropped) {
        // len > XENSTORE_PAYLOAD_MAX: C xenstored closes the connection.
        dropped = true;
        log.warn({ err: error.message }, "xs protocol error, closing");
        sock.destroy();
        core.disconnect(conn);
      }
    });
    const gone = () => {
      sockets.delete(sock);
      core.disconnect(conn);
    };
    sock.on("close", gone);
    sock.on("error", () => sock.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
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
          try {
            unlinkSync(path);
          } catch {}
          resolve();
        });
      }),
  };
}
