// `xensim up`: an emulated Xen host (every service, or some of them as one host process).
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { createInProcessBus } from "@xensim/bus";
import { type HostHandle, startHost } from "@xensim/runtime";
import type { Command } from "commander";
import { examples } from "../command.js";
import { isServiceName, SERVICE_PACKAGES, type ServiceName, serviceEntry } from "../services.js";
import type { GuestStatusJson } from "@xensim/proto";
import { GUEST_SUBJECTS } from "@xensim/subjects";

export default function registerUp(program: Command): void {
  program
    .command("up")
    .addHelpText(
      "after",
      examples(
        "npx xensim up",
        "npx xensim up --no-examples --api-port 0 --state-dir /tmp/xensim",
        "npx xensim up --nats nats://127.0.0.1:4222 --services hypervisor,xenstored,page-server,guest,toolstack --host-id hostA",
      ),
    )
    .description(
      "bring up an emulated Xen host in this process: xenstored, hypervisor, blkback, displback, guest runtime and toolstack in worker threads; creates the guests in examples/",
    )
    .option("--state-dir <dir>", "state directory", ".xensim")
    .option("--socket <path>", "xenstored unix socket (default: <state-dir>/xenstored.sock)")
    .option("--nats <url>", "distributed placement: events over this NATS server, calls over gRPC")
    .option(
      "--services <list>",
      `run only these services as this host process (of ${DEFAULT_UP_SERVICES.join(",")},page-server)`,
    )
    .option("--host-id <id>", "this host process's id (distributed placement)")
    .option("--keys <dir>", "credentials (xensim keys init): gRPC mutual TLS, NATS nkeys, the API token")
    .option(
      "--insecure",
      "distributed placement without credentials (anyone who reaches NATS or gRPC is trusted)",
    )
    .option("--set <svc.key=value...>", "service config, e.g. blkback.hypervisorHost=hostA (repeatable)")
    .option(
      "--grpc <svc=host:port...>",
      "distributed placement: where a service serves gRPC (default 127.0.0.1 and any port), e.g. hypervisor=127.0.0.1:7101 — a restarted host process keeps its peers' addresses valid",
    )
    .option("--http-port <port>", "serve the host's /healthz and /metrics", "0")
    .option("--api-port <port>", "the toolstack's HTTP API port (0: any free port)", "9080")
    .option("--examples <dir>", "create a domain from every *.cfg here once the host is up", "examples")
    .option("--no-examples", "create no domains")
    .option(
      "--otlp-endpoint <url>",
      "export OpenTelemetry spans of the control plane over OTLP/HTTP (default: $OTEL_EXPORTER_OTLP_ENDPOINT; none: no spans)",
    )
    .option("--exit-after-ready", "stop as soon as every service is ready (smoke test)")
    .option("--exit-after-io", "stop after the first guest I/O completed; print the timings as JSON")
    .action(async (o: UpOptions & { otlpEndpoint?: string }) => {
      // the services' workers read it when they boot (@xensim/runtime startOtel)
      if (o.otlpEndpoint) process.env.OTEL_EXPORTER_OTLP_ENDPOINT = o.otlpEndpoint;
      await up(o);
    });
}

export const DEFAULT_UP_SERVICES = [
  "xenstored",
  "hypervisor",
  "blkback",
  "device-model",
  "device-model-2",
  "displback",
  "guest",
  "toolstack",
] as const;

