// `xensim xl create|list|destroy|pause|unpause|shutdown|reboot`: a domain's life cycle.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { examples } from "../../command.js";
import { api, apiBase, resolveDomain, run, XlError } from "./api.js";
import { type DomainSummary } from "@xensim/toolstack";

export function formatXlList(domains: DomainSummary[]): string {
  const lines = ["Name                                        ID   Mem VCPUs\tState\tTime(s)"];
  for (const d of domains)
    lines.push(
      `${d.name.padEnd(40)}${String(d.id).padStart(6)}${String(d.memMib).padStart(6)}${String(d.vcpus).padStart(6)}     ${d.state}${d.time.toFixed(1).padStart(10)}`,
    );
  return lines.join("\n");
}

export default function registerDomains(xl: Command): void {
  const base = () => apiBase(xl);
  xl.command("create <file>")
    .addHelpText("after", examples("npx xensim xl create examples/guest1.cfg"))
    .description("create a domain from an xl.cfg file")
    .action((file: string) =>
      run(async () => {
        process.stderr.write(`Parsing config from ${file}\n`);
        let text: string;
        try {
          text = readFileSync(file, "utf8");
        } catch (e) {
          throw new XlError(`${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        }
        const r = await api<{ domid: number; name: string }>(base(), "POST", "/domains", {
          config: text,
          filename: file,
        });
        process.stdout.write(`Domain ${r.domid} (${r.name}) created\n`);
      })(),
    );
  xl.command("list")
    .addHelpText("after", examples("npx xensim xl list"))
    .alias("li")
    .description("list domains")
    .action(() =>
      run(async () => {
        const { domains } = await api<{ domains: DomainSummary[] }>(base(), "GET", "/domains");
        process.stdout.write(`${formatXlList(domains)}\n`);
        // what the toolstack's start found: domains a restart lost, cleaned away (issue 14)
        const rec = await api<{ cleaned?: Array<{ domid: number; name: string; outcome: string }> }>(
          base(),
          "GET",
          "/recovery",
        ).catch(() => ({ cleaned: [] }));
        for (const c of rec.cleaned ?? [])
          process.stderr.write(
            `xl: domain ${c.domid} (${c.name}) was lost when the host restarted: ${c.outcome === "cleaned" ? "cleaned away" : "cleanup failed"}\n`,
          );
      })(),
    );
  for (const [cmd, method, path, what] of [
    ["destroy", "DELETE", "", "destroy a domain at once"],
    ["pause", "POST", "/pause", "pause a domain"],
    ["unpause", "POST", "/unpause", "unpause a domain"],
  ] as const)
    xl.command(`${cmd} <domain>`)
      .addHelpText("after", examples(`npx xensim xl ${cmd} guest1`))
      .description(what)
      .action((d: string) =>
        run(async () => {
          const id = await resolveDomain(base(), d);
          await api(base(), method, `/domains/${id}${path}`);
        })(),
      );
  for (const [cmd, what] of [
    ["shutdown", "ask a domain to power off (control/shutdown)"],
    ["reboot", "ask a domain to reboot (control/shutdown)"],
  ] as const)
    xl.command(`${cmd} <domain>`)
      .addHelpText("after", examples(`npx xensim xl ${cmd} guest1`))
      .description(what)
      .option("-F", "also for a domain without PV control (no control/feature-* advertised)")
      .action((d: string, opt: { F?: boolean }) =>
        run(async () => {
          const id = await resolveDomain(base(), d);
          const r = await api<{ acted?: boolean }>(
            base(),
            "POST",
            `/domains/${id}/${cmd}${opt.F ? "?force=1" : ""}`,
          );
          if (r.acted === false)
            process.stderr.write(`domain ${id} has not acted on the ${cmd} request yet\n`);
        })(),
      );
}
