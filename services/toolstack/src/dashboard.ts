// The dashboard: a page served by the toolstack's API app (same app, same checks), its static
// assets from a fixed list (nothing of the request reaches the file system), read-only data
// endpoints under /dashboard/api/, and one server-sent event stream with live xenstore watch events
// and block-path figures. Nothing runs while no page is open: the watch, the metric scrapes and the
// status subscription start with the first stream and stop with the last.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { collectFaultStatus, type EventBus, type FaultStatus, type Subscription } from "@xensim/bus";
import { collectBusMetrics } from "@xensim/runtime";
import type { Toolstack } from "@xensim/toolstack";
import type { XenstoreClient, XsWatch } from "@xensim/xenstore-client";
import type { FastifyInstance, FastifyReply } from "fastify";
import { type DiskCounters, type DiskFigures, diskCounters, diskFigures } from "./dashboard-stats.js";
import { DASHBOARD_CSS, DASHBOARD_HTML } from "./dashboard-page.js";
import type { GuestStatusJson } from "@xensim/proto";
import { GUEST_SUBJECTS } from "@xensim/subjects";

/** EVTCHNSTAT_* names (xen/include/public/event_channel.h, EVTCHNOP_status). */
const EVTCHN_STATUS = ["closed", "unbound", "interdomain", "pirq", "virq", "ipi"] as const;

/**
 * A per-domain panel another component plugs in (the device model's console, the display backend's
 * screen): served at /dashboard/api/domains/:id/<name>. Without a provider the endpoint answers 501
 * and the page shows the panel as not available.
 */
export interface DomainPanelProvider {
  /** undefined = this domain has none (404). */
  read(domid: number): Promise<{ contentType: string; body: string | Uint8Array } | undefined>;
}

export interface DashboardOptions {
  toolstack: Toolstack;
  xs: XenstoreClient;
  bus: EventBus;
  evtchnStatus(
    dom: number,
    port: number,
  ): Promise<{ rc: number; status: number; vcpu: number; dom: number; port: number; virq: number }>;
  /** Plug-in panels by name ("console", "screen"); the page asks for these two. */
  panels?: Partial<Record<"console" | "screen", DomainPanelProvider>>;
  /** The one fault API's active faults (chaos), shown beside the bus and call rules with Heal. */
  chaosFaults?(): Array<{ id: number; kind: string; service: string; spec: object; setAt: number }>;
  /** Period of the live figures (default 1000 ms). */
  statsIntervalMs?: number;
  /** Largest xenstore subtree one request returns (nodes; default 2000). */
  maxTreeNodes?: number;
}

interface Asset {
  type: string;
  body: Buffer | string;
}

/** The page's assets: name → content, read once. Anything else under /dashboard/assets/ is 404. */
function loadAssets(): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  const web = (f: string) => fileURLToPath(new URL(`./web/${f}`, import.meta.url));
  const files: Array<[string, string, string]> = [
    ["app.js", web("app.js"), "text/javascript; charset=utf-8"],
    ["charts.js", web("charts.js"), "text/javascript; charset=utf-8"],
    ["uPlot.iife.min.js", require.resolve("uplot/dist/uPlot.iife.min.js"), "text/javascript; charset=utf-8"],
    ["uPlot.min.css", require.resolve("uplot/dist/uPlot.min.css"), "text/css; charset=utf-8"],
  ];
  const out = new Map<string, Asset>([
    ["dashboard.css", { type: "text/css; charset=utf-8", body: DASHBOARD_CSS }],
  ]);
  for (const [name, file, type] of files) out.set(name, { type, body: readFileSync(file) });
  return out;
}

function domidParam(raw: string, reply: FastifyReply): number | undefined {
  if (!/^\d{1,5}$/.test(raw)) {
    void reply.code(400).send({ error: `domain id '${raw}' is not a number` });
    return undefined;
  }
  return Number(raw);
}

/** A xenstore path as the dashboard accepts it: absolute, xenstore's characters, no empty element. */
function validPath(path: unknown): path is string {
  return (
    typeof path === "string" && path.length <= 3072 && (path === "/" || /^(\/[A-Za-z0-9_@.:-]+)+$/.test(path)) // XS_PATH chars plus '@' watches never appear here
  );
}

