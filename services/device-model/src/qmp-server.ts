// The QMP socket of one emulator: a unix socket at libxl's path (`<run dir>/qmp-libxl-<domid>`) that
// speaks @xensim/devicemodel's QmpSession to every client that connects, and sends the events the
// commands cause (STOP, RESUME, RESET) to every negotiated client, as QEMU's monitor does.

import { mkdir, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type QmpBackend,
  type QmpEventName,
  QmpSession,
  QmpStream,
  qmpEvent,
  qmpGreeting,
} from "@xensim/devicemodel";

/** The default run dir: one per host process (two test hosts never share it). */
export function defaultQmpDir(): string {
  return join(tmpdir(), `xensim-qmp-${process.pid}`);
}

/** libxl__qemu_qmp_path: `qmp-libxl-<domid>`; xensim's second emulator gets a suffix. */
export function qmpSocketPath(dir: string, domid: number, role: string): string {
  return join(dir, `qmp-libxl-${domid}${role === "primary" ? "" : `-${role}`}`);
}

export class QmpServer {
  private readonly server: Server;
  private readonly clients = new Map<Socket, QmpSession>();

  private constructor(
    readonly path: string,
    private readonly backend: QmpBackend,
    private readonly onWarn: (message: string) => void,
  ) {
    this.server = createServer((sock) => this.accept(sock));
  }

  static async listen(path: string, backend: QmpBackend, onWarn: (m: string) => void): Promise<QmpServer> {
    const s = new QmpServer(path, backend, onWarn);
    await mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
    await rm(path, { force: true }); // a stale socket of a dead instance
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", reject);
      s.server.listen(path, () => {
        s.server.off("error", reject);
        resolve();
      });
    });
    s.server.on("error", (e) => onWarn(`qmp ${path}: ${e.message}`));
    return s;
  }

  /** An event to every client past capabilities negotiation. */
  emit(event: QmpEventName, data?: Record<string, unknown>): void {
    const line = `${JSON.stringify(qmpEvent(event, Date.now(), data))}\r\n`;
    for (const [sock, session] of this.clients) if (session.negotiated && !sock.destroyed) sock.write(line);
  }

  private accept(sock: Socket): void {
    const session = new QmpSession(this.backend, (e, d) => this.emit(e, d));
    this.clients.set(sock, session);
    const stream = new QmpStream();
    sock.setEncoding("utf8");
    sock.write(`${JSON.stringify(qmpGreeting())}\r\n`);
    // Commands of one client run one after another, in order.
    let chain = Promise.resolve();
    sock.on("data", (text: string) => {
      for (const item of stream.push(text)) {
        chain = chain.then(async () => {
          const reply =
            "error" in item
              ? { error: { class: "GenericError", desc: item.error } }
              : await session.handle(item.value).catch((e: unknown) => ({
                  error: { class: "GenericError", desc: e instanceof Error ? e.message : String(e) },
                }));
          if (!sock.destroyed) sock.write(`${JSON.stringify(reply)}\r\n`);
        });
      }
    });
    const gone = () => this.clients.delete(sock);
    sock.on("close", gone);
    sock.on("error", (e) => {
      this.onWarn(`qmp client: ${e.message}`);
      gone();
    });
  }

  async close(): Promise<void> {
    for (const sock of this.clients.keys()) sock.destroy();
    this.clients.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.path, { force: true });
  }
}
