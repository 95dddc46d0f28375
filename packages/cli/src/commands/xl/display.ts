// `xensim xl screenshot D [FILE.png]` and `xensim xl vdispl-list D`: a virtual display's current
// screen through the toolstack's HTTP API (which asks displback for the frame and encodes the PNG).
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { examples } from "../../command.js";
import { api, apiBase, authHeaders, resolveDomain, run, XlError } from "./api.js";
import { formatColumns } from "./block.js";

interface ScreenJson {
  domid: number;
  devid: string;
  connector: number;
  uniqueId: string;
  width: number;
  height: number;
  frames: number;
  frame: string;
}

export function formatVdisplList(screens: ScreenJson[]): string {
  const rows = [["Devid", "Conn", "Id", "Resolution", "Flips"]];
  for (const s of screens)
    rows.push([s.devid, String(s.connector), s.uniqueId || "-", `${s.width}x${s.height}`, String(s.frames)]);
  return formatColumns(rows, new Set([4]));
}

export default function registerDisplay(xl: Command): void {
  xl.command("screenshot <domain> [file]")
    .addHelpText("after", examples("npx xensim xl screenshot display1 screen.png --connector 1"))
    .description(
      "write a virtual display's current screen as PNG (default <domain>-vdispl<devid>-<connector>.png)",
    )
    .option("--vdispl <devid>", "the vdispl device", "0")
    .option("--connector <n>", "the connector", "0")
    .action((d: string, file: string | undefined, o: { vdispl: string; connector: string }) =>
      run(async () => {
        const base = apiBase(xl);
        const domid = await resolveDomain(base, d);
        let r: Response;
        try {
          r = await fetch(`${base}/domains/${domid}/vdispl/${o.vdispl}/${o.connector}/frame.png`, {
            headers: authHeaders(),
          });
        } catch (e) {
          throw new XlError(`cannot reach the toolstack at ${base} (${String((e as Error).cause ?? e)})`, {
            cause: e,
          });
        }
        if (!r.ok) {
          const j = (await r.json().catch(() => ({}))) as { message?: string; error?: string };
          throw new XlError(`screenshot: ${j.message ?? j.error ?? `HTTP ${r.status}`}`);
        }
        const out = file ?? `${d}-vdispl${o.vdispl}-${o.connector}.png`;
        writeFileSync(out, new Uint8Array(await r.arrayBuffer()));
        process.stdout.write(`${out} (frame ${r.headers.get("x-xensim-frames") ?? "?"})\n`);
      })(),
    );
  xl.command("vdispl-list <domain>")
    .addHelpText("after", examples("npx xensim xl vdispl-list display1"))
    .description("the virtual displays of a domain: connectors, resolutions, flips shown")
    .action((d: string) =>
      run(async () => {
        const base = apiBase(xl);
        const domid = await resolveDomain(base, d);
        const { screens } = await api<{ screens: ScreenJson[] }>(
          base,
          "GET",
          `/display/screens?domid=${domid}`,
        );
        process.stdout.write(`${formatVdisplList(screens)}\n`);
      })(),
    );
}
