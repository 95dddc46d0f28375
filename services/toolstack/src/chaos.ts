// The one fault API: every fault kind of @xensim/chaos set, listed and healed through the toolstack,
// whatever plane it lives on (a service's fault points, its bus/call rules, the host process that
// runs its worker, the hypervisor, the data-plane link's frame fault hooks in each host process's
// page-server). Every action is recorded with its wall-clock time: the timeline.

import { type EventBus, type FaultRules, sendFaultRules } from "@xensim/bus";
import { CHAOS_SUBJECTS, LINK_SUBJECTS } from "@xensim/subjects";
import {
  type ChaosReply,
  FAULT_KINDS,
  type FaultHit,
  type FaultSpec,
  type HostChaosCommand,
  requireFaultKind,
  validateFaultSpec,
} from "@xensim/chaos";
import type { FastifyInstance } from "fastify";

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface ActiveFault {
  id: number;
  kind: string;
  service: string;
  spec: FaultSpec;
  setAt: number;
  /** link kinds: the sending host processes it is set on. */
  hosts?: string[];
}

/** A page-server's link fault hooks (services/page-server LinkFaultRulesSchema). */
export interface LinkFaultRulesJson {
  seed: number;
  drop?: number;
  duplicate?: number;
  stall?: number;
  stallMs?: [number, number];
  peers?: string[];
}

/** What a page-server answers on LINK_SUBJECTS.faultRecords. */
interface LinkRecordsReply {
  seed?: number;
  peers?: Record<
    string,
    { counts?: Record<string, number>; records?: Array<{ kind: string; at: number; bytes: number }> }
  >;
}

/**
 * The rules of the link faults active on one sending host: the largest probability of each fault,
 * the stall's delay range, and the peers they are limited to (all when any fault names none).
 */
export function linkRules(faults: readonly ActiveFault[]): LinkFaultRulesJson | null {
  if (faults.length === 0) return null;
  const rules: LinkFaultRulesJson = { seed: faults[0]!.spec.seed ?? 1 };
  const max = (a: number | undefined, b: number): number => Math.max(a ?? 0, b);
  let peers: Set<string> | undefined = new Set();
  for (const f of faults) {
    const p = f.spec.probability ?? 1;
    if (f.kind === "link.replication-dropped") rules.drop = max(rules.drop, p);
    else if (f.kind === "link.partition") rules.drop = 1;
    else if (f.kind === "link.replication-duplicated") rules.duplicate = max(rules.duplicate, p);
    else if (f.kind === "link.replication-delayed") {
      rules.stall = max(rules.stall, p);
      const d = f.spec.delayMs ?? 50;
      const [lo, hi] = Array.isArray(d) ? d : [d, d];
      rules.stallMs = rules.stallMs
        ? [Math.min(rules.stallMs[0], lo), Math.max(rules.stallMs[1], hi)]
        : [lo, hi];
    }
    if (f.spec.peer === undefined) peers = undefined;
    else peers?.add(f.spec.peer);
  }
  if (peers) rules.peers = [...peers].sort();
  return rules;
}

export interface TimelineEntry {
  seq: number;
  /** Wall-clock ms. */
  at: number;
  action: "set" | "heal";
  id: number;
  kind: string;
  service: string;
  spec: FaultSpec;
  ok: boolean;
  error?: string;
}

/** A chaos request's error class by its HTTP status, as Xen errno names (the stable `code`). */
export const CHAOS_ERROR_CODES = Object.freeze({
  /** Bad fault spec or selector. */
  400: "EINVAL",
  /** The service, host or fault named is not there (not running, not answering). */
  404: "ENOENT",
  /** The target refused the fault (or the pause). */
  409: "EBUSY",
} as const);

export type ChaosErrorStatus = keyof typeof CHAOS_ERROR_CODES;

