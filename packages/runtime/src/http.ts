import Fastify, { type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";

export interface HealthReport {
  /** "down" answers 503; "ok" and "degraded" answer 200. */
  status: "ok" | "degraded" | "down";
  checks?: Record<string, { ok: boolean; detail?: string }>;
  [k: string]: unknown;
}

export interface HttpAppOptions {
  health: () => HealthReport | Promise<HealthReport>;
  /** Metrics from a prom-client registry... */
  registry?: Registry;
  /** ...or from a function (e.g. a host aggregating its workers). */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

/** The service's HTTP surface: GET /healthz (200/503 JSON) and GET /metrics (Prometheus text). */
export function buildHttpApp(opts: HttpAppOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get("/healthz", async (_req, reply) => {
    let report: HealthReport;
    try {
      report = await opts.health();
    } catch (err) {
      report = { status: "down", error: err instanceof Error ? err.message : String(err) };
    }
    return reply.code(report.status === "down" ? 503 : 200).send(report);
  });
  app.get("/metrics", async (_req, reply) => {
    if (opts.metrics) {
      const m = await opts.metrics();
      return reply.type(m.contentType).send(m.body);
    }
    if (!opts.registry) return reply.code(404).send({ error: "no metrics" });
    return reply.type(opts.registry.contentType).send(await opts.registry.metrics());
  });
  return app;
}
