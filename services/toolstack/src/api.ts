// xl over HTTP: the routes, their error mapping, and the OpenAPI 3 document that describes them.
import { FlowError, type Toolstack, ToolstackError } from "@xensim/toolstack";
import { formatXlCfgError, type ParseOptions, parseDiskSpec, parseXlCfg } from "@xensim/xlcfg";
import {
  type CallClient,
  collectFaultStatus,
  type EventBus,
  type FaultControlReply,
  validateFaultRules,
} from "@xensim/bus";
import { FAULT_SUBJECTS } from "@xensim/subjects";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { addDeviceModelRoutes, DEVICE_MODEL_PATHS } from "./api-device-model.js";
import { type ApiAuth, requireApiToken } from "./api-auth.js";
import { CHAOS_OPENAPI_PATHS, type ChaosCoordinator, registerChaosRoutes } from "./chaos.js";
import { registerToxiproxyRoutes, TOXIPROXY_OPENAPI_PATHS } from "./toxiproxy.js";
import { CHAOS_AUDIT_OPENAPI_PATHS, registerChaosAuditRoutes } from "./chaos-audit.js";
import { type DashboardOptions, registerDashboard } from "./dashboard.js";
import { registerDisplayRoutes } from "./display.js";
import { registerTraceRoutes, TraceHub } from "./trace.js";

export interface ApiOptions {
  toolstack: Toolstack;
  /** How configs are checked (host memory limit, store spec check). */
  parse: Omit<ParseOptions, "file">;
  maxConfigBytes: number;
  /** The API token every request must carry (the whole app, dashboard included); absent = none. */
  auth?: ApiAuth;
  /**
   * The host's bus and dom0's clients: the fault routes (/faults) and the dashboard (/dashboard/).
   * Absent: neither is served.
   */
  live?: Omit<DashboardOptions, "toolstack">;
  /** The one fault API (/chaos/…): absent = not served. */
  chaos?: ChaosCoordinator;
  /** The display backend's Display service (/display, the frames); absent: those routes answer 503. */
  display?: CallClient;
  /**
   * Runs each write request (POST, DELETE: the flows) in a server span whose parent is the request's
   * W3C trace context (OpenTelemetry); absent = none.
   */
  serverSpan?: <T>(
    name: string,
    headers: Record<string, unknown>,
    attributes: Record<string, string | number>,
    fn: () => Promise<T>,
  ) => Promise<T>;
}

const STATUS: Record<ToolstackError["code"], number> = {
  EINVAL: 400,
  ENOENT: 404,
  EEXIST: 409,
  ENOMEM: 507,
  ETIMEDOUT: 504,
  EIO: 500,
  EBUSY: 409,
  EOPNOTSUPP: 409,
};

function send(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof FlowError) {
    const code = err.cause instanceof ToolstackError ? STATUS[err.cause.code] : 500;
    return reply.code(code).send({ error: err.message, flow: err.flow, step: err.step, steps: err.records });
  }
  if (err instanceof ToolstackError)
    return reply.code(STATUS[err.code]).send({ error: err.message, code: err.code });
  return reply.code(500).send({ error: err instanceof Error ? err.message : String(err) });
}

function domid(raw: string, reply: FastifyReply): number | undefined {
  if (!/^\d{1,5}$/.test(raw)) {
    void reply.code(400).send({ error: `domain id '${raw}' is not a number` });
    return undefined;
  }
  return Number(raw);
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { "application/json": { schema } } });
const err = (description: string) => ({ description, ...json(ref("Error")) });
const shutdownParams = [
  { name: "timeoutMs", in: "query", required: false, schema: { type: "integer", minimum: 0 } },
  { name: "force", in: "query", required: false, schema: { type: "string", enum: ["0", "1"] } },
];
const idParam = { name: "id", in: "path", required: true, schema: { type: "integer", minimum: 0 } };