export class ChaosError extends Error {
  override readonly name = "ChaosError";
  /** Stable for callers to match on (the message is for people): EINVAL, ENOENT or EBUSY. */
  readonly code: (typeof CHAOS_ERROR_CODES)[ChaosErrorStatus];
  constructor(
    readonly status: ChaosErrorStatus,
    message: string,
  ) {
    super(message);
    this.code = CHAOS_ERROR_CODES[status];
  }
}

interface HostListReply {
  ok: boolean;
  error?: string;
  hostId: string;
  services?: Array<{ name: string; state: string; paused: boolean }>;
}

/** The container kinds' actions on a compose deployment (chaos-containers.ts: Docker's API). */
export interface ContainerFaults {
  /**
   * container.killed / .restarted (set only: one-shot), .paused (set: pause, heal: unpause),
   * .network-disconnected (set: disconnect from the compose network, heal: connect again).
   * Throws ChaosError: 404 no such compose service, 409 Docker refused.
   */
  act(kind: string, service: string, action: "set" | "heal"): Promise<void>;
  /** What it did to containers since `sinceAt` (wall-clock ms), as fault hits. */
  records?(sinceAt?: number): FaultHit[];
}

export interface ChaosCoordinatorOptions {
  bus: EventBus;
  pauseDomain(domid: number): Promise<number>;
  unpauseDomain(domid: number): Promise<number>;
  /**
   * The containers of a compose deployment (Docker's API): the container kinds act there. Without
   * it (an embedded or distributed host, or compose without the docker socket) they are refused.
   */
  containers?: ContainerFaults;
  /** Wall clock (ms). */
  now?: () => number;
  /** How long a service's chaos plane may take to answer (default 3000 ms; a restart: 30 s). */
  timeoutMs?: number;
}

/** Sets and heals faults of every kind, and records the timeline. */
export class ChaosCoordinator {
  private readonly active = new Map<number, ActiveFault>();
  readonly timeline: TimelineEntry[] = [];
  private nextId = 1;
  private nextSeq = 1;
  private readonly now: () => number;
  /** Serialises actions: the timeline is in the order they took effect. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ChaosCoordinatorOptions) {
    this.now = options.now ?? Date.now;
  }

  list(): ActiveFault[] {
    return [...this.active.values()];
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => {});
    return p;
  }

  private async request<T>(
    subject: string,
    body: unknown,
    timeoutMs = this.options.timeoutMs ?? 3000,
  ): Promise<T> {
    const m = await this.options.bus.request(subject, enc.encode(JSON.stringify(body)), { timeoutMs });
    return JSON.parse(dec.decode(m.data)) as T;
  }

  /** Every host process's services (embedded and host processes that serve the chaos plane). */
  async hosts(waitMs = 250): Promise<HostListReply[]> {
    const inbox = CHAOS_SUBJECTS.inbox(
      `${process.pid}.${this.now()}.${this.nextSeq}.${Math.random().toString(36).slice(2)}`,
    );
    const out: HostListReply[] = [];
    const sub = this.options.bus.subscribe(inbox, {
      callback: (m) => {
        try {
          out.push(JSON.parse(dec.decode(m.data)) as HostListReply);
        } catch {
          // not a reply
        }
      },
    });
    try {
      await this.options.bus.flush();
      this.options.bus.publish(CHAOS_SUBJECTS.hosts, enc.encode(JSON.stringify({ op: "list" })), {
        reply: inbox,
      });
      await new Promise((r) => setTimeout(r, waitMs));
    } finally {
      sub.unsubscribe();
    }
    return out;
  }

  private async hostOf(service: string): Promise<string> {
    const hosts = await this.hosts();
    const h = hosts.find((x) => x.services?.some((s) => s.name === service));
    if (!h) {
      const running = hosts.flatMap((x) => x.services?.map((s) => s.name) ?? []);
      throw new ChaosError(
        404,
        hosts.length === 0
          ? `service ${service}: no host process answers on the chaos plane (only embedded hosts do yet)`
          : `service ${service} is not running (running: ${running.join(", ")})`,
      );
    }
    return h.hostId;
  }

