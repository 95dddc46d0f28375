// `xensim xl screenshot D [FILE.png]` and `xensim xl vdispl-list D`: a virtual display's current
// screen, through the toolstack's HTTP API (which asks displback for the frame and encodes the PNG).
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { toolstackUrl } from "./xl.js";

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

async function get(base: string, path: string): Promise<Response> {
  try {
    return await fetch(`${base}${path}`);
  } catch (e) {
    throw new Error(
      `cannot reach the toolstack at ${base} (${String((e as Error).cause ?? e)}); is \`xensim up\` running?`,
      { cause: e },
    );
  }
}

async function domidOf(base: string, d: string): Promise<number> {
  if (/^\d+$/.test(d)) return Number(d);
  const r = await get(base, "/domains");
  const { domains } = (await r.json()) as { domains: { name: string; id: number }[] };
  const m = domains.find((x) => x.name === d);
  if (!m) throw new Error(`${d} is an invalid domain identifier`);
  return m.id;
}

export function formatVdisplList(screens: ScreenJson[]): string {
  const lines = ["Devid Conn Id                 Resolution   Flips"];
  for (const s of screens)
    lines.push(
      `${s.devid.padEnd(6)}${String(s.connector).padEnd(5)}${s.uniqueId.padEnd(19)}${`${s.width}x${s.height}`.padEnd(13)}${s.frames}`,
    );
  return lines.join("\n");
}

/** Adds the display commands to the `xl` command. */
export function registerXlDisplayCommands(program: Command): void {
  const xl = program.commands.find((c) => c.name() === "xl");
  if (!xl) throw new Error("xl command missing");
  const base = () => {
    const o = xl.opts<{ api?: string; stateDir: string }>();
    return toolstackUrl(o.api, o.stateDir);
  };
  const run = (fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (e) {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    }
  };
  xl.command("screenshot <domain> [file]")
    .description(
      "write a virtual display's current screen as PNG (default <domain>-vdispl<devid>-<connector>.png)",
    )
    .option("--vdispl <devid>", "the vdispl device", "0")
    .option("--connector <n>", "the connector", "0")
    .action((d: string, file: string | undefined, o: { vdispl: string; connector: string }) =>
      run(async () => {
        const b = base();
        const domid = await domidOf(b, d);
        const r = await get(b, `/domains/${domid}/vdispl/${o.vdispl}/${o.connector}/frame.png`);
        if (!r.ok) {
          const j = (await r.json().catch(() => ({}))) as { message?: string; error?: string };
          throw new Error(`screenshot: ${j.message ?? j.error ?? `HTTP ${r.status}`}`);
        }
        const out = file ?? `${d}-vdispl${o.vdispl}-${o.connector}.png`;
        writeFileSync(out, new Uint8Array(await r.arrayBuffer()));
        process.stdout.write(`${out} (frame ${r.headers.get("x-xensim-frames") ?? "?"})\n`);
      })(),
    );
  xl.command("vdispl-list <domain>")
    .description("the virtual displays of a domain: connectors, resolutions, flips shown")
    .action((d: string) =>
      run(async () => {
        const b = base();
        const domid = await domidOf(b, d);
        const r = await get(b, `/display/screens?domid=${domid}`);
        if (!r.ok) throw new Error(`vdispl-list: HTTP ${r.status}`);
        const { screens } = (await r.json()) as { screens: ScreenJson[] };
        process.stdout.write(`${formatVdisplList(screens)}\n`);
      })(),
    );
}
