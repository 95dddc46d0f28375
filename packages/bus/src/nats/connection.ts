import { connect as netConnect, type Socket } from "node:net";
import { BusError, BusErrorCode } from "../errors.js";
import { encodeHeaders, NatsParser, type ServerOp } from "./parser.js";

export interface NatsConnectOptions {
  servers: string[];
  name?: string;
  timeoutMs?: number;
}

export type MsgHandler = (op: Extract<ServerOp, { op: "MSG" }>) => void;

const CRLF = Buffer.from("\r\n");

function parseServer(s: string): { host: string; port: number } {
  const u = new URL(s.includes("://") ? s : `nats://${s}`);
  return { host: u.hostname.replace(/^\[|\]$/g, ""), port: u.port ? Number(u.port) : 4222 };
}

/**
 * A minimal NATS core client over one TCP connection: CONNECT with headers and no-responders, SUB,
 * UNSUB, PUB/HPUB, PING/PONG. No TLS, auth or reconnect (not needed on loopback; see README).
 */
export class NatsConnection {
  private readonly parser = new NatsParser();
  private pongs: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private corked = false;
  private _closed = false;
  info: Record<string, unknown> = {};
  onMsg: MsgHandler = () => {};
  onClose: (err?: Error) => void = () => {};

  private constructor(private readonly sock: Socket) {}

  static async connect(opts: NatsConnectOptions): Promise<NatsConnection> {
    let lastErr: unknown;
    for (const s of opts.servers) {
      try {
        return await NatsConnection.connectOne(s, opts);
      } catch (err) {
        lastErr = err;
      }
    }
    throw new BusError(BusErrorCode.Connection, `cannot connect to NATS at ${opts.servers.join(", ")}`, {
      cause: lastErr,
    });
  }

  private static connectOne(server: string, opts: NatsConnectOptions): Promise<NatsConnection> {
    const { host, port } = parseServer(server);
    return new Promise((resolve, reject) => {
      const sock = netConnect({ host, port });
      sock.setNoDelay(true);
      const conn = new NatsConnection(sock);
      let phase: "info" | "pong" | "open" = "info";
      const timer = setTimeout(
        () => fail(new Error(`timeout connecting to ${server}`)),
        opts.timeoutMs ?? 5000,
      );
      const fail = (err: Error): void => {
        clearTimeout(timer);
        if (phase !== "open") {
          phase = "open";
          sock.destroy();
          reject(err);
        }
      };
      sock.once("error", fail);
      sock.on("data", (chunk: Buffer) => {
        let ops: ServerOp[];
        try {
          ops = conn.parser.feed(chunk);
        } catch (err) {
          conn.fatal(err as Error);
          return;
        }
        for (const op of ops) {
          if (phase === "info" && op.op === "INFO") {
            conn.info = op.info;
            const c = {
              verbose: false,
              pedantic: false,
              tls_required: false,
              name: opts.name ?? "xensim",
              lang: "xensim-ts",
              version: "0.1.0",
              protocol: 1,
              headers: true,
              no_responders: true,
              echo: true,
            };
            sock.write(`CONNECT ${JSON.stringify(c)}\r\nPING\r\n`);
            phase = "pong";
          } else if (phase === "pong" && op.op === "PONG") {
            phase = "open";
            clearTimeout(timer);
            sock.off("error", fail);
            sock.on("error", (err) => conn.fatal(err));
            sock.on("close", () => conn.fatal(new Error("connection closed by server")));
            resolve(conn);
          } else if (phase !== "open" && op.op === "ERR") {
            fail(new Error(`NATS: ${op.message}`));
          } else {
            conn.handle(op);
          }
        }
      });
    });
  }

  private handle(op: ServerOp): void {
    switch (op.op) {
      case "MSG":
        this.onMsg(op);
        return;
      case "PING":
        this.write(Buffer.from("PONG\r\n"));
        return;
      case "PONG":
        this.pongs.shift()?.resolve();
        return;
      case "ERR":
        // Permissions and parse errors are fatal in NATS' protocol except 'Permissions Violation'.
        if (!/permissions violation/i.test(op.message)) this.fatal(new Error(`NATS: ${op.message}`));
        return;
      default:
        return;
    }
  }

  private fatal(err: Error): void {
    if (this._closed) return;
    this._closed = true;
    this.sock.destroy();
    for (const p of this.pongs) p.reject(new BusError(BusErrorCode.Connection, err.message, { cause: err }));
    this.pongs = [];
    this.onClose(err);
  }

  get closed(): boolean {
    return this._closed;
  }

  private write(b: Buffer): void {
    if (this._closed) throw new BusError(BusErrorCode.Closed, "NATS connection closed");
    if (!this.corked) {
      this.corked = true;
      this.sock.cork();
      queueMicrotask(() => {
        this.corked = false;
        this.sock.uncork();
      });
    }
    this.sock.write(b);
  }

  pub(
    subject: string,
    reply: string | undefined,
    headers: Record<string, string> | undefined,
    data: Uint8Array,
  ): void {
    const r = reply ? ` ${reply}` : "";
    if (headers && Object.keys(headers).length > 0) {
      const h = encodeHeaders(headers);
      const line = Buffer.from(`HPUB ${subject}${r} ${h.length} ${h.length + data.length}\r\n`);
      this.write(Buffer.concat([line, h, data, CRLF]));
    } else {
      const line = Buffer.from(`PUB ${subject}${r} ${data.length}\r\n`);
      this.write(Buffer.concat([line, data, CRLF]));
    }
  }

  sub(subject: string, queue: string | undefined, sid: number): void {
    this.write(Buffer.from(`SUB ${subject}${queue ? ` ${queue}` : ""} ${sid}\r\n`));
  }

  unsub(sid: number): void {
    this.write(Buffer.from(`UNSUB ${sid}\r\n`));
  }

  /** Round trip to the server: everything written before has been processed by it. */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.write(Buffer.from("PING\r\n"));
        this.pongs.push({ resolve, reject });
      } catch (err) {
        reject(err);
      }
    });
  }

  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    for (const p of this.pongs) p.reject(new BusError(BusErrorCode.Closed, "NATS connection closed"));
    this.pongs = [];
    await new Promise<void>((resolve) => {
      this.sock.once("close", () => resolve());
      this.sock.end();
      setTimeout(() => {
        this.sock.destroy();
        resolve();
      }, 1000).unref();
    });
  }
}