  private async host(service: string, cmd: HostChaosCommand, timeoutMs = 3000): Promise<void> {
    const hostId = await this.hostOf(service);
    const r = await this.request<HostListReply>(CHAOS_SUBJECTS.host(hostId), cmd, timeoutMs);
    if (!r.ok) throw new ChaosError(409, r.error ?? "host refused");
  }

  private async point(service: string, body: unknown): Promise<ChaosReply> {
    let r: ChaosReply;
    try {
      r = await this.request<ChaosReply>(CHAOS_SUBJECTS.service(service), body);
    } catch (e) {
      throw new ChaosError(
        404,
        `service ${service} is not running or does not answer on ${CHAOS_SUBJECTS.service(service)} (${(e as Error).message})`,
      );
    }
    if (!r.ok) throw new ChaosError(409, r.error ?? "refused");
    return r;
  }

  /** The bus/call rules of `service` that its active bus-plane faults make (one rule set per component). */
  private busRules(service: string): { events: FaultRules | null; calls: FaultRules | null } {
    const events: NonNullable<FaultRules["events"]> = [];
    const calls: NonNullable<FaultRules["calls"]> = [];
    let seed: number | undefined;
    for (const f of this.active.values()) {
      if (f.service !== service || requireFaultKind(f.kind).plane !== "bus") continue;
      const s = f.spec;
      seed ??= s.seed;
      const p = s.probability ?? 1;
      const subject = s.subject ?? ">";
      const delay = s.delayMs as number | [number, number] | undefined;
      if (f.kind === "bus.event-lost") events.push({ subject, drop: p });
      else if (f.kind === "bus.event-duplicated") events.push({ subject, duplicate: p });
      else if (f.kind === "bus.event-delayed") events.push({ subject, delayMs: delay ?? 50 });
      else if (f.kind === "call.delayed") calls.push({ method: s.method ?? "*", latencyMs: delay ?? 50 });
      else if (f.kind === "call.failed")
        calls.push({
          method: s.method ?? "*",
          error: { code: typeof s.code === "number" ? s.code : 14, probability: p },
        });
    }
    const seedPart = seed !== undefined ? { seed } : {};
    return {
      events: events.length > 0 ? { ...seedPart, events } : null,
      calls: calls.length > 0 ? { ...seedPart, calls } : null,
    };
  }

  private async applyBus(service: string): Promise<void> {
    const r = this.busRules(service);
    try {
      await sendFaultRules(this.options.bus, service, r.events, { component: "bus", timeoutMs: 3000 });
      await sendFaultRules(this.options.bus, service, r.calls, {
        component: "calls.server",
        timeoutMs: 3000,
      });
    } catch (e) {
      throw new ChaosError(
        404,
        `service ${service}: its fault control does not answer (${(e as Error).message})`,
      );
    }
  }

  /** The host processes that run a page-server (the link's ends), or the one named. */
  async linkHosts(named?: string): Promise<string[]> {
    const ask = async (waitMs?: number): Promise<string[]> =>
      (await this.hosts(waitMs))
        .filter((h) => h.services?.some((s) => s.name === "page-server"))
        .map((h) => h.hostId);
    let ends = await ask();
    // a host process on a loaded machine may answer after the first window: ask once more, longer
    if (named !== undefined && !ends.includes(named)) ends = await ask(1500);
    if (named !== undefined) {
      if (!ends.includes(named))
        throw new ChaosError(
          404,
          `host ${named} runs no page-server on the chaos plane (link ends: ${ends.join(", ") || "none"})`,
        );
      return [named];
    }
    if (ends.length === 0)
      throw new ChaosError(404, "no host process runs a page-server: there is no data-plane link to fault");
    return ends;
  }

