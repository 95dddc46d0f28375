// A Toxiproxy-shaped HTTP API for the data-plane link, so that existing Toxiproxy clients (and the
// habits of people who use them) drive the link between host processes. Each pair of host
// processes that run a page-server is one proxy, named "<a>_<b>" (a < b): `listen` is a, `upstream`
// is b; the "upstream" stream is the link's DATA frames from a to b, "downstream" those from b to a.
// Toxics become link faults of the toolstack's one fault API (so they are on its timeline, in
// /chaos/faults, healed by DELETE /chaos/faults and by Ctrl-C of a chaos run):
//
//   latency {latency, jitter}  → link.replication-delayed, delayMs [latency - jitter, latency + jitter],
//                                probability = toxicity (the stream stalls: later frames wait too)
//   timeout {timeout}          → link.partition of that stream (no frame passes until removed; the
//                                link is never closed, so a timeout > 0 does not close anything)
//   enabled: false             → link.partition both ways until enabled again
//   bandwidth, slow_close, reset_peer, slicer, limit_data → not mapped (400 with the reason)
//
// Errors have Toxiproxy's shape: {"error": "...", "status": N}.

import type { FastifyInstance, FastifyReply } from "fastify";
import { type ActiveFault, ChaosError, type ChaosCoordinator } from "./chaos.js";

type Stream = "upstream" | "downstream";

export interface ToxicJson {
  name: string;
  type: string;
  stream: Stream;
  toxicity: number;
  attributes: Record<string, number>;
}

export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicJson[];
}

/** Toxic types and whether/how they map onto the link. */
export const TOXIC_TYPES: Readonly<Record<string, string | null>> = Object.freeze({
  latency: "link.replication-delayed",
  timeout: "link.partition",
  bandwidth: null,
  slow_close: null,
  reset_peer: null,
  slicer: null,
  limit_data: null,
});

const UNMAPPED_REASON: Readonly<Record<string, string>> = Object.freeze({
  bandwidth: "the link has no rate limiter hook (its frames are dropped, duplicated, reordered or stalled)",
  slow_close: "the link is one long-lived stream per peer that chaos never closes",
  reset_peer: "the link is one long-lived stream per peer that chaos never resets",
  slicer: "the link's frames are whole records; slicing the byte stream has no hook",
  limit_data: "the link is one long-lived stream per peer that chaos never closes",
});

interface ProxyState {
  /** link.partition fault ids while enabled is false. */
  disabled: number[];
  toxics: Map<string, { toxic: ToxicJson; faultId: number }>;
}

class ToxiproxyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class LinkProxies {
  private readonly state = new Map<string, ProxyState>();
  /** Link ends seen so far: a host process that answers the list late keeps its proxies. */
  private readonly ends = new Set<string>();

  constructor(private readonly c: ChaosCoordinator) {}

  /** Every pair of link ends, as proxies. */
  private async pairs(): Promise<Array<{ name: string; a: string; b: string }>> {
    for (const e of await this.c.linkHosts().catch(() => [] as string[])) this.ends.add(e);
    const ends = [...this.ends].sort();
    const out: Array<{ name: string; a: string; b: string }> = [];
    for (let i = 0; i < ends.length; i++)
      for (let j = i + 1; j < ends.length; j++)
        out.push({ name: `${ends[i]}_${ends[j]}`, a: ends[i]!, b: ends[j]! });
    return out;
  }

  private async pair(name: string): Promise<{ name: string; a: string; b: string }> {
    const p = (await this.pairs()).find((x) => x.name === name);
    if (!p) throw new ToxiproxyError(404, "proxy not found");
    return p;
  }

