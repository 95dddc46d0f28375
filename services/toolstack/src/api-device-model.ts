// xl's device-model commands over HTTP: `xl console` (read and type into a guest's emulated serial
// port) and `xl trigger D soft-reset` (xensim's kexec trigger), with their OpenAPI paths.
import { type Toolstack, vgaPicture } from "@xensim/toolstack";
import { encodePng } from "./display.js";
import type { FastifyInstance, FastifyReply } from "fastify";

const idParam = { name: "id", in: "path", required: true, schema: { type: "integer", minimum: 0 } };
const serialParam = {
  name: "serial",
  in: "query",
  required: false,
  description: "0 = COM1 (the guest's emulator), 1 = the PCI serial port of a second emulator",
  schema: { type: "integer", minimum: 0, default: 0 },
};
const errorRef = { content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };

export const DEVICE_MODEL_PATHS = {
  "/domains/{id}/vga": {
    get: {
      summary:
        "xl vga: the guest's VGA text screen (0xB8000, 80×25, CRTC cursor) as lines, or as PNG in xensim's 8×16 dot-matrix font",
      parameters: [
        idParam,
        {
          name: "format",
          in: "query",
          required: false,
          schema: { type: "string", enum: ["text", "png"], default: "text" },
        },
      ],
      responses: {
        "200": {
          description: "{lines, cursor} or image/png",
          content: {
            "application/json": { schema: { type: "object" } },
            "image/png": { schema: { type: "string", format: "binary" } },
          },
        },
        "404": { description: "no VGA for that domain", ...errorRef },
      },
    },
  },
  "/domains/{id}/console": {
    get: {
      summary: "xl console: bytes the guest's serial port sent from `offset` on (long poll up to waitMs)",
      parameters: [
        idParam,
        serialParam,
        { name: "offset", in: "query", required: false, schema: { type: "integer", minimum: 0, default: 0 } },
        {
          name: "waitMs",
          in: "query",
          required: false,
          schema: { type: "integer", minimum: 0, maximum: 30000 },
        },
      ],
      responses: {
        "200": {
          description: "base64 bytes and the next offset",
          content: {
            "application/json": {
              schema: {
                type: "object",
                properties: { data: { type: "string", format: "byte" }, next: { type: "integer" } },
              },
            },
          },
        },
        "404": { description: "no such domain or serial port", ...errorRef },
        "409": { description: "no device-model runtime", ...errorRef },
      },
    },
    post: {
      summary: "xl console: type into the guest's serial port",
      parameters: [idParam, serialParam],
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: { type: "object", properties: { data: { type: "string", format: "byte" } } },
          },
        },
      },
      responses: {
        "204": { description: "queued for the guest" },
        "404": { description: "no such domain or serial port", ...errorRef },
      },
    },
  },
  "/domains/{id}/trigger": {
    post: {
      summary:
        "xl trigger: soft-reset asks the guest to kexec (SCHEDOP_shutdown(soft_reset)); on_soft_reset follows",
      parameters: [
        idParam,
        { name: "type", in: "query", required: true, schema: { type: "string", enum: ["soft-reset"] } },
        { name: "timeoutMs", in: "query", required: false, schema: { type: "integer", minimum: 0 } },
      ],
      responses: {
        "200": {
          description: "whether the guest acted",
          content: { "application/json": { schema: { $ref: "#/components/schemas/ShutdownResult" } } },
        },
        "400": { description: "not an HVM domain, or an unknown trigger", ...errorRef },
        "404": { description: "no such domain", ...errorRef },
      },
    },
  },
} as const;

export function addDeviceModelRoutes(
  app: FastifyInstance,
  ts: Toolstack,
  send: (reply: FastifyReply, e: unknown) => FastifyReply,
  domid: (raw: string, reply: FastifyReply) => number | undefined,
): void {
  const int = (v: string | undefined, dflt: number) =>
    v !== undefined && /^\d+$/.test(v) ? Number(v) : dflt;
  app.get<{ Params: { id: string }; Querystring: { serial?: string; offset?: string; waitMs?: string } }>(
    "/domains/:id/console",
    async (req, reply) => {
      const id = domid(req.params.id, reply);
      if (id === undefined) return reply;
      try {
        const r = await ts.consoleRead(
          id,
          int(req.query.serial, 0),
          int(req.query.offset, 0),
          Math.min(int(req.query.waitMs, 0), 30_000),
        );
        return { data: Buffer.from(r.data).toString("base64"), next: r.next };
      } catch (e) {
        return send(reply, e);
      }
    },
  );
  app.post<{ Params: { id: string }; Querystring: { serial?: string }; Body: unknown }>(
    "/domains/:id/console",
    async (req, reply) => {
      const id = domid(req.params.id, reply);
      if (id === undefined) return reply;
      const b = req.body as { data?: unknown } | undefined;
      if (!b || typeof b.data !== "string")
        return reply.code(400).send({ error: "body must be {data: <base64>}" });
      try {
        await ts.consoleWrite(id, int(req.query.serial, 0), new Uint8Array(Buffer.from(b.data, "base64")));
        return reply.code(204).send();
      } catch (e) {
        return send(reply, e);
      }
    },
  );
  app.get<{ Params: { id: string }; Querystring: { format?: string } }>(
    "/domains/:id/vga",
    async (req, reply) => {
      const id = domid(req.params.id, reply);
      if (id === undefined) return reply;
      const format = req.query.format ?? "text";
      if (format !== "text" && format !== "png")
        return reply.code(400).send({ error: "format is text or png" });
      try {
        const v = await ts.vgaText(id);
        if (format === "text") return { lines: v.lines, cursor: v.cursor };
        const pic = vgaPicture(v.screen);
        return reply.type("image/png").send(encodePng(pic.width, pic.height, pic.rgba));
      } catch (e) {
        return send(reply, e);
      }
    },
  );
  app.post<{ Params: { id: string }; Querystring: { type?: string; timeoutMs?: string } }>(
    "/domains/:id/trigger",
    async (req, reply) => {
      const id = domid(req.params.id, reply);
      if (id === undefined) return reply;
      if (req.query.type !== "soft-reset")
        return reply
          .code(400)
          .send({ error: `trigger '${req.query.type ?? ""}' is not supported (soft-reset)` });
      try {
        return await ts.trigger(
          id,
          "soft-reset",
          req.query.timeoutMs !== undefined ? { timeoutMs: int(req.query.timeoutMs, 10_000) } : {},
        );
      } catch (e) {
        return send(reply, e);
      }
    },
  );
}