/** The OpenAPI 3 document (hand-written; a test checks every route is described). */
export const OPENAPI = {
  openapi: "3.0.3",
  info: {
    title: "xensim toolstack",
    version: "0.1.0",
    description: "xl over HTTP: domains from xl.cfg files, on_* actions, block hotplug.",
  },
  paths: {
    ...DEVICE_MODEL_PATHS,
    ...CHAOS_OPENAPI_PATHS,
    ...CHAOS_AUDIT_OPENAPI_PATHS,
    ...TOXIPROXY_OPENAPI_PATHS,
    "/openapi.json": {
      get: { summary: "This document", responses: { "200": { description: "OpenAPI 3" } } },
    },
    "/recovery": {
      get: {
        summary:
          "What this toolstack found when it started: domains re-adopted (still running) and domains a restart lost, cleaned away",
        responses: {
          "200": json({
            type: "object",
            properties: {
              adopted: { type: "array", items: { type: "integer" } },
              cleaned: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    domid: { type: "integer" },
                    name: { type: "string" },
                    outcome: { type: "string", enum: ["cleaned", "failed"] },
                    error: { type: "string" },
                  },
                },
              },
            },
          }),
        },
      },
    },
    "/domains": {
      get: {
        summary: "xl list",
        responses: {
          "200": json({ type: "object", properties: { domains: { type: "array", items: ref("Domain") } } }),
        },
      },
      post: {
        summary: "xl create: an xl.cfg file (JSON {config, filename?} or text/plain with ?filename=)",
        parameters: [
          { name: "filename", in: "query", required: false, schema: { type: "string" } },
          {
            name: "dryRun",
            in: "query",
            required: false,
            description: "1 = only parse and check the config (xl create -n)",
            schema: { type: "string", enum: ["0", "1"] },
          },
        ],
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["config"],
                properties: { config: { type: "string" }, filename: { type: "string" } },
              },
            },
            "text/plain": { schema: { type: "string" } },
          },
        },
        responses: {
          "200": {
            description: "dryRun=1: the parsed config",
            ...json({ type: "object", properties: { config: { type: "object" } } }),
          },
          "201": {
            description: "created and unpaused",
            ...json({
              type: "object",
              properties: {
                domid: { type: "integer" },
                uuid: { type: "string" },
                name: { type: "string" },
                steps: { type: "array", items: ref("Step") },
              },
            }),
          },
          "400": { description: "the config has errors (all of them)", ...json(ref("ConfigErrors")) },
          "409": err("a domain of that name exists"),
          "500": { description: "a step failed; everything was rolled back", ...json(ref("FlowFailure")) },
          "504": { description: "a wait timed out; everything was rolled back", ...json(ref("FlowFailure")) },
          "507": err("not enough host memory"),
        },
      },
    },
    "/domains/{id}": {
      get: {
        summary: "One domain",
        parameters: [idParam],
        responses: { "200": json(ref("Domain")), "404": err("no such domain") },
      },
      delete: {
        summary: "xl destroy",
        parameters: [idParam],
        responses: {
          "200": json({ type: "object", properties: { steps: { type: "array", items: ref("Step") } } }),
          "400": err("domain 0"),
          "404": err("no such domain"),
        },
      },
    },
    "/domains/{id}/pause": {
      post: {
        summary: "xl pause",
        parameters: [idParam],
        responses: { "204": { description: "paused" }, "404": err("no such domain") },
      },
    },
    "/domains/{id}/unpause": {
      post: {
        summary: "xl unpause",
        parameters: [idParam],
        responses: {
          "204": { description: "unpaused" },
          "400": err("not paused"),
          "404": err("no such domain"),
        },
      },
    },
    "/domains/{id}/shutdown": {
      post: {
        summary: "xl shutdown: control/shutdown = poweroff, then wait for the guest (?timeoutMs=)",
        parameters: [idParam, ...shutdownParams],
        responses: {
          "200": json(ref("ShutdownResult")),
          "404": err("no such domain"),
          "409": err("no PV control interface (force=1 writes the request anyway)"),
        },
      },
    },
    "/domains/{id}/reboot": {
      post: {
        summary: "xl reboot: control/shutdown = reboot, then wait for the guest (?timeoutMs=)",
        parameters: [idParam, ...shutdownParams],
        responses: {
          "200": json(ref("ShutdownResult")),
          "404": err("no such domain"),
          "409": err("no PV control interface (force=1 writes the request anyway)"),
        },
      },
    },
    "/domains/{id}/disks": {
      get: {
        summary: "xl block-list",
        parameters: [idParam],
        responses: {
          "200": json({ type: "object", properties: { disks: { type: "array", items: ref("Disk") } } }),
          "404": err("no such domain"),
        },
      },
      post: {
        summary: "xl block-attach: body {spec} in xl-disk-configuration syntax",
        parameters: [idParam],
        requestBody: {
          required: true,
          ...json({ type: "object", required: ["spec"], properties: { spec: { type: "string" } } }),
        },
        responses: {
          "201": json({
            type: "object",
            properties: {
              vdev: { type: "string" },
              devid: { type: "integer" },
              steps: { type: "array", items: ref("Step") },
            },
          }),
          "400": { description: "a bad disk spec", ...json(ref("ConfigErrors")) },
          "404": err("no such domain"),
          "409": err("the vdev is in use"),
          "500": { description: "the backend failed; rolled back", ...json(ref("FlowFailure")) },
        },
      },
    },
    "/domains/{id}/disks/{vdev}": {
      delete: {
        summary: "xl block-detach (?force=0: fail instead of forcing when the handshake times out)",
        parameters: [
          idParam,
          { name: "vdev", in: "path", required: true, schema: { type: "string" } },
          { name: "force", in: "query", required: false, schema: { type: "string", enum: ["0", "1"] } },
        ],
        responses: {
          "200": json({
            type: "object",
            properties: { handshake: { type: "boolean" }, frontendState: { type: "string" } },
          }),
          "404": err("no such disk"),
          "504": { description: "the closing handshake timed out (force=0)", ...json(ref("FlowFailure")) },
        },
      },
    },
    "/faults": {
      get: {
        summary: "Active faults: every service's fault rules now and its last fault records",
        responses: {
          "200": json({
            type: "object",
            properties: { services: { type: "array", items: ref("FaultStatus") } },
          }),
        },
      },
      post: {
        summary: "Set a service's fault rules (events, calls; seeded), as xensim.fault.set.<target>",
        requestBody: {
          required: true,
          ...json({
            type: "object",
            required: ["target", "rules"],
            properties: {
              target: { type: "string", description: "a service name, or all" },
              component: {
                type: "string",
                description: "bus, calls.server, calls.client.…; default every one",
              },
              rules: { type: "object", description: "FaultRules: {seed?, events?: [...], calls?: [...]}" },
            },
          }),
        },
        responses: {
          "200": json(ref("FaultReplies")),
          "400": err("bad rules or target"),
          "403": err("a cross-origin request"),
          "504": err("no service answered"),
        },
      },
      delete: {
        summary: "Heal: clear the fault rules of one service (?target=) or of every service",
        parameters: [
          { name: "target", in: "query", required: false, schema: { type: "string" } },
          { name: "component", in: "query", required: false, schema: { type: "string" } },
        ],
        responses: {
          "200": json(ref("FaultReplies")),
          "400": err("bad target"),
          "403": err("a cross-origin request"),
          "504": err("no service answered"),
        },
      },
    },
    "/dashboard": { get: { summary: "Redirect to /dashboard/", responses: { "302": { description: "" } } } },
    "/dashboard/": {
      get: { summary: "The dashboard page (HTML)", responses: { "200": { description: "" } } },
    },
    "/dashboard/assets/{name}": {
      get: {
        summary: "The page's scripts and styles (a fixed list; anything else 404)",
        parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
        responses: { "200": { description: "the asset" }, "404": err("no such asset") },
      },
    },
    "/dashboard/api/panels": {
      get: {
        summary: "Which per-domain panels (console, screen) this host has",
        responses: { "200": { description: "" } },
      },
    },
    "/dashboard/api/snapshot": {
      get: {
        summary: "Domains, their disks, guest statuses and the latest block-path figures",
        responses: { "200": { description: "" } },
      },
    },
    "/dashboard/api/xenstore": {
      get: {
        summary: "A xenstore subtree as dom0 reads it (?path=, at most 2000 nodes)",
        parameters: [{ name: "path", in: "query", required: false, schema: { type: "string" } }],
        responses: { "200": { description: "" }, "400": err("not a path"), "404": err("ENOENT") },
      },
    },
    "/dashboard/api/domains/{id}/evtchn": {
      get: {
        summary: "A domain's event channels (EVTCHNOP_status of each open port)",
        parameters: [idParam],
        responses: { "200": { description: "" }, "404": err("no such domain") },
      },
    },
    "/dashboard/api/domains/{id}/console": {
      get: {
        summary: "The domain's console output, when a device model serves it",
        parameters: [idParam],
        responses: { "200": { description: "text" }, "501": err("no console provider on this host") },
      },
    },
    "/dashboard/api/domains/{id}/screen": {
      get: {
        summary: "The domain's screen, when a display backend serves it",
        parameters: [idParam],
        responses: { "200": { description: "an image" }, "501": err("no screen provider on this host") },
      },
    },
    "/dashboard/api/events": {
      get: {
        summary:
          "Server-sent events: xenstore (watch on /), stats (per-disk figures, guests, faults) every second",
        responses: { "200": { description: "text/event-stream" } },
      },
    },
    "/dashboard/api/trace": {
      get: {
        summary: "Server-sent events: protocol trace events (event: trace, data: an array), as GET /trace",
        parameters: [
          { name: "kind", in: "query", required: false, schema: { type: "string" } },
          { name: "domain", in: "query", required: false, schema: { type: "string" } },
        ],
        responses: { "200": { description: "text/event-stream" }, "400": err("unknown kind or bad domain") },
      },
    },
    "/trace": {
      get: {
        summary:
          "Protocol trace as JSON lines while the client reads: xs messages, ring requests/responses, event channel sends, grant map/unmap/copy, block store I/O; ordered by the monotonic clock",
        parameters: [
          {
            name: "kind",
            in: "query",
            required: false,
            description: "comma-separated: xs, ring, evtchn, grant, store, ioreq, displif, all (default all)",
            schema: { type: "string" },
          },
          {
            name: "domain",
            in: "query",
            required: false,
            description: "comma-separated domain ids: events where the domain acts or is the other end",
            schema: { type: "string" },
          },
        ],
        responses: {
          "200": {
            description:
              "application/x-ndjson: one TraceEvent per line ({dropped: n} when a slow reader lost events)",
          },
          "400": err("unknown kind or bad domain"),
        },
      },
    },
    "/display": {
      get: {
        summary: "A page showing every connector's screen, updating live",
        responses: { "200": { description: "text/html" } },
      },
    },
    "/display/screens": {
      get: {
        summary: "The screens the display backend serves (?domid= for one domain's)",
        parameters: [
          { name: "domid", in: "query", required: false, schema: { type: "integer", minimum: 0 } },
        ],
        responses: {
          "200": { description: "{screens: [{domid, devid, connector, width, height, frames, frame}]}" },
          "502": err("the display backend did not answer"),
          "503": err("ENODEV: no displback configured"),
        },
      },
    },
    "/domains/{id}/vdispl/{devid}/{connector}/frame.png": {
      get: {
        summary: "A connector's latest scanout as PNG (xl screenshot)",
        parameters: [
          idParam,
          { name: "devid", in: "path", required: true, schema: { type: "integer", minimum: 0 } },
          { name: "connector", in: "path", required: true, schema: { type: "integer", minimum: 0 } },
        ],
        responses: {
          "200": { description: "image/png" },
          "400": err("EINVAL: domid, devid and connector are numbers"),
          "404": err("ENOENT: no such screen"),
          "502": err("the display backend did not answer"),
          "503": err("ENODEV: no displback configured"),
        },
      },
    },
    "/actions": {
      get: {
        summary: "What the on_* handling did (newest last)",
        responses: {
          "200": json({ type: "object", properties: { actions: { type: "array", items: ref("Action") } } }),
        },
      },
    },
  },
  components: {
    schemas: {
      Error: { type: "object", properties: { error: { type: "string" }, code: { type: "string" } } },
      Step: {
        type: "object",
        properties: {
          flow: { type: "string" },
          step: { type: "string" },
          domid: { type: "integer" },
          outcome: { type: "string", enum: ["ok", "failed", "undone", "undo-failed", "skipped"] },
          ms: { type: "number" },
          error: { type: "string" },
        },
      },
      FlowFailure: {
        type: "object",
        properties: {
          error: { type: "string" },
          flow: { type: "string" },
          step: { type: "string" },
          steps: { type: "array", items: { $ref: "#/components/schemas/Step" } },
        },
      },
      ConfigErrors: {
        type: "object",
        properties: {
          error: { type: "string" },
          errors: {
            type: "array",
            items: {
              type: "object",
              properties: {
                file: { type: "string" },
                line: { type: "integer" },
                column: { type: "integer" },
                message: { type: "string" },
                expected: { type: "string" },
              },
            },
          },
          messages: { type: "array", items: { type: "string" } },
        },
      },
      Domain: {
        type: "object",
        properties: {
          name: { type: "string" },
          id: { type: "integer" },
          memMib: { type: "integer" },
          vcpus: { type: "integer" },
          state: { type: "string", description: "xl list's r b p s c d letters, e.g. r-----" },
          time: { type: "number", description: "seconds since creation" },
          uuid: { type: "string" },
          type: { type: "string", enum: ["pv", "hvm"] },
          shutdownReason: { type: "string" },
        },
      },
      Disk: {
        type: "object",
        properties: {
          vdev: { type: "string" },
          devid: { type: "integer" },
          backendDomid: { type: "integer" },
          backendState: { type: "string" },
          frontendState: { type: "string" },
          params: { type: "string" },
          mode: { type: "string" },
          ringPages: { type: "integer" },
          queues: { type: "integer" },
          features: { type: "object", additionalProperties: { type: "string" } },
          sectors: { type: "integer" },
          nbdUri: { type: "string" },
        },
      },
      ShutdownResult: {
        type: "object",
        properties: { acted: { type: "boolean" }, state: { type: "string" } },
      },
      FaultStatus: {
        type: "object",
        properties: {
          target: { type: "string" },
          components: { type: "object", additionalProperties: { type: "object" } },
        },
      },
      FaultReplies: {
        type: "object",
        properties: {
          replies: {
            type: "array",
            items: {
              type: "object",
              properties: {
                ok: { type: "boolean" },
                error: { type: "string" },
                components: { type: "array", items: { type: "string" } },
              },
            },
          },
        },
      },
      Action: {
        type: "object",
        properties: {
          domid: { type: "integer" },
          reason: { type: "string" },
          action: { type: "string" },
          newDomid: { type: "integer" },
          outcome: { type: "string" },
          error: { type: "string" },
        },
      },
    },
  },
} as const;