  /** Sends host `hostId`'s page-server the rules its active link faults make (null: none). */
  private async applyLink(hostId: string): Promise<void> {
    const mine = [...this.active.values()].filter((f) => f.hosts?.includes(hostId));
    let r: { ok: boolean; error?: string };
    try {
      r = await this.request<{ ok: boolean; error?: string }>(LINK_SUBJECTS.faults(hostId), {
        rules: linkRules(mine),
      });
    } catch (e) {
      throw new ChaosError(
        404,
        `host ${hostId}: its page-server's link does not answer (${(e as Error).message})`,
      );
    }
    if (!r.ok)
      throw new ChaosError(409, `host ${hostId}: the link refused its fault rules: ${r.error ?? ""}`);
  }

  private linkUsed = false;
  /** When each link.partition was in force on each sending host (its drops are the partition's). */
  private readonly partitions: Array<{ id: number; host: string; from: number; to?: number }> = [];

  /** The frames the link fault hooks of every page-server host dropped, duplicated or stalled. */
  private async linkRecords(sinceAt?: number): Promise<FaultHit[]> {
    if (!this.linkUsed) return [];
    const hosts = await this.linkHosts().catch(() => [] as string[]);
    const out: FaultHit[] = [];
    await Promise.all(
      hosts.map(async (hostId) => {
        const r = await this.request<LinkRecordsReply>(LINK_SUBJECTS.faultRecords(hostId), {}, 2000).catch(
          () => undefined,
        );
        const partition = (at: number): boolean =>
          this.partitions.some(
            (w) => w.host === hostId && at >= w.from && (w.to === undefined || at <= w.to),
          );
        let seq = 0;
        for (const [peer, p] of Object.entries(r?.peers ?? {}))
          for (const rec of p.records ?? []) {
            if (sinceAt !== undefined && rec.at < sinceAt) continue;
            // the link's own fault names: drop, duplicate, stall (and reorder, which no kind sets)
            const kind =
              rec.kind === "drop"
                ? partition(rec.at)
                  ? "link.partition"
                  : "link.replication-dropped"
                : rec.kind === "duplicate"
                  ? "link.replication-duplicated"
                  : rec.kind === "stall"
                    ? "link.replication-delayed"
                    : `link frame ${rec.kind}`;
            out.push({
              seq: ++seq,
              at: rec.at,
              service: `page-server@${hostId}`,
              kind,
              target: `DATA frame of ${rec.bytes} bytes to ${peer}`,
            });
          }
      }),
    );
    return out;
  }

  private record(action: "set" | "heal", fault: ActiveFault, ok: boolean, error?: string): void {
    this.timeline.push({
      seq: this.nextSeq++,
      at: this.now(),
      action,
      id: fault.id,
      kind: fault.kind,
      service: fault.service,
      spec: fault.spec,
      ok,
      ...(error !== undefined ? { error } : {}),
    });
  }

  /** A restarted service has fresh fault points and rules: set again what is still active on it. */
  private async reapply(service: string): Promise<void> {
    const mine = [...this.active.values()].filter((f) => f.service === service);
    for (const f of mine)
      if (requireFaultKind(f.kind).plane === "point") await this.point(service, { op: "set", spec: f.spec });
    if (mine.some((f) => requireFaultKind(f.kind).plane === "bus")) await this.applyBus(service);
  }

  /** A container kind's action (set) or its undoing (heal) through Docker's API. */
  private async container(kind: string, service: string, action: "set" | "heal"): Promise<void> {
    const c = this.options.containers;
    if (!c)
      throw new ChaosError(
        409,
        `${kind}: this toolstack has no Docker API (container kinds act on a compose deployment whose toolstack has chaos.docker: docker-compose -f docker-compose.yml -f deploy/chaos.compose.yml)`,
      );
    await c.act(kind, service, action);
  }