  /** The proxy's state, forgetting faults healed elsewhere (DELETE /chaos/faults, a run's end). */
  private stateOf(name: string): ProxyState {
    let s = this.state.get(name);
    if (!s) {
      s = { disabled: [], toxics: new Map() };
      this.state.set(name, s);
    }
    const active = new Set(this.c.list().map((f) => f.id));
    s.disabled = s.disabled.filter((id) => active.has(id));
    for (const [n, t] of s.toxics) if (!active.has(t.faultId)) s.toxics.delete(n);
    return s;
  }

  private json(p: { name: string; a: string; b: string }): ProxyJson {
    const s = this.stateOf(p.name);
    return {
      name: p.name,
      listen: p.a,
      upstream: p.b,
      enabled: s.disabled.length === 0,
      toxics: [...s.toxics.values()].map((t) => t.toxic),
    };
  }

  async list(): Promise<Record<string, ProxyJson>> {
    const out: Record<string, ProxyJson> = {};
    for (const p of await this.pairs()) out[p.name] = this.json(p);
    return out;
  }

  async get(name: string): Promise<ProxyJson> {
    return this.json(await this.pair(name));
  }

  /** POST /proxies/{name}: enabled false partitions the link both ways; true heals that. */
  async update(name: string, body: unknown): Promise<ProxyJson> {
    const p = await this.pair(name);
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b !== "object" || Array.isArray(b)) throw new ToxiproxyError(400, "expected a JSON object");
    for (const k of ["listen", "upstream"] as const)
      if (b[k] !== undefined && b[k] !== (k === "listen" ? p.a : p.b))
        throw new ToxiproxyError(
          400,
          `${k}: the link's ends are its host processes (${p.a}, ${p.b}); they do not move`,
        );
    if (b.enabled !== undefined && typeof b.enabled !== "boolean")
      throw new ToxiproxyError(400, "enabled: expected true or false");
    const s = this.stateOf(name);
    if (b.enabled === false && s.disabled.length === 0) {
      for (const [host, peer] of [
        [p.a, p.b],
        [p.b, p.a],
      ] as const) {
        const f = await this.c.set({ kind: "link.partition", host, peer });
        s.disabled.push(f.id);
      }
    } else if (b.enabled === true) {
      for (const id of s.disabled.splice(0)) await this.c.heal({ id }).catch(() => []);
    }
    return this.json(p);
  }

  async toxics(name: string): Promise<ToxicJson[]> {
    return this.json(await this.pair(name)).toxics;
  }

  async toxic(name: string, toxic: string): Promise<ToxicJson> {
    await this.pair(name);
    const t = this.stateOf(name).toxics.get(toxic);
    if (!t) throw new ToxiproxyError(404, "toxic not found");
    return t.toxic;
  }

  async addToxic(name: string, body: unknown): Promise<ToxicJson> {
    const p = await this.pair(name);
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b !== "object" || Array.isArray(b)) throw new ToxiproxyError(400, "expected a JSON object");
    const type = b.type;
    if (typeof type !== "string" || !(type in TOXIC_TYPES))
      throw new ToxiproxyError(400, `type: expected one of ${Object.keys(TOXIC_TYPES).join(", ")}`);
    const kind = TOXIC_TYPES[type];
    if (!kind)
      throw new ToxiproxyError(
        400,
        `toxic type ${type} is not mapped onto the data-plane link: ${UNMAPPED_REASON[type]} (mapped: latency, timeout; enabled: false partitions)`,
      );
    const stream = b.stream ?? "downstream";
    if (stream !== "upstream" && stream !== "downstream")
      throw new ToxiproxyError(400, "stream: expected upstream or downstream");
    const toxicity = b.toxicity ?? 1;
    if (typeof toxicity !== "number" || toxicity < 0 || toxicity > 1)
      throw new ToxiproxyError(400, "toxicity: expected a number in [0, 1]");
    const attrsIn = (b.attributes ?? {}) as Record<string, unknown>;
    if (typeof attrsIn !== "object" || Array.isArray(attrsIn))
      throw new ToxiproxyError(400, "attributes: expected an object");
    const attributes: Record<string, number> = {};
    for (const [k, v] of Object.entries(attrsIn)) {
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
        throw new ToxiproxyError(400, `attributes.${k}: expected a number >= 0`);
      attributes[k] = v;
    }
    const toxicName = b.name ?? `${type}_${stream}`;
    if (typeof toxicName !== "string" || toxicName === "")
      throw new ToxiproxyError(400, "name: expected a string");
    const s = this.stateOf(name);
    if (s.toxics.has(toxicName)) throw new ToxiproxyError(409, "toxic already exists");
    // upstream: frames from listen (a) to upstream (b); downstream: from b to a
    const [host, peer] = stream === "upstream" ? [p.a, p.b] : [p.b, p.a];
    const spec: Record<string, unknown> = { kind, host, peer };
    if (type === "latency") {
      const latency = attributes.latency ?? 0;
      const jitter = attributes.jitter ?? 0;
      attributes.latency = latency;
      attributes.jitter = jitter;
      spec.probability = toxicity;
      spec.delayMs = jitter > 0 ? [Math.max(0, latency - jitter), latency + jitter] : latency;
    } else {
      attributes.timeout = attributes.timeout ?? 0;
      if (toxicity < 1) spec.probability = toxicity;
    }
    let f: ActiveFault;
    try {
      f = await this.c.set(spec);
    } catch (e) {
      throw new ToxiproxyError(e instanceof ChaosError ? e.status : 500, (e as Error).message);
    }
    const toxic: ToxicJson = { name: toxicName, type, stream, toxicity, attributes };
    s.toxics.set(toxicName, { toxic, faultId: f.id });
    return toxic;
  }

  async removeToxic(name: string, toxic: string): Promise<void> {
    await this.pair(name);
    const s = this.stateOf(name);
    const t = s.toxics.get(toxic);
    if (!t) throw new ToxiproxyError(404, "toxic not found");
    s.toxics.delete(toxic);
    await this.c.heal({ id: t.faultId }).catch(() => []);
  }
}

