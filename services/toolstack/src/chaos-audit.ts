// What a chaos run's checkers read from a deployment they share no memory with (compose, another
// machine): a service's observer (xenstored's transaction history) and the leak audit of destroyed
// domains against the hypervisor's own tables (its "domain-leaks" observer: grant maptracks, pins,
// event channels), xenstored's nodes and its watch table (XS_CONTROL watches), as the embedded run
// reads them from shared memory and the xenstored socket.

import { auditDomainLeaks, type LeakEvidence } from "@xensim/chaos";
import type { Toolstack } from "@xensim/toolstack";
import type { XenstoreClient } from "@xensim/xenstore-client";
import type { FastifyInstance } from "fastify";
import { ChaosError, type ChaosCoordinator } from "./chaos.js";

export interface ChaosAuditOptions {
  coordinator: ChaosCoordinator;
  toolstack: Toolstack;
  xs: XenstoreClient;
}

/** One destroyed domain's entries in the hypervisor's tables (services/hypervisor "domain-leaks"). */
interface DomainLeakTables {
  domid: number;
  grants: {
    tableLeft: boolean;
    mappingsOfItsGrants: Array<{ mapper: number; handle: number; ref: number }>;
    pinsItHolds: Array<{ granter: number; ref: number; pin: number }>;
  };
  eventChannels: { ownPorts: number; peerPorts: Array<{ domid: number; port: number; state: string }> };
}

const SERVICE = /^[a-z][a-z0-9-]{0,63}$/;

/** Audits destroyed domains: present, xenstore nodes, watches, and (with `hypervisor`) grants and ports. */
export async function auditLeaks(
  audit: ChaosAuditOptions,
  domains: Array<{ domid: number; guest: string }>,
): Promise<{ leaks: LeakEvidence[]; hypervisorTables: boolean }> {
  const present = new Set((await audit.toolstack.list()).map((d) => d.id));
  // the hypervisor's tables: only for domains it saw destroyed (a restarted hypervisor saw none)
  const taken = (await audit.coordinator
    .observe("hypervisor", "domain-leaks", "take")
    .catch(() => undefined)) as DomainLeakTables[] | undefined;
  const byDomid = new Map((taken ?? []).map((t) => [t.domid, t]));
  const none = { tableLeft: false, mappingsOfItsGrants: [], pinsItHolds: [] };
  const leaks = await auditDomainLeaks(domains, present, (p) => audit.xs.exists(p).catch(() => false), {
    ...(taken
      ? {
          grants: (d: number) => byDomid.get(d)?.grants ?? none,
          eventChannels: (d: number) => byDomid.get(d)?.eventChannels ?? { ownPorts: 0, peerPorts: [] },
        }
      : {}),
    watches: async () => (await audit.xs.control("watches")).split("\n").filter((l) => l !== ""),
  });
  return { leaks, hypervisorTables: taken !== undefined };
}

export function registerChaosAuditRoutes(app: FastifyInstance, audit: ChaosAuditOptions): void {
  app.post<{ Body: unknown }>("/chaos/observe", async (req, reply) => {
    const b = (req.body ?? {}) as { service?: unknown; name?: unknown; action?: unknown };
    if (typeof b.service !== "string" || !SERVICE.test(b.service))
      return reply.code(400).send({ error: "service: expected a service name" });
    if (typeof b.name !== "string" || b.name === "")
      return reply.code(400).send({ error: "name: expected an observer name" });
    if (b.action !== "start" && b.action !== "take" && b.action !== "stop")
      return reply.code(400).send({ error: "action: expected start, take or stop" });
    try {
      return { observation: (await audit.coordinator.observe(b.service, b.name, b.action)) ?? null };
    } catch (e) {
      const status = e instanceof ChaosError ? e.status : 500;
      return reply.code(status).send({ error: (e as Error).message });
    }
  });
  app.post<{ Body: unknown }>("/chaos/leaks", async (req, reply) => {
    const b = (req.body ?? {}) as { domains?: unknown };
    const ok =
      Array.isArray(b.domains) &&
      b.domains.length <= 256 &&
      b.domains.every(
        (d: unknown) =>
          typeof d === "object" &&
          d !== null &&
          Number.isInteger((d as { domid?: unknown }).domid) &&
          (d as { domid: number }).domid > 0 &&
          (d as { domid: number }).domid < 0x7ff0 &&
          typeof (d as { guest?: unknown }).guest === "string",
      );
    if (!ok)
      return reply.code(400).send({
        error: "domains: expected at most 256 {domid: 1..0x7fef, guest: name} of destroyed domains",
      });
    try {
      return await auditLeaks(audit, b.domains as Array<{ domid: number; guest: string }>);
    } catch (e) {
      return reply.code(502).send({ error: `leak audit: ${(e as Error).message}` });
    }
  });
}

const obj = (properties: Record<string, unknown>) => ({ type: "object", properties });
const jsonBody = (schema: object) => ({ content: { "application/json": { schema } } });
const errorResp = (description: string) => ({ description, ...jsonBody(obj({ error: { type: "string" } })) });

export const CHAOS_AUDIT_OPENAPI_PATHS = {
  "/chaos/observe": {
    post: {
      summary:
        "start / take / stop a service's chaos observer (xenstored's xenstore-history, the hypervisor's domain-leaks)",
      requestBody: {
        required: true,
        ...jsonBody({
          type: "object",
          required: ["service", "name", "action"],
          properties: {
            service: { type: "string" },
            name: { type: "string" },
            action: { type: "string", enum: ["start", "take", "stop"] },
          },
        }),
      },
      responses: {
        "200": { description: "what the observer answered", ...jsonBody(obj({ observation: {} })) },
        "400": errorResp("bad service, name or action"),
        "404": errorResp("the service is not running"),
        "409": errorResp("the service has no such observer"),
      },
    },
  },
  "/chaos/leaks": {
    post: {
      summary:
        "Leak audit of destroyed domains: still listed, xenstore nodes, watches (XS_CONTROL watches), grant mappings, pins and event channels left (the hypervisor's tables)",
      requestBody: {
        required: true,
        ...jsonBody(
          obj({
            domains: { type: "array", items: obj({ domid: { type: "integer" }, guest: { type: "string" } }) },
          }),
        ),
      },
      responses: {
        "200": {
          description: "evidence per domain (hypervisorTables false: the hypervisor's tables were not read)",
          ...jsonBody(
            obj({
              leaks: { type: "array", items: { type: "object" } },
              hypervisorTables: { type: "boolean" },
            }),
          ),
        },
        "400": errorResp("not a list of domains"),
        "502": errorResp("xenstored or the toolstack did not answer"),
      },
    },
  },
};
