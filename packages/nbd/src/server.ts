// The socket shell around NbdConnection: a node:net server on a unix socket or a TCP port.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { NbdConnection, type NbdConnectionOptions, type NbdExports } from "./connection.js";

export type NbdListen = { readonly path: string } | { readonly host: string; readonly port: number };

export interface NbdServerOptions extends NbdConnectionOptions {
  readonly exports: NbdExports;
  readonly listen: NbdListen;
  /** Export name used in `uri` (default: the first key of a Map export list, else ""). */
  readonly defaultExport?: string;
  /** How long close() lets connections drain before destroying them (default 5000 ms). */
  readonly closeTimeoutMs?: number;
  /**
   * A connection still in the handshake after this long is closed ("handshake timeout"); default
   * 10 000 ms, 0 = never. A client that connects and says nothing holds no connection for ever.
   */
  readonly handshakeTimeoutMs?: number;
  /** Called with each connection's end reason (logging hook). */
  readonly onConnectionClosed?: (reason: string) => void;
}

export interface NbdServerHandle {
  /** nbd+unix:///name?socket=/path or nbd://host:port/name, for the default export. */
  readonly uri: string;
  /** The same for any export name. */
  uriFor(name: string): string;
  /** The bound address: { path } or { host, port } (port resolved when 0 was asked). */
  readonly address: NbdListen;
  /** Open connections right now. */
  readonly connections: number;
  /** Stops accepting; lets every connection answer what it has in flight, then closes it. */
  close(): Promise<void>;
}

function encodeName(name: string): string {
  return name.split("/").map(encodeURIComponent).join("/");
}

/** Percent-encodes a socket path for the URI query, keeping '/' readable. */
function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** Starts an NBD server (fixed newstyle). The exported stores are not closed by the server. */
export async function startNbdServer(opts: NbdServerOptions): Promise<NbdServerHandle> {
  const live = new Map<Socket, NbdConnection>();
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (sock) => serve(sock));

  function serve(sock: Socket): void {
    let readPaused = false; // the connection asked (too many requests in flight)
    let writeBlocked = false; // the socket's send buffer is full
    const update = () => {
      if (readPaused || writeBlocked) sock.pause();
      else sock.resume();
    };
    const conn = new NbdConnection(
      opts.exports,
      {
        send(bytes) {
          if (sock.destroyed) return;
          if (!sock.write(bytes) && !writeBlocked) {
            writeBlocked = true;
            update();
            conn.setOutputBlocked(true);
          }
        },
        close(reason) {
          live.delete(sock);
          opts.onConnectionClosed?.(reason);
          // Flush what is queued, then close both ways (a peer that never closes cannot hold us).
          sock.end(() => sock.destroy());
        },
        pause() {
          readPaused = true;
          update();
        },
        resume() {
          readPaused = false;
          update();
        },
      },
      opts,
    );
    live.set(sock, conn);
    sockets.add(sock);
    sock.on("drain", () => {
      writeBlocked = false;
      update();
      conn.setOutputBlocked(false);
    });
    sock.on("data", (b: Buffer) => {
      try {
        conn.feed(b);
      } catch (e) {
        // A bug or a hostile peer must never take the server down: drop this connection only.
        live.delete(sock);
        opts.onConnectionClosed?.(`internal error: ${(e as Error).message}`);
        sock.destroy();
      }
    });
    sock.on("error", () => sock.destroy());
    sock.on("close", () => {
      sockets.delete(sock);
      // Peer went away: stop reading; in-flight I/O completes into the void, then hooks.close runs.
      if (live.has(sock)) conn.shutdown("peer closed");
    });
    sock.setTimeout(0);
    const handshakeMs = opts.handshakeTimeoutMs ?? 10_000;
    if (handshakeMs > 0) {
      const t = setTimeout(() => {
        if (!conn.inTransmission && live.has(sock)) conn.shutdown("handshake timeout");
      }, handshakeMs);
      t.unref();
      sock.once("close", () => clearTimeout(t));
    }
    conn.start();
  }

  const listen = opts.listen;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if ("path" in listen) server.listen(listen.path, resolve);
    else server.listen(listen.port, listen.host, resolve);
  });
  server.on("error", () => {});

  let address: NbdListen;
  if ("path" in listen) address = { path: listen.path };
  else {
    const a = server.address() as AddressInfo;
    address = { host: listen.host, port: a.port };
  }
  const def =
    opts.defaultExport ?? (typeof opts.exports === "function" ? "" : ([...opts.exports.keys()][0] ?? ""));
  const uriFor = (name: string) =>
    "path" in address
      ? `nbd+unix:///${encodeName(name)}?socket=${encodePath(address.path)}`
      : `nbd://${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}/${encodeName(name)}`;

  let closing: Promise<void> | undefined;
  return {
    uri: uriFor(def),
    uriFor,
    address,
    get connections() {
      return live.size;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        // A client that stops reading cannot hold close() forever.
        const timer = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, opts.closeTimeoutMs ?? 5000);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        for (const conn of [...live.values()]) conn.shutdown();
      });
      return closing;
    },
  };
}