  /** Sets one fault. Throws ChaosError (400 bad input, 404 target not running, 409 refused). */
  set(body: unknown): Promise<ActiveFault> {
    return this.serial(async () => {
      const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
      const { service: svcIn, ...specIn } = b;
      let spec: FaultSpec;
      try {
        spec = validateFaultSpec(specIn);
      } catch (e) {
        throw new ChaosError(400, (e as Error).message);
      }
      const info = requireFaultKind(spec.kind);
      if (svcIn !== undefined && (typeof svcIn !== "string" || !/^[a-z][a-z0-9-]{0,63}$/.test(svcIn)))
        throw new ChaosError(400, "service: expected a service name");
      const service = (svcIn as string | undefined) ?? info.defaultService;
      if (service === undefined)
        throw new ChaosError(400, `${spec.kind}: name the service it is aimed at (service)`);
      if (info.plane === "domain" && spec.domain === undefined)
        throw new ChaosError(400, `${spec.kind}: name the domain (domain: its id)`);
      const f: ActiveFault = { id: this.nextId++, kind: spec.kind, service, spec, setAt: this.now() };
      try {
        switch (info.plane) {
          case "point":
            await this.point(service, { op: "set", spec });
            break;
          case "bus":
            this.active.set(f.id, f);
            try {
              await this.applyBus(service);
            } catch (e) {
              this.active.delete(f.id);
              throw e;
            }
            break;
          case "host":
            if (spec.kind === "service.paused") await this.host(service, { op: "pause", service });
            else {
              const op = spec.kind === "service.killed" ? "kill" : "restart";
              await this.host(service, { op, service }, 30_000);
              await this.reapply(service);
            }
            break;
          case "link": {
            this.linkUsed = true;
            f.hosts = await this.linkHosts(spec.host);
            this.active.set(f.id, f);
            if (spec.kind === "link.partition")
              for (const host of f.hosts) this.partitions.push({ id: f.id, host, from: this.now() });
            try {
              for (const h of f.hosts) await this.applyLink(h);
            } catch (e) {
              this.active.delete(f.id);
              for (const h of f.hosts) await this.applyLink(h).catch(() => {});
              throw e;
            }
            break;
          }
          case "container":
            await this.container(spec.kind, service, "set");
            break;
          case "domain": {
            const rc = await this.options.pauseDomain(spec.domain as number);
            if (rc !== 0) throw new ChaosError(409, `pausing domain ${spec.domain}: rc ${rc}`);
            break;
          }
        }
      } catch (e) {
        this.record("set", f, false, (e as Error).message);
        throw e;
      }
      if (!info.oneShot) this.active.set(f.id, f);
      this.record("set", f, true);
      return f;
    });
  }

  /** Heals one fault (by id), every fault of a kind, or every fault. Returns those healed. */
  heal(sel: { id?: number; kind?: string } = {}): Promise<ActiveFault[]> {
    return this.serial(async () => {
      const chosen = [...this.active.values()].filter(
        (f) => (sel.id === undefined || f.id === sel.id) && (sel.kind === undefined || f.kind === sel.kind),
      );
      if (sel.id !== undefined && chosen.length === 0) throw new ChaosError(404, `no active fault ${sel.id}`);
      const healed: ActiveFault[] = [];
      for (const f of chosen) {
        this.active.delete(f.id);
        let error: string | undefined;
        try {
          const plane = requireFaultKind(f.kind).plane;
          if (plane === "point") {
            // another active fault of the same kind on the same service keeps the point set
            const again = [...this.active.values()].find((x) => x.kind === f.kind && x.service === f.service);
            if (again) await this.point(f.service, { op: "set", spec: again.spec });
            else await this.point(f.service, { op: "heal", kind: f.kind });
          } else if (plane === "bus") await this.applyBus(f.service);
          else if (plane === "link") {
            for (const h of f.hosts ?? []) await this.applyLink(h);
            for (const w of this.partitions) if (w.id === f.id) w.to ??= this.now();
          } else if (plane === "host") await this.host(f.service, { op: "resume", service: f.service });
          else if (plane === "container") await this.container(f.kind, f.service, "heal");
          else if (plane === "domain") {
            const rc = await this.options.unpauseDomain(f.spec.domain as number);
            if (rc !== 0) error = `unpausing domain ${f.spec.domain}: rc ${rc}`;
          }
        } catch (e) {
          error = (e as Error).message;
        }
        this.record("heal", f, error === undefined, error);
        healed.push(f);
      }
      return healed;
    });
  }