/** The API app (not listening). `routes` lists what was registered, for the OpenAPI check. */
export function buildApi(options: ApiOptions): {
  app: FastifyInstance;
  routes: Array<{ method: string; url: string }>;
} {
  const app = Fastify({ logger: false, bodyLimit: options.maxConfigBytes + 4096 });
  if (options.auth) requireApiToken(app, options.auth);
  const routes: Array<{ method: string; url: string }> = [];
  app.addHook("onRoute", (r) => {
    for (const m of [r.method].flat()) if (m !== "HEAD") routes.push({ method: m, url: r.url });
    const serverSpan = options.serverSpan;
    const method = [r.method].flat()[0];
    if (serverSpan && method !== "GET" && method !== "HEAD" && method !== "OPTIONS") {
      // every write handler is async: it runs inside the span, which ends when it settles
      const handler = r.handler as (this: FastifyInstance, ...args: unknown[]) => Promise<unknown>;
      const name = `${method} ${r.url}`;
      r.handler = function (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
        return serverSpan(
          name,
          req.headers,
          { "http.request.method": method ?? "", "http.route": r.url },
          () => handler.call(this, req, reply),
        );
      };
    }
  });
  const ts = options.toolstack;

  // Anything outside the routes: 404 with the API's error shape.
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: `no route ${req.method} ${req.url.split("?")[0]}` }),
  );
  // A write must come from this API's own origin (the dashboard page) or from a client that sends
  // no Origin (xl, curl): a page on another site cannot drive the toolstack through a browser.
  app.addHook("onRequest", async (req, reply) => {
    if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return;
    const origin = req.headers.origin;
    if (origin === undefined) return;
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host !== req.headers.host)
      return reply.code(403).send({ error: `cross-origin ${req.method} refused (Origin ${origin})` });
  });

  app.get("/openapi.json", async () => OPENAPI);
  registerDisplayRoutes(app, options.display);

  app.get("/domains", async (_req, reply) => {
    try {
      return { domains: await ts.list() };
    } catch (e) {
      return send(reply, e);
    }
  });

  app.post<{ Body: unknown; Querystring: { filename?: string; dryRun?: string } }>(
    "/domains",
    async (req, reply) => {
      let text: string | undefined;
      let file = req.query.filename ?? "<request>";
      if (typeof req.body === "string") text = req.body;
      else if (typeof req.body === "object" && req.body !== null && "config" in req.body) {
        const b = req.body as { config: unknown; filename?: unknown };
        if (typeof b.config === "string") text = b.config;
        if (typeof b.filename === "string") file = b.filename;
      }
      if (text === undefined)
        return reply
          .code(400)
          .send({ error: "expected a JSON body {config, filename?} or a text/plain xl.cfg" });
      if (text.length > options.maxConfigBytes)
        return reply.code(400).send({ error: `config larger than ${options.maxConfigBytes} bytes` });
      const r = parseXlCfg(text, { ...options.parse, file });
      if (!r.ok)
        return reply
          .code(400)
          .send({ error: "invalid config", errors: r.errors, messages: r.errors.map(formatXlCfgError) });
      if (req.query.dryRun === "1" || req.query.dryRun === "true") return { config: r.config };
      try {
        const c = await ts.create(r.config);
        return reply.code(201).send({ domid: c.domid, uuid: c.uuid, name: r.config.name, steps: c.records });
      } catch (e) {
        return send(reply, e);
      }
    },
  );

  app.get<{ Params: { id: string } }>("/domains/:id", async (req, reply) => {
    const id = domid(req.params.id, reply);
    if (id === undefined) return reply;
    try {
      return await ts.info(id);
    } catch (e) {
      return send(reply, e);
    }
  });

  app.delete<{ Params: { id: string } }>("/domains/:id", async (req, reply) => {
    const id = domid(req.params.id, reply);
    if (id === undefined) return reply;
    try {
      return { steps: await ts.destroy(id) };
    } catch (e) {
      return send(reply, e);
    }
  });

  for (const op of ["pause", "unpause"] as const)
    app.post<{ Params: { id: string } }>(`/domains/:id/${op}`, async (req, reply) => {
      const id = domid(req.params.id, reply);
      if (id === undefined) return reply;
      try {
        await ts[op](id);
        return reply.code(204).send();
      } catch (e) {
        return send(reply, e);
      }
    });

  for (const [op, kind] of [
    ["shutdown", "poweroff"],
    ["reboot", "reboot"],
  ] as const)
    app.post<{ Params: { id: string }; Querystring: { timeoutMs?: string; force?: string } }>(
      `/domains/:id/${op}`,
      async (req, reply) => {
        const id = domid(req.params.id, reply);
        if (id === undefined) return reply;
        const t = req.query.timeoutMs;
        try {
          return await ts.requestShutdown(id, kind, {
            ...(t !== undefined && /^\d+$/.test(t) ? { timeoutMs: Number(t) } : {}),
            force: req.query.force === "1",
          });
        } catch (e) {
          return send(reply, e);
        }
      },
    );

  app.get<{ Params: { id: string } }>("/domains/:id/disks", async (req, reply) => {
    const id = domid(req.params.id, reply);
    if (id === undefined) return reply;
    try {
      return { disks: await ts.listDisks(id) };
    } catch (e) {
      return send(reply, e);
    }
  });

  app.post<{ Params: { id: string }; Body: unknown }>("/domains/:id/disks", async (req, reply) => {
    const id = domid(req.params.id, reply);
    if (id === undefined) return reply;
    const b = req.body;
    const spec =
      typeof b === "string"
        ? b
        : typeof b === "object" && b !== null && "spec" in b && typeof b.spec === "string"
          ? b.spec
          : undefined;
    if (spec === undefined) return reply.code(400).send({ error: "expected a JSON body {spec}" });
    // the disk spec as a one-line config, so errors carry positions like a file's
    const r = parseDiskSpec(spec);
    if ("problems" in r) {
      const errors = r.problems.map((p) => ({
        file: "<disk spec>",
        line: 1,
        column: p.offset + 1,
        message: p.message,
        ...(p.expected ? { expected: p.expected } : {}),
      }));
      return reply
        .code(400)
        .send({ error: "invalid disk spec", errors, messages: errors.map(formatXlCfgError) });
    }
    const extra = options.parse.checkTarget?.(r.disk.target, r.disk);
    if (extra !== undefined) {
      const errors = [{ file: "<disk spec>", line: 1, column: 1, message: extra }];
      return reply
        .code(400)
        .send({ error: "invalid disk spec", errors, messages: errors.map(formatXlCfgError) });
    }
    try {
      const steps = await ts.attachDisk(id, r.disk);
      return reply.code(201).send({ vdev: r.disk.vdev, devid: r.disk.devid, steps });
    } catch (e) {
      return send(reply, e);
    }
  });

  app.delete<{ Params: { id: string; vdev: string }; Querystring: { force?: string } }>(
    "/domains/:id/disks/:vdev",
    async (req, reply) => {
      const id = domid(req.params.id, reply);
      if (id === undefined) return reply;
      try {
        const r = await ts.detachDisk(id, req.params.vdev, { force: req.query.force !== "0" });
        return { handshake: r.handshake, frontendState: r.frontendState, steps: r.records };
      } catch (e) {
        return send(reply, e);
      }
    },
  );

  app.get("/actions", async () => ({ actions: ts.actions }));
  addDeviceModelRoutes(app, ts, send, domid);
  app.get("/recovery", async () => ts.recovery);

  if (options.live) {
    const live = options.live;
    const chaos = options.chaos;
    const dashboard = registerDashboard(app, {
      toolstack: ts,
      ...live,
      ...(chaos ? { chaosFaults: () => chaos.list() } : {}),
    });
    app.addHook("onClose", async () => dashboard.close());
    const traceHub = new TraceHub(live.bus);
    registerTraceRoutes(app, traceHub);
    app.addHook("onClose", async () => traceHub.close());
    registerFaultRoutes(app, live.bus);
  }
  if (options.chaos) {
    registerChaosRoutes(app, options.chaos);
    registerToxiproxyRoutes(app, options.chaos);
    if (options.live)
      registerChaosAuditRoutes(app, {
        coordinator: options.chaos,
        toolstack: options.toolstack,
        xs: options.live.xs,
      });
  }
  return { app, routes };
}

