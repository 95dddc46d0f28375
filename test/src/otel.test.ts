// OpenTelemetry spans of an `xl create`: `xensim up --otlp-endpoint` against a small OTLP/HTTP
// receiver (a fastify route decoding the JSON export), then the span tree checked — the API request,
// the create flow and its steps, the hypervisor call on both sides (client span in the toolstack,
// server span in the hypervisor, linked through the call metadata), and xenstored's transaction of
// the xenstore skeleton under that step.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tempDir, waitFor } from "@xensim/testkit";
import Fastify, { type FastifyInstance } from "fastify";
import { spawnXensim, XENSIM_BIN, type XensimProcess } from "./harness.js";

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
}
interface OtlpExport {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: OtlpValue }> };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}
/** A received span with the service that exported it. */
type Received = OtlpSpan & { service: string };

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

/** The OTLP/HTTP receiver: POST /v1/traces with the JSON encoding; anything else is refused. */
async function startReceiver(): Promise<{ app: FastifyInstance; url: string; spans: Received[] }> {
  const spans: Received[] = [];
  const app = Fastify({ logger: false, bodyLimit: 16 << 20 });
  app.addContentTypeParser("application/x-protobuf", (_req, _body, done) =>
    done(Object.assign(new Error("this receiver decodes the JSON encoding only"), { statusCode: 415 })),
  );
  app.post<{ Body: OtlpExport }>("/v1/traces", async (req) => {
    for (const rs of req.body.resourceSpans ?? []) {
      const service =
        rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "unknown";
      for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, service });
    }
    return { partialSuccess: {} };
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, url, spans };
}

describe("OpenTelemetry spans of xl create, exported over OTLP/HTTP", () => {
  const dir = tempDir("xensim-otel-");
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let up: XensimProcess | undefined;
  const stateDir = join(dir.path, "state");

  before(async () => {
    receiver = await startReceiver();
    const examples = join(dir.path, "examples");
    mkdirSync(examples);
    up = spawnXensim([
      "up",
      "--state-dir",
      stateDir,
      "--api-port",
      "0",
      "--examples",
      examples,
      "--otlp-endpoint",
      receiver.url,
    ]);
    await waitFor(() => /toolstack: http/.test(up!.output()), {
      timeoutMs: 150_000,
      message: () => `xensim up: ${up?.output()}`,
    });
  });
  after(async () => {
    await up?.stop();
    await receiver?.app.close();
    dir.cleanup();
  });

  it("the API request, the create flow and its steps, the hypervisor call on both sides, the xenstore transaction", async () => {
    const cfg = join(dir.path, "otel.cfg");
    writeFileSync(cfg, ['name = "otel"', "memory = 32", ""].join("\n"));
    const create = spawnSync(process.execPath, [XENSIM_BIN, "xl", "--state-dir", stateDir, "create", cfg], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(create.status, 0, create.stderr);

    const spans = receiver.spans;
    const find = (pred: (s: Received) => boolean) => spans.find(pred);
    await waitFor(
      () =>
        find((s) => s.name === "POST /domains") !== undefined &&
        find((s) => s.service === "hypervisor" && /DomainCreate$/.test(s.name)) !== undefined &&
        find((s) => s.name === "xenstore transaction") !== undefined,
      {
        timeoutMs: 30_000,
        message: `spans: ${[...new Set(spans.map((s) => `${s.service} ${s.name}`))].join(", ")}`,
      },
    );
    // the batch processors send every 0.5 s: give the last spans of the flow time to arrive
    await waitFor(() => find((s) => s.name === "flow create") !== undefined, { timeoutMs: 10_000 });
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parent = (s: Received) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);

    const request = find((s) => s.name === "POST /domains")!;
    assert.equal(request.service, "toolstack");
    assert.equal(request.kind, SPAN_KIND_SERVER);
    const flow = find((s) => s.name === "flow create")!;
    assert.equal(parent(flow)?.spanId, request.spanId, "the flow runs in the request");
    assert.equal(flow.traceId, request.traceId);
    const steps = spans.filter((s) => s.parentSpanId === flow.spanId).map((s) => s.name);
    for (const step of ["validate", "domain-create", "xenstore-skeleton", "introduce", "unpause"])
      assert.ok(steps.includes(`create: ${step}`), `step ${step} under the flow: ${steps.join(", ")}`);

    // DomainCreate: a client span in the toolstack under its step, the server span in the hypervisor under that
    const step = find((s) => s.name === "create: domain-create" && s.parentSpanId === flow.spanId)!;
    const client = find(
      (s) => s.kind === SPAN_KIND_CLIENT && /DomainCreate$/.test(s.name) && s.parentSpanId === step.spanId,
    );
    assert.ok(client, "the DomainCreate call from the domain-create step");
    assert.equal(client.service, "toolstack");
    const server = find(
      (s) => s.kind === SPAN_KIND_SERVER && /DomainCreate$/.test(s.name) && s.parentSpanId === client.spanId,
    );
    assert.ok(server, "the hypervisor's side of the call, its caller's child");
    assert.equal(server.service, "hypervisor");
    assert.equal(server.traceId, request.traceId);

    // the skeleton's xenstore transaction in xenstored, under the xenstore-skeleton step
    const skeleton = find((s) => s.name === "create: xenstore-skeleton" && s.parentSpanId === flow.spanId)!;
    const tx = spans.find((s) => {
      if (s.name !== "xenstore transaction" || s.traceId !== request.traceId) return false;
      for (let p = parent(s); p; p = parent(p)) if (p.spanId === skeleton.spanId) return true;
      return false;
    });
    assert.ok(tx, "a xenstore transaction under the xenstore-skeleton step");
    assert.equal(tx.service, "xenstored");
    const outcome = tx.attributes?.find((a) => a.key === "xenstore.outcome")?.value.stringValue;
    assert.equal(outcome, "committed");
    // the chain between: xenstored's server span of the call that started it, the toolstack's client span
    const txServer = parent(tx)!;
    assert.equal(txServer.kind, SPAN_KIND_SERVER);
    assert.equal(txServer.service, "xenstored");
    assert.equal(parent(txServer)?.kind, SPAN_KIND_CLIENT);
    assert.equal(parent(txServer)?.service, "toolstack");
  });
});
