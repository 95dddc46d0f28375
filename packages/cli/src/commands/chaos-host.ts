// The embedded host a chaos run plays its schedules on: started once, it serves one schedule
// (`chaos run`) or many (`chaos soak --short`: a fresh guest and disk per schedule on the same host,
// a new host only when one went wrong). It owns the host's state directory, the toolstack's API
// token, a bus client for xenstored's transaction history and the guests' statuses.

import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInProcessBus, type EventBus } from "@xensim/bus";
import type { ChaosReply, XsHistoryEvent } from "@xensim/chaos";
import type { GuestStatusJson } from "@xensim/proto";
import { createLogger, type HostHandle, startHost } from "@xensim/runtime";
import { CHAOS_SUBJECTS, GUEST_SUBJECTS } from "@xensim/subjects";
import { isServiceName, type ServiceName, serviceEntry } from "../services.js";

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

export interface ChaosHostOptions {
  services: string[];
  /** The host's seed (its services' randomness). */
  seed: number;
  hostId: string;
  /** How often each guest publishes its status, ms (default 250). */
  statusIntervalMs?: number;
}

export class ChaosHost {
  private readonly statusListeners = new Set<(g: GuestStatusJson) => void>();
  private constructor(
    readonly stateDir: string,
    readonly api: string,
    private readonly token: string,
    readonly socket: string,
    readonly imageDir: string,
    readonly host: HostHandle,
    readonly bus: EventBus,
    readonly services: readonly string[],
  ) {}

  static async start(o: ChaosHostOptions): Promise<ChaosHost> {
    for (const n of o.services) if (!isServiceName(n)) throw new Error(`host.services: unknown service ${n}`);
    const stateDir = mkdtempSync(join(tmpdir(), "xensim-chaos-"));
    const tokenFile = join(stateDir, "api-token");
    const token = randomBytes(24).toString("base64url");
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const apiPort = await freePort();
    const api = `http://127.0.0.1:${apiPort}`;
    // `xensim chaos list --state-dir <this dir>` (and every chaos command) reaches this host
    writeFileSync(join(stateDir, "toolstack.url"), `${api}\n`);
    const socket = join(stateDir, "xenstored.sock");
    const imageDir = join(stateDir, "images");
    mkdirSync(imageDir, { recursive: true });
    const base: Record<string, Record<string, unknown>> = {
      xenstored: { socket, stateDir: join(stateDir, "xenstored") },
      hypervisor: { stateDir: join(stateDir, "hypervisor") },
      blkback: { params: { fileDir: imageDir } },
      guest: { stateDir: join(stateDir, "guest"), statusIntervalMs: o.statusIntervalMs ?? 250 },
      toolstack: {
        api: { host: "127.0.0.1", port: apiPort, tokenFile },
        disks: { imageDir },
        ...(o.services.includes("guest") ? { guest: "guest" } : {}),
      },
    };
    const level = process.env.XENSIM_LOG_LEVEL ?? "fatal";
    let host: HostHandle | undefined;
    try {
      host = await startHost({
        hostId: o.hostId,
        services: o.services.map((n) => ({
          name: n,
          entry: serviceEntry(n as ServiceName),
          config: base[n] ?? {},
        })),
        sharedMemoryBytes: 256 << 20,
        logLevel: level,
        // the host's own lines go to stderr: stdout is the command's result (soak JSON)
        log: createLogger({ svc: "host", host: o.hostId, level, destination: process.stderr }),
        seed: o.seed,
      });
      const bus = createInProcessBus({ name: host.busName });
      const h = new ChaosHost(stateDir, api, token, socket, imageDir, host, bus, o.services);
      const dec = new TextDecoder();
      bus.subscribe(GUEST_SUBJECTS.statusAll, {
        callback: (m) => {
          let g: GuestStatusJson;
          try {
            g = JSON.parse(dec.decode(m.data)) as GuestStatusJson;
          } catch {
            return; // not a status
          }
          for (const l of h.statusListeners) l(g);
        },
      });
      await host.ready;
      return h;
    } catch (e) {
      await host?.stop().catch(() => {});
      rmSync(stateDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Calls the toolstack's HTTP API with this host's token. */
  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    text?: string,
  ): Promise<{ status: number; json: T }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let payload: string | undefined;
    if (text !== undefined) {
      headers["content-type"] = "text/plain";
      payload = text;
    } else if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const res = await fetch(`${this.api}${path}`, {
      method,
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
    });
    const t = await res.text();
    return { status: res.status, json: (t ? JSON.parse(t) : {}) as T };
  }

  /** Every guest status published from now until the returned function is called. */
  onStatus(l: (g: GuestStatusJson) => void): () => void {
    this.statusListeners.add(l);
    return () => this.statusListeners.delete(l);
  }

  /** xenstored's transaction history: `start` (re)starts recording, `take` answers what was recorded. */
  async observeHistory(action: "start" | "take"): Promise<XsHistoryEvent[] | undefined> {
    const m = await this.bus.request(
      CHAOS_SUBJECTS.service("xenstored"),
      new TextEncoder().encode(JSON.stringify({ op: "observe", name: "xenstore-history", action })),
      { timeoutMs: 10_000 },
    );
    const r = JSON.parse(new TextDecoder().decode(m.data)) as ChaosReply;
    if (!r.ok) throw new Error(r.error ?? "xenstored answered no history");
    return r.observation as XsHistoryEvent[] | undefined;
  }

  /** Starts the history, asking again while a new bus has not learnt xenstored's subscription. */
  async startHistory(signal?: AbortSignal): Promise<string | undefined> {
    for (let tries = 0; ; tries++) {
      try {
        await this.observeHistory("start");
        return undefined;
      } catch (e) {
        const msg = (e as Error).message;
        if (tries >= 300 || !/no responders/.test(msg) || signal?.aborted) return msg;
        await sleep(100, signal);
      }
    }
  }

  async stop(): Promise<void> {
    await this.bus.close().catch(() => {});
    await this.host.stop().catch(() => {});
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}