interface TreeNode {
  name: string;
  path: string;
  value: string;
  children: TreeNode[];
  truncated?: boolean;
}

/** Live state shared by every open page; started by the first stream, stopped by the last. */
class LiveHub {
  private clients = new Set<(event: string, data: unknown) => void>();
  private watch: XsWatch | undefined;
  private statusSub: Subscription | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private prev: { at: number; disks: Map<string, DiskCounters> } | undefined;
  readonly guests = new Map<number, GuestStatusJson>();
  latest: { at: number; disks: DiskFigures[]; faults: FaultStatus[]; chaos: unknown[] } = {
    at: 0,
    disks: [],
    faults: [],
    chaos: [],
  };

  constructor(private readonly options: DashboardOptions) {}

  add(send: (event: string, data: unknown) => void): () => void {
    this.clients.add(send);
    if (this.clients.size === 1) this.start();
    send("stats", this.latest);
    return () => {
      this.clients.delete(send);
      if (this.clients.size === 0) this.stop();
    };
  }

  private broadcast(event: string, data: unknown): void {
    for (const c of this.clients) c(event, data);
  }

  private start(): void {
    const dec = new TextDecoder();
    this.statusSub = this.options.bus.subscribe(GUEST_SUBJECTS.statusAll, {
      callback: (m) => {
        try {
          const s = JSON.parse(dec.decode(m.data)) as GuestStatusJson;
          this.guests.set(s.domid, s);
        } catch {
          // not a status
        }
      },
    });
    void this.options.xs.watch("/", "dashboard").then(
      async (w) => {
        if (this.clients.size === 0) {
          await w.close();
          return;
        }
        this.watch = w;
        for await (const ev of w) {
          const value = await this.options.xs.tryRead(ev.path).catch(() => undefined);
          this.broadcast("xenstore", { path: ev.path, value: value ?? null });
        }
      },
      (err: unknown) => this.broadcast("problem", { what: "xenstore watch", error: String(err) }),
    );
    const tick = async () => {
      const [scrape, faults] = await Promise.all([
        collectBusMetrics(this.options.bus, { waitMs: 200 }),
        collectFaultStatus(this.options.bus, { waitMs: 200 }),
      ]);
      const now = performance.now();
      const disks = diskCounters(scrape);
      const figures = diskFigures(
        this.prev?.disks,
        disks,
        this.prev ? (now - this.prev.at) / 1000 : 0,
        (d, devid) => this.guests.get(d)?.disks?.find((x) => x.devid === devid)?.ringPages,
      );
      this.prev = { at: now, disks };
      this.latest = { at: Date.now(), disks: figures, faults, chaos: this.options.chaosFaults?.() ?? [] };
      this.broadcast("stats", { ...this.latest, guests: [...this.guests.values()] });
    };
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      tick()
        .catch((err: unknown) => this.broadcast("problem", { what: "figures", error: String(err) }))
        .finally(() => (busy = false));
    }, this.options.statsIntervalMs ?? 1000);
    this.timer.unref?.();
  }

  stop(): void {
    this.statusSub?.unsubscribe();
    this.statusSub = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.prev = undefined;
    void this.watch?.close();
    this.watch = undefined;
    this.guests.clear();
  }

  close(): void {
    for (const c of this.clients) c("bye", {});
    this.clients.clear();
    this.stop();
  }
}

/**
 * Registers the dashboard's routes on the API app. Every route is GET; the one write the page does
 * (healing faults) goes through the API's own DELETE /faults and its checks.
 */