interface UpOptions {
  stateDir: string;
  keys?: string;
  insecure?: boolean;
  socket?: string;
  nats?: string;
  services?: string;
  hostId?: string;
  set?: string[];
  grpc?: string[];
  httpPort: string;
  apiPort: string;
  examples: string | false;
  exitAfterReady?: boolean;
  exitAfterIo?: boolean;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function up(options: UpOptions): Promise<void> {
  const t0 = performance.now();
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chmodSync(stateDir, 0o700); // the xenstored socket, the API token and images live here
  const keysDir = options.keys ?? process.env.XENSIM_KEYS;
  if (options.nats && !keysDir && !options.insecure)
    throw new Error(
      "a distributed host listens beyond this process: give credentials (--keys DIR from `xensim keys init`, or $XENSIM_KEYS), or --insecure",
    );
  // The API token: the deployment's, or one this state directory keeps (0600) for the local CLI.
  const tokenFile = keysDir ? join(resolve(keysDir), "api-token") : join(stateDir, "api-token");
  if (!keysDir && !existsSync(tokenFile))
    writeFileSync(tokenFile, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
  const apiToken = readFileSync(tokenFile, "utf8").trim();
  const socket = options.socket ?? join(stateDir, "xenstored.sock");
  const names = options.services
    ? options.services.split(",").map((x) => x.trim())
    : [...DEFAULT_UP_SERVICES];
  const known = Object.keys(SERVICE_PACKAGES).join(", ");
  for (const n of names)
    if (!isServiceName(n)) throw new Error(`--services: unknown service ${n} (services: ${known})`);
  const apiPort = options.apiPort === "0" ? await freePort() : Number(options.apiPort);
  const base: Record<string, Record<string, unknown>> = {
    xenstored: { socket, stateDir: join(stateDir, "xenstored") },
    hypervisor: { stateDir: join(stateDir, "hypervisor") },
    "page-server": {},
    blkback: { params: { fileDir: join(stateDir, "images") } },
    guest: { stateDir: join(stateDir, "guest") },
    "device-model": { roles: ["primary"], vcpu: 3 },
    "device-model-2": { roles: ["secondary"], vcpu: 5 },
    toolstack: {
      api: { host: "127.0.0.1", port: apiPort, tokenFile },
      disks: { imageDir: join(stateDir, "images") },
      ...(names.includes("guest") ? { guest: "guest" } : {}),
      libDir: join(stateDir, "lib"),
      deviceModels: {
        primary: names.includes("device-model") ? "device-model" : "",
        secondary: names.includes("device-model-2") ? "device-model-2" : "",
      },
      ...(names.includes("displback") ? { displback: "displback" } : {}),
    },
  };
  for (const kv of options.set ?? []) {
    const m = /^([a-z-]+)\.([A-Za-z0-9_.]+)=(.*)$/.exec(kv);
    if (!m) throw new Error(`--set ${kv}: expected <service>.<key>=<value>, e.g. blkback.maxRingPageOrder=6`);
    if (!isServiceName(m[1]!)) throw new Error(`--set ${kv}: unknown service ${m[1]} (services: ${known})`);
    let target = (base[m[1]!] ??= {});
    const path = m[2]!.split(".");
    for (const k of path.slice(0, -1)) target = (target[k] ??= {}) as Record<string, unknown>;
    const raw = m[3]!;
    target[path.at(-1)!] = /^-?\d+$/.test(raw)
      ? Number(raw)
      : raw === "true"
        ? true
        : raw === "false"
          ? false
          : raw;
  }
  // A guest runtime in a distributed host whose backends live in other host processes reaches them
  // over this host's data-plane link, which the page-server runs (docs/data-plane.md): without one
  // its disks would reach Connected and never complete an I/O (issue 14), so refuse to start.
  if (options.nats && names.includes("guest") && !names.includes("blkback") && !names.includes("page-server"))
    throw new Error(
      "the guest runtime in a distributed host needs this host's page-server for backends in other host processes (it runs the data-plane link): add page-server to --services",
    );
  mkdirSync(join(stateDir, "images"), { recursive: true });
  const host: HostHandle = await startHost({
    ...(options.hostId ? { hostId: options.hostId } : {}),
    services: names.map((n) => ({ name: n, entry: serviceEntry(n as ServiceName), config: base[n] ?? {} })),
    ...(options.nats ? { nats: options.nats } : {}),
    ...(options.grpc ? { grpcListen: parseGrpcListen(options.grpc) } : {}),
    ...(keysDir ? { keysDir: resolve(keysDir) } : {}),
    sharedMemoryBytes: 1 << 30,
    // Every service ready within this bound (as compose's hosts: a loaded machine can need minutes
    // to start eight workers; 30 s failed `up` at load 40).
    readyTimeoutMs: Number(process.env.XENSIM_READY_TIMEOUT_MS ?? 120_000),
    http: { port: Number(options.httpPort) },
    // The terminal shows progress; service logs (JSON) at error unless XENSIM_LOG_LEVEL says more.
    logLevel: process.env.XENSIM_LOG_LEVEL ?? "error",
  });
  let stopping = false;
  let creating: Promise<void> = Promise.resolve();
  const shutdown = async (why: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    say(`\n${why}: stopping services\n`);
    // Let a domain being created finish (or fail) first: its flow is not cut in half.
    await Promise.race([creating, new Promise((r) => setTimeout(r, 15_000).unref())]);
    await host.stop().catch(() => {});
    process.stdout.write("stopped\n");
    process.exit(code);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  host.done.catch((err: Error) => {
    if (stopping) return; // a service slow to stop is reported by the host's log, not a failure here
    process.stderr.write(`host failed: ${err.message}\n`);
    process.exit(1);
  });
  await host.ready;
  const readyMs = Math.round(performance.now() - t0);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  // before the "up" line: whoever waits for it reads this run's URL, not a killed run's
  if (names.includes("toolstack")) writeFileSync(join(stateDir, "toolstack.url"), `${apiUrl}\n`);
  process.stdout.write(
    `xensim host ${host.hostId} up in ${readyMs} ms\n` +
      `  services: ${[...host.services.keys()].join(", ")}\n` +
      (names.includes("xenstored") ? `  xenstored: XENSTORED_PATH=${socket}\n` : "") +
      (names.includes("toolstack")
        ? `  toolstack: ${apiUrl} (xensim xl list; API token in ${tokenFile})\n` +
          `  dashboard: ${apiUrl}/dashboard/?token=$(cat ${tokenFile})\n`
        : "") +
      (host.httpAddress
        ? `  health: ${host.httpAddress}/healthz  metrics: ${host.httpAddress}/metrics\n`
        : "") +
      (options.nats ? distributedHints(host, options.nats) : ""),
  );
  if (options.exitAfterReady) return shutdown("ready");

  // Live progress: guest status events on the host's bus.
  const bus = options.nats ? undefined : createInProcessBus({ name: host.busName });
  const status = new Map<number, GuestStatusJson>();
  let firstIoMs: number | undefined;
  const dec = new TextDecoder();
  bus?.subscribe(GUEST_SUBJECTS.statusAll, {
    callback: (m) => {
      try {
        const s = JSON.parse(dec.decode(m.data)) as GuestStatusJson;
        status.set(s.domid, s);
        if (firstIoMs === undefined && Number(s.workload?.ios ?? 0) > 0) {
          firstIoMs = Math.round(performance.now() - t0);
          say(`first guest I/O completed ${firstIoMs} ms after start (domain ${s.domid})\n`);
          if (options.exitAfterIo) {
            process.stdout.write(
              `${JSON.stringify({ up: { readyMs, firstIoMs, sinceProcessStartMs: Math.round(performance.now()) } })}\n`,
            );
            void shutdown("first I/O");
          }
        }
      } catch {
        // not a status we understand
      }
    },
  });

  const examplesDir = options.examples;
  if (examplesDir !== false && names.includes("toolstack") && existsSync(examplesDir))
    creating = createExamples(examplesDir, apiUrl, apiToken, () => stopping);
  if (!bus) return;
  const tty = process.stdout.isTTY === true;
  let last = "";
  setInterval(
    () => {
      const guests = [...status.values()].sort((a, b) => a.domid - b.domid);
      const state = guests.map((s) => {
        const disks = (s.disks ?? [])
          .map((d) => `${d.vdev}:${d.state}${d.ringPages ? `/${d.ringPages}p` : ""}`)
          .join(" ");
        return `  dom${s.domid} ${s.name} ${s.state} [${disks}]`;
      });
      const lines = guests.map((s, i) => {
        const w = s.workload;
        return `${state[i]}${w && w.phase !== "idle" ? ` ${w.phase} ${Math.round(w.iops)} IOPS ${w.ios} I/Os` : ""}`;
      });
      if (lines.length === 0) return;
      const block = `${new Date().toISOString().slice(11, 19)}\n${lines.join("\n")}\n`;
      if (tty) {
        // Redraw the block in place; anything printed since (say()) keeps it and draws below.
        process.stdout.write(`${progressLines > 0 ? `\x1b[${progressLines}A\x1b[J` : ""}${block}`);
        progressLines = lines.length + 1;
        return;
      }
      // Piped: a block only when a guest's or a disk's state changed, not for every IOPS figure.
      const key = state.join("\n");
      if (key === last) return;
      last = key;
      process.stdout.write(block);
    },
    tty ? 1000 : 2000,
  ).unref();
}

/**
 * What the next host process of a distributed host needs: this host's gRPC addresses, and for a
 * host running the hypervisor and xenstored without blkback, the command of a blkback host process.
 */
export function distributedHints(
  host: { hostId: string; services: ReadonlyMap<string, { grpcAddress?: string | undefined }> },
  natsUrl: string,
): string {
  const grpc = [...host.services].filter(([, h]) => h.grpcAddress).map(([n, h]) => `${n}=${h.grpcAddress}`);
  if (grpc.length === 0) return "";
  let out = `  gRPC (for other host processes): ${grpc.join(" ")}\n`;
  const hv = host.services.get("hypervisor")?.grpcAddress;
  const xs = host.services.get("xenstored")?.grpcAddress;
  if (hv && xs && !host.services.has("blkback"))
    out +=
      `  a blkback host process for it: xensim up --nats ${natsUrl} --services page-server,blkback ` +
      `--host-id <id> --set blkback.hypervisorHost=${host.hostId} --set blkback.hypervisor=${hv} ` +
      `--set blkback.xenstored=${xs}\n`;
  return out;
}

/** `--grpc hypervisor=127.0.0.1:7101` (repeatable) → `{ hypervisor: "127.0.0.1:7101" }`. */
export function parseGrpcListen(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const m = /^([a-z-]+)=(.+:\d+)$/.exec(kv);
    if (!m || !isServiceName(m[1]!)) throw new Error(`--grpc ${kv}: expected <service>=<host>:<port>`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** Lines of the status block on the terminal (redrawn in place until something else is printed). */
let progressLines = 0;

/** Prints a line that stays: the status block is drawn again below it. */
function say(text: string): void {
  process.stdout.write(text);
  progressLines = 0;
}

/** Creates a domain from every *.cfg in `dir` through the toolstack's API, one at a time. */
async function createExamples(
  dir: string,
  apiUrl: string,
  apiToken: string,
  isStopping: () => boolean,
): Promise<void> {
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith(".cfg"))
    .sort()) {
    const file = join(dir, f);
    if (isStopping()) return;
    try {
      const res = await fetch(`${apiUrl}/domains`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiToken}` },
        body: JSON.stringify({ config: readFileSync(file, "utf8"), filename: file }),
      });
      const body = (await res.json()) as {
        domid?: number;
        name?: string;
        error?: string;
        messages?: string[];
      };
      if (res.ok) say(`  created domain ${body.domid} (${body.name}) from ${file}\n`);
      else say(`  ${file}: ${[body.error, ...(body.messages ?? [])].join("; ")}\n`);
    } catch (e) {
      say(`  ${file}: ${(e as Error).message}\n`);
    }
  }
}
