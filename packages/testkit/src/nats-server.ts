import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { delimiter, join } from "node:path";
import { freePort, sleep } from "./wait.js";

export interface NatsServerOptions {
  /** Path of the nats-server binary; default $NATS_SERVER_BIN, then PATH, /usr/sbin, /usr/bin. */
  bin?: string;
  /** Port to bind on 127.0.0.1; default a free one. */
  port?: number;
  /** Extra command-line arguments. */
  args?: string[];
  /** How long to wait for the server to accept connections. */
  startTimeoutMs?: number;
  /** Pass the server's stderr through (for debugging). */
  verbose?: boolean;
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Stops the server by its PID (SIGTERM, then SIGKILL after 3 s); idempotent. */
  stop(): Promise<void>;
}

export function findNatsServer(): string | undefined {
  const env = process.env.NATS_SERVER_BIN;
  if (env && existsSync(env)) return env;
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/bin", "/usr/local/bin"];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, "nats-server");
    if (existsSync(p)) return p;
  }
  return undefined;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Starts a real nats-server on 127.0.0.1 on a random port. */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = opts.bin ?? findNatsServer();
  if (!bin) throw new Error("startNatsServer: nats-server not found (apt-get install nats-server)");
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  for (let attempt = 0; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const child: ChildProcess = spawn(bin, ["-a", "127.0.0.1", "-p", String(port), ...(opts.args ?? [])], {
      stdio: ["ignore", "ignore", opts.verbose ? "inherit" : "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-4000);
    });
    let exited = false;
    const exitP = new Promise<void>((resolve) => {
      child.once("exit", () => {
        exited = true;
        resolve();
      });
      child.once("error", () => {
        exited = true;
        resolve();
      });
    });
    const pid = child.pid;
    const start = Date.now();
    while (!exited && Date.now() - start < timeoutMs) {
      if (await canConnect(port)) break;
      await sleep(20);
    }
    if (exited || pid === undefined) {
      // Lost the port race (someone took it between freePort and bind): try again a few times.
      if (opts.port === undefined && attempt < 3) continue;
      throw new Error(`startNatsServer: nats-server exited early: ${stderr.trim()}`);
    }
    if (Date.now() - start >= timeoutMs) {
      process.kill(pid, "SIGKILL");
      throw new Error(`startNatsServer: no connection on port ${port} within ${timeoutMs} ms`);
    }
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        if (exited) return;
        process.kill(pid, "SIGTERM");
        const killTimer = setTimeout(() => {
          if (!exited) process.kill(pid, "SIGKILL");
        }, 3000);
        await exitP;
        clearTimeout(killTimer);
      })();
      return stopping;
    };
    return { url: `nats://127.0.0.1:${port}`, port, pid, stop };
  }
}