  /** start / take / stop a service's observer (xenstored's "xenstore-history", the hypervisor's "domain-leaks"). */
  async observe(service: string, name: string, action: "start" | "take" | "stop"): Promise<unknown> {
    return (await this.point(service, { op: "observe", name, action })).observation;
  }

  /** Faults injected so far by every service's fault points (from each service's record). */
  async records(services: string[], sinceAt?: number): Promise<FaultHit[]> {
    // every service at once: one round trip, not one per service
    const replies = await Promise.all(
      services.map(
        (s) =>
          this.request<ChaosReply>(
            CHAOS_SUBJECTS.service(s),
            { op: "records", ...(sinceAt !== undefined ? { sinceAt } : {}) },
            2000,
          ).catch(() => undefined), // a service that is gone has no records to give
      ),
    );
    const out: FaultHit[] = await this.linkRecords(sinceAt);
    out.push(...(this.options.containers?.records?.(sinceAt) ?? []));
    for (const r of replies) if (r?.ok && r.records) out.push(...r.records);
    return out.sort((a, b) => a.at - b.at || a.service.localeCompare(b.service) || a.seq - b.seq);
  }
}

/** The chaos routes; `paths` describes them for /openapi.json. */
export function registerChaosRoutes(app: FastifyInstance, coordinator: ChaosCoordinator): void {
  const fail = (reply: { code(status: number): { send(body: unknown): unknown } }, err: unknown) =>
    reply.code(err instanceof ChaosError ? err.status : 500).send({
      error: err instanceof Error ? err.message : String(err),
      ...(err instanceof ChaosError ? { code: err.code } : {}),
    });
  app.get("/chaos/kinds", async () => ({ kinds: FAULT_KINDS }));
  app.get("/chaos/faults", async () => ({ faults: coordinator.list() }));
  app.post<{ Body: unknown }>("/chaos/faults", async (req, reply) => {
    try {
      return await coordinator.set(req.body);
    } catch (e) {
      return fail(reply, e);
    }
  });
  app.delete<{ Querystring: { id?: string; kind?: string } }>("/chaos/faults", async (req, reply) => {
    const q = req.query;
    if (q.id !== undefined && !/^\d{1,9}$/.test(q.id))
      return reply.code(400).send({ error: "id: expected a fault id" });
    if (q.kind !== undefined) {
      try {
        requireFaultKind(q.kind);
      } catch (e) {
        return reply.code(400).send({ error: (e as Error).message });
      }
    }
    try {
      const healed = await coordinator.heal({
        ...(q.id !== undefined ? { id: Number(q.id) } : {}),
        ...(q.kind !== undefined ? { kind: q.kind } : {}),
      });
      return { healed };
    } catch (e) {
      return fail(reply, e);
    }
  });
  app.get("/chaos/timeline", async () => ({ timeline: coordinator.timeline }));
  app.get("/chaos/hosts", async () => ({ hosts: await coordinator.hosts() }));
  app.get<{ Querystring: { services?: string; since?: string } }>("/chaos/records", async (req, reply) => {
    const since = req.query.since;
    if (since !== undefined && !/^\d{1,15}$/.test(since))
      return reply.code(400).send({ error: "since: expected a wall-clock time in ms" });
    // the services named, or every service a host process lists (which takes a moment to ask)
    const services = req.query.services
      ? req.query.services.split(",").filter((s) => /^[a-z][a-z0-9-]{0,63}$/.test(s))
      : [...new Set((await coordinator.hosts()).flatMap((h) => h.services?.map((s) => s.name) ?? []))];
    return { records: await coordinator.records(services, since !== undefined ? Number(since) : undefined) };
  });
}

