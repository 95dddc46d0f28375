// Protocol traces over the toolstack's API: GET /trace streams JSON lines (what `xensim trace`
// reads), GET /dashboard/api/trace the same as server-sent events (the dashboard's trace panel).
// One hub per API: while anyone listens it keeps every service's trace switch on (a TraceControl on
// the bus, renewed before its lease runs out, with the union of the listeners' kinds and domains),
// gathers the services' event batches from every host process on the bus, orders them by the
// monotonic clock and hands each listener what its filter asks for. With no listener nothing runs
// and every service's hooks are off.
import type { EventBus, Subscription } from "@xensim/bus";
import { monotonicNs } from "@xensim/runtime";
import { TRACE_SUBJECTS } from "@xensim/subjects";
import {
  parseTraceKinds,
  type TraceControl,
  type TraceEvent,
  traceKindNames,
  traceMatches,
  TraceOrderBuffer,
} from "@xensim/trace";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface TraceListener {
  mask: number;
  /** undefined: every domain. */
  domains: ReadonlySet<number> | undefined;
  send(events: TraceEvent[]): void;
  /** Events the services could not buffer (they were emitted faster than sent). */
  lost?(count: number): void;
}

export interface TraceHubOptions {
  /** The services' switch turns off this long after the last renewal, ms (default 5000). */
  leaseMs?: number;
  /** How long events are held for ordering, ms (default 400). */
  orderWindowMs?: number;
}

export class TraceHub {
  private readonly listeners = new Set<TraceListener>();
  private sub: Subscription | undefined;
  private renew: ReturnType<typeof setInterval> | undefined;
  private tick: ReturnType<typeof setInterval> | undefined;
  private order: TraceOrderBuffer;
  private readonly leaseMs: number;
  private readonly windowNs: number;

  constructor(
    private readonly bus: EventBus,
    opts: TraceHubOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 5000;
    this.windowNs = (opts.orderWindowMs ?? 400) * 1e6;
    this.order = new TraceOrderBuffer({ windowNs: this.windowNs });
  }

  get listening(): number {
    return this.listeners.size;
  }

  /** Adds a listener; resolves once every service on the bus has been asked to trace for it. */
  async add(l: TraceListener): Promise<() => void> {
    this.listeners.add(l);
    if (!this.sub) {
      this.order = new TraceOrderBuffer({ windowNs: this.windowNs });
      this.sub = this.bus.subscribe(TRACE_SUBJECTS.eventsAll, { callback: (m) => this.batch(m.data) });
      this.renew = setInterval(() => this.control(), Math.max(200, this.leaseMs / 3));
      this.tick = setInterval(() => this.dispatch(this.order.tick(monotonicNs())), 50);
    }
    this.control();
    await this.bus.flush();
    return () => this.remove(l);
  }

  close(): void {
    for (const l of [...this.listeners]) this.remove(l);
  }

  private remove(l: TraceListener): void {
    if (!this.listeners.delete(l)) return;
    if (this.listeners.size > 0) {
      this.control();
      return;
    }
    clearInterval(this.renew);
    clearInterval(this.tick);
    this.renew = this.tick = undefined;
    this.sub?.unsubscribe();
    this.sub = undefined;
    this.control();
  }

  /** Tells every service what to trace now: the union of the listeners' filters, or nothing. */
  private control(): void {
    let mask = 0;
    let domains: Set<number> | undefined = new Set();
    for (const l of this.listeners) {
      mask |= l.mask;
      if (!l.domains) domains = undefined;
      else if (domains) for (const d of l.domains) domains.add(d);
    }
    const c: TraceControl = { mask, leaseMs: this.leaseMs, ...(domains ? { domains: [...domains] } : {}) };
    if (this.bus.closed) return;
    try {
      this.bus.publish(TRACE_SUBJECTS.control, enc.encode(JSON.stringify(c)));
    } catch {
      // the bus is closing
    }
  }