/** GET /proxies, GET|POST /proxies/{proxy}, GET|POST /proxies/{proxy}/toxics, GET|DELETE /proxies/{proxy}/toxics/{toxic}. */
export function registerToxiproxyRoutes(app: FastifyInstance, c: ChaosCoordinator): void {
  const proxies = new LinkProxies(c);
  const fail = (reply: FastifyReply, e: unknown) => {
    const status = e instanceof ToxiproxyError ? e.status : e instanceof ChaosError ? e.status : 500;
    return reply.code(status).send({ error: e instanceof Error ? e.message : String(e), status });
  };
  type P = { Params: { proxy: string; toxic: string }; Body: unknown };
  const route =
    <T>(fn: (req: { params: P["Params"]; body: unknown }) => Promise<T>, ok = 200) =>
    async (req: { params: P["Params"]; body: unknown }, reply: FastifyReply) => {
      try {
        const r = await fn(req);
        return ok === 204 ? reply.code(204).send() : reply.code(ok).send(r);
      } catch (e) {
        return fail(reply, e);
      }
    };
  app.get<P>(
    "/proxies",
    route(() => proxies.list()),
  );
  app.post("/proxies", async (_req, reply) =>
    reply.code(405).send({
      error: "proxies here are the data-plane links between host processes: they are listed, not created",
      status: 405,
    }),
  );
  app.get<P>(
    "/proxies/:proxy",
    route((r) => proxies.get(r.params.proxy)),
  );
  app.post<P>(
    "/proxies/:proxy",
    route((r) => proxies.update(r.params.proxy, r.body)),
  );
  app.get<P>(
    "/proxies/:proxy/toxics",
    route((r) => proxies.toxics(r.params.proxy)),
  );
  app.post<P>(
    "/proxies/:proxy/toxics",
    route((r) => proxies.addToxic(r.params.proxy, r.body)),
  );
  app.get<P>(
    "/proxies/:proxy/toxics/:toxic",
    route((r) => proxies.toxic(r.params.proxy, r.params.toxic)),
  );
  app.delete<P>(
    "/proxies/:proxy/toxics/:toxic",
    route((r) => proxies.removeToxic(r.params.proxy, r.params.toxic), 204),
  );
}