const obj = (properties: Record<string, unknown>) => ({ type: "object", properties });
const jsonBody = (schema: object) => ({ content: { "application/json": { schema } } });
const errorResp = (description: string) => ({ description, ...jsonBody(obj({ error: { type: "string" } })) });

/** OpenAPI paths of the chaos routes. */
export const CHAOS_OPENAPI_PATHS = {
  "/chaos/kinds": {
    get: {
      summary: "The fault kinds: name, plane (point, bus, host, domain), default service, parameters",
      responses: {
        "200": {
          description: "kinds",
          ...jsonBody(obj({ kinds: { type: "array", items: { type: "object" } } })),
        },
      },
    },
  },
  "/chaos/faults": {
    get: {
      summary: "Active faults (set and not healed)",
      responses: {
        "200": {
          description: "faults",
          ...jsonBody(obj({ faults: { type: "array", items: { type: "object" } } })),
        },
      },
    },
    post: {
      summary:
        "Set a fault: {kind, service?, probability?, seed?, count?, delayMs?, code?, periodMs?, subject?, method?, domain?}",
      requestBody: {
        required: true,
        ...jsonBody({
          type: "object",
          required: ["kind"],
          properties: {
            kind: { type: "string", enum: FAULT_KINDS.map((k) => k.kind) },
            service: { type: "string" },
            probability: { type: "number", minimum: 0, maximum: 1 },
            seed: { type: "integer" },
            count: { type: "integer" },
            delayMs: { oneOf: [{ type: "integer" }, { type: "array", items: { type: "integer" } }] },
            code: { oneOf: [{ type: "integer" }, { type: "string" }] },
            periodMs: { type: "integer" },
            subject: { type: "string" },
            method: { type: "string" },
            domain: { type: "integer" },
          },
        }),
      },
      responses: {
        "200": {
          description: "the fault as set (id, kind, service, spec, setAt)",
          ...jsonBody({ type: "object" }),
        },
        "400": errorResp("bad fault (an unknown kind lists the known ones)"),
        "404": errorResp("the service it is aimed at is not running"),
        "409": errorResp("the target refused"),
      },
    },
    delete: {
      summary: "Heal: one fault (?id=), every fault of a kind (?kind=), or every fault",
      parameters: [
        { name: "id", in: "query", required: false, schema: { type: "integer" } },
        { name: "kind", in: "query", required: false, schema: { type: "string" } },
      ],
      responses: {
        "200": {
          description: "healed",
          ...jsonBody(obj({ healed: { type: "array", items: { type: "object" } } })),
        },
        "400": errorResp("bad selector"),
        "404": errorResp("no such active fault"),
      },
    },
  },
  "/chaos/timeline": {
    get: {
      summary: "Every set and heal with its wall-clock time, in the order they took effect",
      responses: {
        "200": {
          description: "timeline",
          ...jsonBody(obj({ timeline: { type: "array", items: { type: "object" } } })),
        },
      },
    },
  },
  "/chaos/hosts": {
    get: {
      summary: "Host processes on the chaos plane and their services (state, paused)",
      responses: {
        "200": {
          description: "hosts",
          ...jsonBody(obj({ hosts: { type: "array", items: { type: "object" } } })),
        },
      },
    },
  },
  "/chaos/records": {
    get: {
      summary: "Faults the services' fault points injected, with timestamps (?services=a,b, ?since=ms)",
      parameters: [
        { name: "services", in: "query", required: false, schema: { type: "string" } },
        { name: "since", in: "query", required: false, schema: { type: "integer" } },
      ],
      responses: {
        "200": {
          description: "records",
          ...jsonBody(obj({ records: { type: "array", items: { type: "object" } } })),
        },
      },
    },
  },
} as const;