export function registerDashboard(app: FastifyInstance, options: DashboardOptions): { close(): void } {
  const assets = loadAssets();
  const hub = new LiveHub(options);
  const streams = new Set<() => void>();
  const maxNodes = options.maxTreeNodes ?? 2000;

  app.get("/dashboard", async (_req, reply) => reply.redirect("/dashboard/"));
  app.get("/dashboard/", async (_req, reply) =>
    reply
      .type("text/html; charset=utf-8")
      .header("content-security-policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self'")
      .send(DASHBOARD_HTML),
  );
  app.get<{ Params: { name: string } }>("/dashboard/assets/:name", async (req, reply) => {
    const a = assets.get(req.params.name);
    if (!a) return reply.code(404).send({ error: `no asset ${JSON.stringify(req.params.name)}` });
    return reply.type(a.type).header("cache-control", "no-cache").send(a.body);
  });

  app.get("/dashboard/api/panels", async () => ({
    panels: (["console", "screen"] as const).map((name) => ({
      name,
      available: options.panels?.[name] !== undefined,
    })),
  }));

  app.get("/dashboard/api/snapshot", async () => {
    const domains = await options.toolstack.list();
    const disks = await Promise.all(
      domains
        .filter((d) => d.id !== 0)
        .map(async (d) => ({ domid: d.id, disks: await options.toolstack.listDisks(d.id).catch(() => []) })),
    );
    return {
      domains,
      disks,
      guests: [...hub.guests.values()],
      figures: hub.latest,
      panels: {
        console: options.panels?.console !== undefined,
        screen: options.panels?.screen !== undefined,
      },
    };
  });

  app.get<{ Querystring: { path?: string } }>("/dashboard/api/xenstore", async (req, reply) => {
    const path = req.query.path ?? "/";
    if (!validPath(path))
      return reply.code(400).send({ error: `not a xenstore path: ${JSON.stringify(path)}` });
    let budget = maxNodes;
    const walk = async (p: string, name: string): Promise<TreeNode> => {
      budget--;
      const node: TreeNode = { name, path: p, value: (await options.xs.tryRead(p)) ?? "", children: [] };
      const kids = await options.xs.ls(p).catch(() => [] as string[]);
      for (const k of kids) {
        if (budget <= 0) {
          node.truncated = true;
          break;
        }
        node.children.push(await walk(p === "/" ? `/${k}` : `${p}/${k}`, k));
      }
      return node;
    };
    try {
      if (!(await options.xs.exists(path))) return reply.code(404).send({ error: `${path}: ENOENT` });
      return await walk(path, path === "/" ? "/" : path.slice(path.lastIndexOf("/") + 1));
    } catch (e) {
      return reply.code(502).send({ error: `xenstore: ${e instanceof Error ? e.message : String(e)}` });
    }
  });

  app.get<{ Params: { id: string } }>("/dashboard/api/domains/:id/evtchn", async (req, reply) => {
    const id = domidParam(req.params.id, reply);
    if (id === undefined) return reply;
    // EVTCHNOP_status for ports 1.. until 16 closed ports in a row (ports are allocated lowest first).
    const ports = [];
    let closedRun = 0;
    for (let port = 1; port < 1024 && closedRun < 16; port++) {
      const s = await options.evtchnStatus(id, port);
      if (s.rc !== 0) {
        if (port === 1) return reply.code(404).send({ error: `domain ${id}: ESRCH`, rc: s.rc });
        break;
      }
      if (s.status === 0) {
        closedRun++;
        continue;
      }
      closedRun = 0;
      ports.push({
        port,
        status: EVTCHN_STATUS[s.status] ?? String(s.status),
        vcpu: s.vcpu,
        ...(s.status === 1 || s.status === 2 ? { remoteDomid: s.dom } : {}),
        ...(s.status === 2 ? { remotePort: s.port } : {}),
        ...(s.status === 4 ? { virq: s.virq } : {}),
      });
    }
    return { domid: id, ports };
  });

  for (const name of ["console", "screen"] as const)
    app.get<{ Params: { id: string } }>(`/dashboard/api/domains/:id/${name}`, async (req, reply) => {
      const id = domidParam(req.params.id, reply);
      if (id === undefined) return reply;
      const p = options.panels?.[name];
      if (!p) return reply.code(501).send({ error: `${name}: not available on this host yet` });
      const r = await p.read(id);
      if (!r) return reply.code(404).send({ error: `domain ${id} has no ${name}` });
      return reply.type(r.contentType).header("cache-control", "no-store").send(r.body);
    });

  app.get("/dashboard/api/events", (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    const send = (event: string, data: unknown) => {
      if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const remove = hub.add(send);
    const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
    const end = () => {
      clearInterval(keepAlive);
      remove();
      streams.delete(end);
      if (!res.writableEnded) res.end();
    };
    streams.add(end);
    req.raw.on("close", end);
  });

  return {
    close: () => {
      for (const end of [...streams]) end();
      hub.close();
    },
  };
}