const TARGET = /^[a-z][a-z0-9-]{0,63}$/;
const COMPONENT = /^[A-Za-z0-9_.:-]{1,200}$/;

/** Sends a fault-control command to `target` (or every service) and gathers the answers. */
async function faultCommand(
  bus: EventBus,
  target: string,
  body: { component?: string; rules: unknown },
  waitMs = 300,
): Promise<FaultControlReply[]> {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const inbox = FAULT_SUBJECTS.inbox(
    `api.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}`,
  );
  const replies: FaultControlReply[] = [];
  const sub = bus.subscribe(inbox, {
    callback: (m) => {
      try {
        replies.push(JSON.parse(dec.decode(m.data)) as FaultControlReply);
      } catch {
        // not a reply
      }
    },
  });
  try {
    await bus.flush();
    bus.publish(FAULT_SUBJECTS.set(target), enc.encode(JSON.stringify(body)), { reply: inbox });
    await new Promise((r) => setTimeout(r, waitMs));
  } finally {
    sub.unsubscribe();
  }
  return replies;
}

/** GET /faults (active faults), POST /faults (set a service's rules), DELETE /faults (heal). */
function registerFaultRoutes(app: FastifyInstance, bus: EventBus): void {
  app.get("/faults", async () => ({ services: await collectFaultStatus(bus, { waitMs: 300 }) }));

  app.post<{ Body: unknown }>("/faults", async (req, reply) => {
    const b = req.body as { target?: unknown; component?: unknown; rules?: unknown } | null;
    if (typeof b !== "object" || b === null || typeof b.target !== "string" || !TARGET.test(b.target))
      return reply.code(400).send({ error: "expected a JSON body {target, component?, rules}" });
    if (b.component !== undefined && (typeof b.component !== "string" || !COMPONENT.test(b.component)))
      return reply.code(400).send({ error: "component: a fault component name (bus, calls.server, …)" });
    let rules;
    try {
      rules = validateFaultRules(b.rules as never);
    } catch (e) {
      return reply.code(400).send({ error: `rules: ${e instanceof Error ? e.message : String(e)}` });
    }
    const replies = await faultCommand(bus, b.target, {
      rules,
      ...(typeof b.component === "string" ? { component: b.component } : {}),
    });
    if (replies.length === 0) return reply.code(504).send({ error: `no service ${b.target} answered` });
    const bad = replies.find((r) => !r.ok);
    if (bad) return reply.code(400).send({ error: bad.error ?? "refused", replies });
    return { replies };
  });

  app.delete<{ Querystring: { target?: string; component?: string } }>("/faults", async (req, reply) => {
    const target = req.query.target ?? FAULT_SUBJECTS.targetAll;
    if (!TARGET.test(target)) return reply.code(400).send({ error: `target: not a service name` });
    const component = req.query.component;
    if (component !== undefined && !COMPONENT.test(component))
      return reply.code(400).send({ error: "component: a fault component name (bus, calls.server, …)" });
    const replies = await faultCommand(bus, target, { rules: null, ...(component ? { component } : {}) });
    if (replies.length === 0) return reply.code(504).send({ error: `no service ${target} answered` });
    return { replies };
  });
}
