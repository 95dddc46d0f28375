// The embedded host a chaos run plays its schedules on: started once, it serves one schedule
// (`chaos run`) or many (`chaos soak --short`: a fresh guest and disk per schedule on the same host,
// a new host only when one went wrong). It owns the host's state directory, the toolstack's API
// token, a bus client for xenstored's transaction history and the guests' statuses.
//
// Layout `distributed`: a nats-server on loopback, host A (this process: hypervisor, xenstored,
// page-server, guest runtime, toolstack) and host B (`xensim up --nats … --services
// page-server,blkback` in a process of its own, as a person would start it): every disk's ring and
// data pages travel on the data-plane link between the two page-servers, which the link fault kinds
// act on.

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { connectNatsBus, createInProcessBus, type EventBus } from "@xensim/bus";
import { auditDomainLeaks, type ChaosReply, type LeakEvidence, type XsHistoryEvent } from "@xensim/chaos";
import { EventChannels } from "@xensim/evtchn";
import { GrantTables } from "@xensim/gnttab";
import { PageStore } from "@xensim/memory";
import { connectXenstore } from "@xensim/xenstore-client";
import type { GuestStatusJson } from "@xensim/proto";
import { createLogger, type HostHandle, startHost } from "@xensim/runtime";
import { CHAOS_SUBJECTS, GUEST_SUBJECTS } from "@xensim/subjects";
import { callToolstack, type ChaosTarget } from "./chaos-target.js";
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
  /** "embedded" (one host, default) or "distributed" (host A here, blkback's host B in a process of its own). */
  layout?: "embedded" | "distributed";
}

/** The other processes of a distributed layout (stopped with the host). */
interface Processes {
  nats: ChildProcess;
  natsUrl: string;
  hostB: ChildProcess;
  hostBOutput: () => string;
}

function findNatsServer(): string | undefined {
  for (const d of [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/bin"]) {
    if (d && existsSync(join(d, "nats-server"))) return join(d, "nats-server");
  }
  return undefined;
}

async function waitUntil(
  what: string,
  ok: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

function stopChild(c: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => c.kill("SIGKILL"), 15_000);
    c.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    c.kill(signal);
  });
}

