import assert from "node:assert/strict";
import { test } from "node:test";
import { Counter, Registry } from "prom-client";
import { buildHttpApp, type HealthReport } from "./http.js";

test("GET /healthz: 200 when ok or degraded, 503 when down or when health throws", async () => {
  let report: HealthReport = { status: "ok", checks: { store: { ok: true } } };
  let throws = false;
  const app = buildHttpApp({
    health: () => {
      if (throws) throw new Error("broken");
      return report;
    },
    registry: new Registry(),
  });
  let r = await app.inject({ method: "GET", url: "/healthz" });
  assert.equal(r.statusCode, 200);
  assert.deepEqual(r.json(), report);
  report = { status: "degraded" };
  assert.equal((await app.inject({ url: "/healthz" })).statusCode, 200);
  report = { status: "down", checks: { store: { ok: false, detail: "journal" } } };
  r = await app.inject({ url: "/healthz" });
  assert.equal(r.statusCode, 503);
  assert.equal(r.json().checks.store.detail, "journal");
  throws = true;
  r = await app.inject({ url: "/healthz" });
  assert.equal(r.statusCode, 503);
  assert.equal(r.json().error, "broken");
  await app.close();
});

test("GET /metrics: Prometheus text from the registry", async () => {
  const registry = new Registry();
  registry.setDefaultLabels({ svc: "t" });
  const c = new Counter({ name: "xs_requests_total", help: "requests", registers: [registry] });
  c.inc(3);
  const app = buildHttpApp({ health: () => ({ status: "ok" }), registry });
  const r = await app.inject({ url: "/metrics" });
  assert.equal(r.statusCode, 200);
  assert.match(r.headers["content-type"] as string, /text\/plain/);
  assert.match(r.body, /# TYPE xs_requests_total counter/);
  assert.match(r.body, /xs_requests_total\{svc="t"\} 3/);
  await app.close();
});
