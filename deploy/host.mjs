#!/usr/bin/env node
// One xensim host process for a container of the distributed placement (docker-compose.yml): the
// listed services as worker threads on one page store (@xensim/runtime startHost), events over NATS,
// calls over gRPC. Configured by environment:
//
//   XENSIM_NATS_URL        nats://nats:4222 (required)
//   XENSIM_HOST_ID         this host's id (default: the container's hostname)
//   XENSIM_SERVICES        comma list, e.g. "hypervisor,xenstored,page-server" or "page-server,blkback"
//   XENSIM_CONFIG_<SVC>    JSON config of one service (SVC upper-case, "-" → "_"), e.g.
//                          XENSIM_CONFIG_BLKBACK='{"hypervisor":"host-a:7101","hypervisorHost":"host-a"}'
//   XENSIM_GRPC_PORTS     "xenstored=7100,hypervisor=7101,page-server=7102": these services serve gRPC
//                          on XENSIM_GRPC_HOST:PORT (default: the hostname, which the compose network
//                          resolves for the other containers) instead of the runtime's 127.0.0.1:0,
//                          so calls from other containers reach them and the address a page-server
//                          hands its followers (for gap-fill) is one they can reach
//   XENSIM_HTTP_PORT       the host's /healthz and /metrics on 0.0.0.0 (default 9100)
//   XENSIM_CONTROL_PORT    with the hypervisor here: POST /guest-io on 127.0.0.1 (default 9101) — a
//                          guest in this process (its memory is this host's) does I/O; deploy/guest-io.mjs
//   XENSIM_XENSTORED       xenstored's gRPC address when it runs in another container ("xenstored:7100")
//   XENSIM_MEMORY_MIB      the page store (default 256)
//   XENSIM_LOG_LEVEL       default "warn"
//   XENSIM_KEYS            the credentials directory (`xensim keys init`): gRPC mutual TLS, NATS nkeys,
//                          the API token; required unless XENSIM_INSECURE=1
//
// Exit: 0 on SIGTERM/SIGINT after a clean stop, 1 when a service fails (the restart policy restarts).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { hostname } from "node:os";
import workerThreads from "node:worker_threads";

const require = createRequire(import.meta.url);
const env = process.env;
const READY_FILE = "/tmp/xensim-host-ready";
rmSync(READY_FILE, { force: true });

const natsUrl = env.XENSIM_NATS_URL;
if (!natsUrl) {
  console.error("host: XENSIM_NATS_URL is required (the distributed placement runs over NATS)");
  process.exit(2);
}
const keysDir = env.XENSIM_KEYS || undefined;
if (!keysDir && !/^(1|true|yes)$/i.test(env.XENSIM_INSECURE ?? "")) {
  console.error(
    "host: XENSIM_KEYS (a `xensim keys init` directory) is required; XENSIM_INSECURE=1 runs without",
  );
  process.exit(2);
}
// A restarted host process keeps its id: its link announces a new epoch, and its peers drop what
// they had of the old process and resynchronise (docs/data-plane.md).
const hostId = env.XENSIM_HOST_ID || hostname();
const names = (env.XENSIM_SERVICES ?? "hypervisor,xenstored,page-server")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);
const configOf = (name) => {
  const v = env[`XENSIM_CONFIG_${name.toUpperCase().replace(/-/g, "_")}`];
  if (!v) return {};
  try {
    return JSON.parse(v);
  } catch (e) {
    console.error(`host: XENSIM_CONFIG_${name.toUpperCase()} is not JSON: ${e.message}`);
    process.exit(2);
  }
};
const services = names.map((name) => {
  const config = configOf(name);
  // the toolstack's API takes the deployment's token
  if (name === "toolstack" && keysDir)
    config.api = { ...config.api, tokenFile: config.api?.tokenFile || `${keysDir}/api-token` };
  if (name === "xenstored" && typeof config.socket === "string" && config.socket !== "")
    mkdirSync(config.socket.replace(/\/[^/]*$/, "") || "/", { recursive: true });
  return { name, entry: require.resolve(`@xensim/svc-${name}/main`), config };
});
const grpcHost = env.XENSIM_GRPC_HOST || hostname();
const grpcPorts = new Map(
  (env.XENSIM_GRPC_PORTS ?? "")
    .split(",")
    .filter((s) => s.includes("="))
    .map((s) => {
      const [name, port] = s.split("=");
      return [name.trim(), Number(port)];
    }),
);

// The runtime's startHost binds every service's gRPC to 127.0.0.1:0 when it runs over NATS, which
// no other container can reach. Until HostOptions can say where (see deploy/README.md), the
// placement handed to each worker is adjusted on its way: node:worker_threads' Worker is wrapped
// before @xensim/runtime is loaded (syncBuiltinESMExports updates the ESM binding it imports).
if (grpcPorts.size > 0) {
  const Base = workerThreads.Worker;
  workerThreads.Worker = class XensimWorker extends Base {
    constructor(entry, opts) {
      const p = opts?.workerData?.xensim;
      if (p && grpcPorts.has(p.name) && p.grpcListen) p.grpcListen = `${grpcHost}:${grpcPorts.get(p.name)}`;
      super(entry, opts);
    }
  };
  syncBuiltinESMExports();
}
const { runHostMain } = await import("@xensim/runtime");

const started = performance.now();
const host = await runHostMain({
  hostId,
  nats: natsUrl,
  ...(keysDir ? { keysDir } : {}),
  services,
  sharedMemoryBytes: Number(env.XENSIM_MEMORY_MIB ?? 256) * 1024 * 1024,
  http: { port: Number(env.XENSIM_HTTP_PORT ?? 9100), host: "0.0.0.0" },
  logLevel: env.XENSIM_LOG_LEVEL ?? "warn",
  // a loaded machine (several compose projects, two cores) can take more than the default 30 s
  readyTimeoutMs: Number(env.XENSIM_READY_TIMEOUT_MS ?? 120_000),
});
try {
  await host.ready;
} catch {
  // runHostMain logged it and is exiting with 1
  await new Promise(() => {});
}

for (const [name, port] of grpcPorts) {
  const want = `${grpcHost}:${port}`;
  if (host.services.get(name)?.grpcAddress !== want)
    console.error(`host: ${name} serves gRPC at ${host.services.get(name)?.grpcAddress}, not ${want}`);
}

let control;
if (
  names.includes("hypervisor") &&
  names.includes("page-server") &&
  (names.includes("xenstored") || env.XENSIM_XENSTORED)
) {
  const { guestIo } = await import("./guest.mjs");
  const port = Number(env.XENSIM_CONTROL_PORT ?? 9101);
  control = createHttpServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/guest-io") {
      res.writeHead(404).end();
      return;
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      void (async () => {
        let out;
        try {
          out = await guestIo(host, natsUrl, body ? JSON.parse(body) : {});
        } catch (e) {
          out = { ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
        }
        res.writeHead(out.ok ? 200 : 500, { "content-type": "application/json" }).end(JSON.stringify(out));
      })();
    });
  });
  await new Promise((resolve) => control.listen(port, "127.0.0.1", resolve));
}

writeFileSync(READY_FILE, String(process.pid));
console.log(
  JSON.stringify({
    event: "xensim-host-up",
    host: hostId,
    ms: Math.round(performance.now() - started),
    services: [...host.services.values()].map((s) => ({ name: s.name, grpc: s.grpcAddress })),
    http: host.httpAddress,
  }),
);