/** A nats-server on 127.0.0.1 on a free port. */
async function startNats(): Promise<{ child: ChildProcess; url: string }> {
  const bin = findNatsServer();
  if (!bin) throw new Error("layout distributed: nats-server not found (apt-get install nats-server)");
  const port = await freePort();
  const child = spawn(bin, ["-a", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const url = `nats://127.0.0.1:${port}`;
  await waitUntil(
    "nats-server listening",
    () =>
      new Promise<boolean>((resolve) => {
        if (child.exitCode !== null) return resolve(false);
        import("node:net").then(
          ({ connect }) => {
            const s = connect({ host: "127.0.0.1", port });
            s.once("connect", () => {
              s.destroy();
              resolve(true);
            });
            s.once("error", () => resolve(false));
          },
          () => resolve(false),
        );
      }),
    10_000,
  );
  return { child, url };
}

export class ChaosHost implements ChaosTarget {
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
    private readonly processes?: Processes,
  ) {}

  /** Host ids of the host processes (A, and B in a distributed layout). */
  get hostIds(): string[] {
    return this.processes ? [this.host.hostId, "hostB"] : [this.host.hostId];
  }

  static async start(options: ChaosHostOptions): Promise<ChaosHost> {
    for (const n of options.services)
      if (!isServiceName(n)) throw new Error(`host.services: unknown service ${n}`);
    const distributed = options.layout === "distributed";
    // distributed: blkback runs in host B; host A keeps the rest and runs a page-server for the link
    const servicesA = distributed
      ? [...new Set([...options.services.filter((n) => n !== "blkback"), "page-server"])]
      : options.services;
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
      guest: { stateDir: join(stateDir, "guest"), statusIntervalMs: options.statusIntervalMs ?? 250 },
      toolstack: {
        api: { host: "127.0.0.1", port: apiPort, tokenFile },
        disks: { imageDir },
        ...(options.services.includes("guest") ? { guest: "guest" } : {}),
      },
    };
    const level = process.env.XENSIM_LOG_LEVEL ?? "fatal";
    let host: HostHandle | undefined;
    let nats: { child: ChildProcess; url: string } | undefined;
    let hostB: ChildProcess | undefined;
    try {
      if (distributed) nats = await startNats();
      host = await startHost({
        hostId: options.hostId,
        ...(nats ? { nats: nats.url } : {}),
        services: servicesA.map((n) => ({
          name: n,
          entry: serviceEntry(n as ServiceName),
          config: base[n] ?? {},
        })),
        sharedMemoryBytes: 256 << 20,
        logLevel: level,
        // the host's own lines go to stderr: stdout is the command's result (soak JSON)
        log: createLogger({ svc: "host", host: options.hostId, level, destination: process.stderr }),
        seed: options.seed,
      });
      let processes: Processes | undefined;
      if (nats) {
        await host.ready;
        const hv = host.services.get("hypervisor")?.grpcAddress;
        const xs = host.services.get("xenstored")?.grpcAddress;
        if (!hv || !xs)
          throw new Error("layout distributed: host A's hypervisor and xenstored have no gRPC address");
        const main = join(dirname(fileURLToPath(import.meta.url)), "..", "main.js");
        let out = "";
        hostB = spawn(
          process.execPath,
          [
            main,
            "up",
            "--nats",
            nats.url,
            "--insecure",
            "--services",
            "page-server,blkback",
            "--host-id",
            "hostB",
            "--state-dir",
            join(stateDir, "hostB"),
            "--api-port",
            "0",
            "--no-examples",
            "--set",
            "blkback.hypervisorHost=" + options.hostId,
            "--set",
            `blkback.hypervisor=${hv}`,
            "--set",
            `blkback.xenstored=${xs}`,
          ],
          { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, XENSIM_LOG_LEVEL: level } },
        );
        const keep = (b: Buffer): void => {
          out = (out + b.toString()).slice(-20_000);
        };
        hostB.stdout?.on("data", keep);
        hostB.stderr?.on("data", keep);
        const b = hostB;
        await waitUntil(
          "host B up (xensim up --services page-server,blkback)",
          () => {
            if (b.exitCode !== null) throw new Error(`host B exited (${b.exitCode}): ${out.slice(-2000)}`);
            return /services: page-server, blkback/.test(out);
          },
          90_000,
        );
        processes = { nats: nats.child, natsUrl: nats.url, hostB: b, hostBOutput: () => out };
      }
      const bus = nats
        ? await connectNatsBus({ servers: nats.url, name: `${options.hostId}/chaos-run` })
        : createInProcessBus({ name: host.busName });
      const h = new ChaosHost(stateDir, api, token, socket, imageDir, host, bus, options.services, processes);
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
      if (hostB) await stopChild(hostB);
      await host?.stop().catch(() => {});
      if (nats) await stopChild(nats.child);
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
    return callToolstack<T>(this.api, this.token, {
      method,
      path,
      ...(body !== undefined ? { body } : {}),
      ...(text !== undefined ? { text } : {}),
    });
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

  /** The leak audit of destroyed domains: the hypervisor's tables (this host's shared memory), xenstored's. */
  async auditLeaks(domains: Array<{ guest: string; domid: number }>): Promise<LeakEvidence[]> {
    const xs = await connectXenstore({ socket: this.socket });
    const store = PageStore.attach(this.host.sharedMemory);
    const gt = new GrantTables(store);
    const ev = new EventChannels(store, { notify: () => {} });
    try {
      const { json } = await this.call<{ domains?: Array<{ id: number }> }>("GET", "/domains");
      const present = new Set((json.domains ?? []).map((d) => d.id));
      return await auditDomainLeaks(domains, present, (p) => xs.exists(p).catch(() => false), {
        grants: (domid) => gt.grantLeaksOf(domid),
        eventChannels: (domid) => ev.portsNaming(domid),
        watches: async () => (await xs.control("watches")).split("\n").filter((l) => l !== ""),
      });
    } finally {
      await xs.close();
    }
  }

  /** Removes a schedule's file disk from the host's image directory. */
  async removeDisk(file: string): Promise<void> {
    rmSync(join(this.imageDir, file), { force: true });
  }

  async stop(): Promise<void> {
    await this.bus.close().catch(() => {});
    // host B first: its blkback unmaps and unbinds through host A's hypervisor
    if (this.processes) await stopChild(this.processes.hostB, "SIGINT");
    await this.host.stop().catch(() => {});
    if (this.processes) await stopChild(this.processes.nats);
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}