const obj = (properties: Record<string, unknown>) => ({ type: "object", properties });
const jsonBody = (schema: object) => ({ content: { "application/json": { schema } } });
const TOXIC = obj({
  name: { type: "string" },
  type: { type: "string", enum: Object.keys(TOXIC_TYPES) },
  stream: { type: "string", enum: ["upstream", "downstream"] },
  toxicity: { type: "number" },
  attributes: { type: "object" },
});
const PROXY = obj({
  name: { type: "string" },
  listen: { type: "string" },
  upstream: { type: "string" },
  enabled: { type: "boolean" },
  toxics: { type: "array", items: TOXIC },
});
const ERR = (description: string) => ({
  description,
  ...jsonBody(obj({ error: { type: "string" }, status: { type: "integer" } })),
});
const proxyParam = { name: "proxy", in: "path", required: true, schema: { type: "string" } };
const toxicParam = { name: "toxic", in: "path", required: true, schema: { type: "string" } };

/** The Toxiproxy-shaped routes, for /openapi.json. */
export const TOXIPROXY_OPENAPI_PATHS = {
  "/proxies": {
    post: {
      summary: "Toxiproxy's create: refused, the proxies are the links that exist between host processes",
      responses: { "405": ERR("proxies are listed, not created") },
    },
    get: {
      summary: "Toxiproxy-shaped: the data-plane links between host processes, one proxy per pair (<a>_<b>)",
      responses: {
        "200": {
          description: "proxies by name",
          ...jsonBody({ type: "object", additionalProperties: PROXY }),
        },
      },
    },
  },
  "/proxies/{proxy}": {
    get: {
      summary: "One link as a proxy",
      parameters: [proxyParam],
      responses: { "200": { description: "proxy", ...jsonBody(PROXY) }, "404": ERR("proxy not found") },
    },
    post: {
      summary: "Update a proxy: enabled false partitions the link both ways (link.partition), true heals it",
      parameters: [proxyParam],
      requestBody: jsonBody(obj({ enabled: { type: "boolean" } })),
      responses: {
        "200": { description: "proxy", ...jsonBody(PROXY) },
        "400": ERR("bad input"),
        "404": ERR("proxy not found"),
      },
    },
  },
  "/proxies/{proxy}/toxics": {
    get: {
      summary: "The proxy's toxics",
      parameters: [proxyParam],
      responses: { "200": { description: "toxics", ...jsonBody({ type: "array", items: TOXIC }) } },
    },
    post: {
      summary:
        "Add a toxic: latency (latency, jitter) → link.replication-delayed, timeout → link.partition of the stream; bandwidth, slow_close, reset_peer, slicer, limit_data are not mapped (400)",
      parameters: [proxyParam],
      requestBody: jsonBody(TOXIC),
      responses: {
        "200": { description: "toxic", ...jsonBody(TOXIC) },
        "400": ERR("bad input or a toxic type not mapped onto the link"),
        "404": ERR("proxy not found"),
        "409": ERR("toxic already exists"),
      },
    },
  },
  "/proxies/{proxy}/toxics/{toxic}": {
    get: {
      summary: "One toxic",
      parameters: [proxyParam, toxicParam],
      responses: { "200": { description: "toxic", ...jsonBody(TOXIC) }, "404": ERR("toxic not found") },
    },
    delete: {
      summary: "Remove a toxic (its link fault is healed)",
      parameters: [proxyParam, toxicParam],
      responses: { "204": { description: "removed" }, "404": ERR("toxic not found") },
    },
  },
};