  private batch(data: Uint8Array): void {
    let body: { events?: unknown; dropped?: unknown };
    try {
      body = JSON.parse(dec.decode(data)) as typeof body;
    } catch {
      return;
    }
    if (typeof body.dropped === "number" && body.dropped > 0)
      for (const l of this.listeners) l.lost?.(body.dropped);
    if (!Array.isArray(body.events)) return;
    const events = (body.events as TraceEvent[]).filter(
      (e) => e !== null && typeof e === "object" && typeof e.t === "number" && typeof e.kind === "string",
    );
    this.dispatch(this.order.add(events));
  }

  private dispatch(events: TraceEvent[]): void {
    if (events.length === 0) return;
    for (const l of this.listeners) {
      const mine = events.filter((e) => traceMatches(e, l.mask, l.domains));
      if (mine.length > 0) l.send(mine);
    }
  }
}

/** A listener's filter from the query (?kind=ring,evtchn&domain=1,2); a 400 reply when invalid. */
export function traceFilter(
  q: { kind?: string; domain?: string },
  reply: FastifyReply,
): { mask: number; domains: Set<number> | undefined } | undefined {
  let mask: number;
  try {
    mask = parseTraceKinds(q.kind);
  } catch (e) {
    void reply.code(400).send({ error: (e as Error).message });
    return undefined;
  }
  let domains: Set<number> | undefined;
  if (q.domain !== undefined && q.domain !== "") {
    domains = new Set();
    for (const d of q.domain.split(",")) {
      if (!/^\d{1,5}$/.test(d.trim())) {
        void reply
          .code(400)
          .send({ error: `domain '${d}' is not a domain id (a number; xl resolves names)` });
        return undefined;
      }
      domains.add(Number(d.trim()));
    }
  }
  return { mask, domains };
}

/** Most bytes a slow client may have waiting before its events are dropped (and counted). */
const MAX_BACKLOG = 8 << 20;

/** GET /trace (JSON lines) and GET /dashboard/api/trace (server-sent events). */
export function registerTraceRoutes(app: FastifyInstance, hub: TraceHub): void {
  type Q = { Querystring: { kind?: string; domain?: string } };
  const stream = async (
    req: FastifyRequest<Q>,
    reply: FastifyReply,
    format: "ndjson" | "sse",
  ): Promise<FastifyReply | undefined> => {
    const f = traceFilter(req.query, reply);
    if (!f) return reply;
    reply.hijack();
    const res = reply.raw;
    let dropped = 0;
    const write = (chunk: string) => {
      if (res.writableEnded || res.destroyed) return;
      res.write(chunk);
    };
    const lines = (events: unknown[]) =>
      format === "sse"
        ? `event: trace\ndata: ${JSON.stringify(events)}\n\n`
        : events.map((e) => `${JSON.stringify(e)}\n`).join("");
    const listener: TraceListener = {
      ...f,
      send: (events) => {
        if (res.writableLength > MAX_BACKLOG) {
          dropped += events.length;
          return;
        }
        if (dropped > 0) {
          write(lines([{ dropped }]));
          dropped = 0;
        }
        write(lines(events));
      },
      lost: (count) => {
        dropped += count;
      },
    };
    const remove = await hub.add(listener);
    res.writeHead(200, {
      "content-type":
        format === "sse" ? "text/event-stream; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "cache-control": "no-store",
      "x-xensim-trace-kinds": traceKindNames(f.mask).join(","),
      ...(f.domains ? { "x-xensim-trace-domains": [...f.domains].join(",") } : {}),
    });
    // The first bytes tell the client the switch is on (the services were asked before this).
    write(
      format === "sse" ? `event: ready\ndata: ${JSON.stringify({ kinds: traceKindNames(f.mask) })}\n\n` : "",
    );
    if (format === "ndjson") res.flushHeaders();
    const keepAlive = setInterval(() => write(format === "sse" ? ": keep-alive\n\n" : ""), 15_000);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(keepAlive);
      remove();
      if (!res.writableEnded) res.end();
    };
    req.raw.on("close", end);
    res.on("close", end);
    return undefined;
  };
  app.get<Q>("/trace", (req, reply) => stream(req, reply, "ndjson"));
  app.get<Q>("/dashboard/api/trace", (req, reply) => stream(req, reply, "sse"));
}
