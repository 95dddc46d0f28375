// The screens of the host's displback through the toolstack's HTTP API: the list of connectors, each
// connector's latest frame as PNG (pngjs), and a small live page that shows them updating. The
// page is self-contained (no external assets) so a dashboard can embed it (an <iframe> of /display,
// or its own <img> elements pointing at the frame URLs).
import type { CallClient } from "@xensim/bus";
import type { Frame__Output, ScreenList__Output } from "@xensim/proto";
import type { FastifyInstance } from "fastify";
import { PNG } from "pngjs";

export interface ScreenJson {
  domid: number;
  devid: string;
  connector: number;
  uniqueId: string;
  width: number;
  height: number;
  frames: number;
  lastFlipMs: number;
  /** Where its PNG is served. */
  frame: string;
}

export const frameUrl = (domid: number, devid: string, connector: number): string =>
  `/domains/${domid}/vdispl/${devid}/${connector}/frame.png`;

/** RGBA → PNG bytes (pngjs). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png);
}

/** Registers GET /display/screens, GET /domains/:id/vdispl/:devid/:connector/frame.png, GET /display. */
export function registerDisplayRoutes(app: FastifyInstance, display: CallClient | undefined): void {
  const screens = async (): Promise<ScreenJson[]> => {
    if (!display) return [];
    const r = await display.call<object, ScreenList__Output>("ListScreens", {}, { deadlineMs: 5000 });
    return r.screens.map((s) => ({
      domid: s.domid,
      devid: s.devid,
      connector: s.connector,
      uniqueId: s.uniqueId,
      width: s.width,
      height: s.height,
      frames: Number(s.frames),
      lastFlipMs: s.lastFlipMs,
      frame: frameUrl(s.domid, s.devid, s.connector),
    }));
  };

  app.get<{ Querystring: { domid?: string } }>("/display/screens", async (req, reply) => {
    if (!display) return reply.code(503).send({ error: "ENODEV", message: "no displback configured" });
    try {
      const all = await screens();
      const want = req.query.domid;
      return { screens: want === undefined ? all : all.filter((s) => String(s.domid) === want) };
    } catch (e) {
      return reply.code(502).send({ error: "EIO", message: String(e) });
    }
  });

  app.get<{ Params: { id: string; devid: string; connector: string } }>(
    "/domains/:id/vdispl/:devid/:connector/frame.png",
    async (req, reply) => {
      if (!display) return reply.code(503).send({ error: "ENODEV", message: "no displback configured" });
      const domid = Number(req.params.id);
      const connector = Number(req.params.connector);
      if (!Number.isInteger(domid) || !Number.isInteger(connector) || !/^\d+$/.test(req.params.devid))
        return reply.code(400).send({ error: "EINVAL", message: "domid, devid and connector are numbers" });
      let f: Frame__Output;
      try {
        f = await display.call<object, Frame__Output>(
          "GetFrame",
          { domid, devid: req.params.devid, connector },
          { deadlineMs: 5000 },
        );
      } catch (e) {
        return reply.code(502).send({ error: "EIO", message: String(e) });
      }
      if (f.rc !== 0 || !f.screen)
        return reply
          .code(404)
          .send({ error: "ENOENT", message: `no screen ${domid}/${req.params.devid}/${connector}` });
      const png = encodePng(f.screen.width, f.screen.height, new Uint8Array(f.rgba));
      return reply
        .header("content-type", "image/png")
        .header("cache-control", "no-store")
        .header("x-xensim-frames", String(f.screen.frames))
        .send(png);
    },
  );

  app.get("/display", async (_req, reply) =>
    reply.header("content-type", "text/html; charset=utf-8").send(PAGE),
  );
}

/** The live page: every screen, each image reloaded as soon as the previous one arrived. */
export const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xensim displays</title>
<style>
 body{font:14px system-ui,sans-serif;background:#111;color:#ddd;margin:1em}
 figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}
 img{display:block;background:#000;max-width:90vw;image-rendering:pixelated;border:1px solid #333}
 figcaption{margin-top:.3em;color:#9ab}
</style></head>
<body><h1>Displays</h1><p id="none">No display connected yet.</p><div id="screens"></div>
<script>
const box = document.getElementById("screens");
const shown = new Map();
function refresh(img, url, cap, s) {
  const next = new Image();
  next.onload = () => { img.src = next.src; img.dataset.loads = String(Number(img.dataset.loads || 0) + 1); setTimeout(() => refresh(img, url, cap, s), 100); };
  next.onerror = () => setTimeout(() => refresh(img, url, cap, s), 1000);
  next.src = url + "?t=" + Date.now();
}
async function poll() {
  try {
    const r = await fetch("/display/screens");
    const { screens } = await r.json();
    document.getElementById("none").hidden = screens.length > 0;
    for (const s of screens) {
      const key = s.frame;
      let e = shown.get(key);
      if (!e) {
        const fig = document.createElement("figure");
        const img = document.createElement("img");
        img.className = "screen"; img.width = s.width; img.height = s.height; img.alt = "domain " + s.domid;
        img.dataset.domid = String(s.domid); img.dataset.devid = s.devid; img.dataset.connector = String(s.connector);
        const cap = document.createElement("figcaption");
        fig.append(img, cap); box.append(fig);
        e = { img, cap }; shown.set(key, e);
        refresh(img, key, cap, s);
      }
      e.cap.textContent = "domain " + s.domid + " · vdispl " + s.devid + " · " + (s.uniqueId || ("connector " + s.connector)) + " · " + s.width + "x" + s.height + " · " + s.frames + " flips";
    }
  } catch {}
  setTimeout(poll, 1000);
}
poll();
</script></body></html>
`;
