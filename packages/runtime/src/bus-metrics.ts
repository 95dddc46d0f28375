// Every service's Prometheus registry, readable over the event bus: a request on
// METRICS_SUBJECTS.scrape is answered by each service with its metrics as JSON. This reaches every
// service of every host process on the bus (in-process or NATS) without knowing their HTTP ports;
// it costs nothing while nobody asks.
import type { EventBus } from "@xensim/bus";
import { METRICS_SUBJECTS } from "@xensim/subjects";
import type { MetricObjectWithValues, MetricValue, Registry } from "prom-client";

/** One service's answer. */
export interface ServiceMetrics {
  svc: string;
  host: string;
  metrics: Array<MetricObjectWithValues<MetricValue<string>>>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Answers scrape requests with `registry`'s metrics. Returns the stopper. */
export function serveBusMetrics(
  bus: EventBus,
  svc: string,
  host: string,
  registry: Registry,
): { stop(): void } {
  const sub = bus.subscribe(METRICS_SUBJECTS.scrape, {
    callback: (m) => {
      const reply = m.reply;
      if (!reply) return;
      void registry.getMetricsAsJSON().then(
        (metrics) => {
          if (bus.closed) return;
          const answer: ServiceMetrics = { svc, host, metrics };
          bus.publish(reply, enc.encode(JSON.stringify(answer)));
        },
        () => {},
      );
    },
  });
  return { stop: () => sub.unsubscribe() };
}

let scrapeCounter = 0;

/** Asks every service on the bus for its metrics; gathers the answers that arrive within `waitMs`. */
export async function collectBusMetrics(
  bus: EventBus,
  opts: { waitMs?: number } = {},
): Promise<ServiceMetrics[]> {
  const inbox = METRICS_SUBJECTS.inbox(`${process.pid}.${Date.now()}.${++scrapeCounter}`);
  const out: ServiceMetrics[] = [];
  const sub = bus.subscribe(inbox, {
    callback: (m) => {
      try {
        out.push(JSON.parse(dec.decode(m.data)) as ServiceMetrics);
      } catch {
        // not an answer
      }
    },
  });
  try {
    await bus.flush();
    bus.publish(METRICS_SUBJECTS.scrape, new Uint8Array(0), { reply: inbox });
    await new Promise((r) => setTimeout(r, opts.waitMs ?? 250));
  } finally {
    sub.unsubscribe();
  }
  return out;
}
