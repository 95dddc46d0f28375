// `xensim xl vga D [--png FILE]`: the guest's VGA text screen (its device model's 0xB8000 buffer and
// CRTC cursor) printed as text, or rendered as PNG (xensim's 8×16 dot-matrix font), through the
// toolstack's HTTP API.
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { examples } from "../../command.js";
import { api, apiBase, authHeaders, resolveDomain, run, XlError } from "./api.js";

export default function registerVga(xl: Command): void {
  xl.command("vga <domain>")
    .addHelpText("after", examples("npx xensim xl vga guest1", "npx xensim xl vga guest1 --png screen.png"))
    .description("print the guest's VGA text screen (80×25), or write it as PNG with --png")
    .option("--png <file>", "render the screen into this PNG file instead")
    .action((d: string, o: { png?: string }) =>
      run(async () => {
        const base = apiBase(xl);
        const domid = await resolveDomain(base, d);
        if (!o.png) {
          const v = await api<{ lines: string[]; cursor: { row: number; col: number; visible: boolean } }>(
            base,
            "GET",
            `/domains/${domid}/vga`,
          );
          let last = v.lines.length;
          while (last > 0 && v.lines[last - 1] === "") last--;
          process.stdout.write(`${v.lines.slice(0, last).join("\n")}\n`);
          return;
        }
        let r: Response;
        try {
          r = await fetch(`${base}/domains/${domid}/vga?format=png`, { headers: authHeaders() });
        } catch (e) {
          throw new XlError(`cannot reach the toolstack at ${base} (${String((e as Error).cause ?? e)})`, {
            cause: e,
          });
        }
        if (!r.ok) {
          const j = (await r.json().catch(() => ({}))) as { message?: string; error?: string };
          throw new XlError(`vga: ${j.message ?? j.error ?? `HTTP ${r.status}`}`);
        }
        writeFileSync(o.png, new Uint8Array(await r.arrayBuffer()));
        process.stdout.write(`${o.png}\n`);
      })(),
    );
}
