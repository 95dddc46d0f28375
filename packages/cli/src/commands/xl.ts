// `xensim xl …`: xl's commands against the toolstack's HTTP API, output shaped like xl's.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";

interface DomainSummary {
  name: string;
  id: number;
  memMib: number;
  vcpus: number;
  state: string;
  time: number;
}

interface DiskSummary {
  vdev: string;
  devid: number;
  backendDomid: number;
  backendState: string;
  frontendState: string;
  params: string;
  mode: string;
  ringPages: number;
  queues: number;
  features: Record<string, string>;
  sectors: number | undefined;
  nbdUri: string | undefined;
}

/** The API token: $XENSIM_API_TOKEN, $XENSIM_KEYS/api-token, or the one `xensim up` keeps in its state dir. */
export function toolstackToken(stateDir = ".xensim"): string | undefined {
  if (process.env.XENSIM_API_TOKEN) return process.env.XENSIM_API_TOKEN.trim();
  for (const f of [
    ...(process.env.XENSIM_KEYS ? [join(process.env.XENSIM_KEYS, "api-token")] : []),
    join(stateDir, "api-token"),
  ])
    try {
      return readFileSync(f, "utf8").trim();
    } catch {
      // next
    }
  return undefined;
}

let apiToken: string | undefined;

/** The toolstack's address: --api, $XENSIM_API, the file `xensim up` writes, or the default port. */
export function toolstackUrl(api: string | undefined, stateDir = ".xensim"): string {
  apiToken = toolstackToken(stateDir);
  if (api) return api.replace(/\/$/, "");
  if (process.env.XENSIM_API) return process.env.XENSIM_API.replace(/\/$/, "");
  try {
    return readFileSync(join(stateDir, "toolstack.url"), "utf8").trim();
  } catch {
    return "http://127.0.0.1:9080";
  }
}

class XlError extends Error {}

async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    const auth: Record<string, string> = apiToken ? { authorization: `Bearer ${apiToken}` } : {};
    res = await fetch(`${base}${path}`, {
      method,
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { "content-type": "application/json", ...auth } }
        : { headers: auth }),
    });
  } catch (e) {
    throw new XlError(
      `cannot reach the toolstack at ${base} (${(e as Error).cause ?? (e as Error).message}); is \`xensim up\` running?`,
    );
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!res.ok) {
    const messages = Array.isArray(json.messages) ? (json.messages as string[]) : [];
    throw new XlError([String(json.error ?? `HTTP ${res.status}`), ...messages].join("\n"));
  }
  return json as T;
}

/** A domain by id or name, as xl takes it. */
async function resolveDomain(base: string, d: string): Promise<number> {
  if (/^\d+$/.test(d)) return Number(d);
  const { domains } = await api<{ domains: DomainSummary[] }>(base, "GET", "/domains");
  const m = domains.find((x) => x.name === d);
  if (!m) throw new XlError(`${d} is an invalid domain identifier`);
  return m.id;
}

export function formatXlList(domains: DomainSummary[]): string {
  const lines = ["Name                                        ID   Mem VCPUs\tState\tTime(s)"];
  for (const d of domains)
    lines.push(
      `${d.name.padEnd(40)}${String(d.id).padStart(6)}${String(d.memMib).padStart(6)}${String(d.vcpus).padStart(6)}     ${d.state}${d.time.toFixed(1).padStart(10)}`,
    );
  return lines.join("\n");
}

export function formatBlockList(disks: DiskSummary[]): string {
  const lines = [
    "Vdev   Devid  BE  State(fe/be)          Pages Queues Features                          NBD",
  ];
  for (const d of disks) {
    const feats = Object.entries(d.features)
      .filter(([, v]) => v !== "0")
      .map(([k, v]) => (v === "1" ? k : `${k}=${v}`))
      .join(",");
    lines.push(
      `${d.vdev.padEnd(7)}${String(d.devid).padEnd(7)}${String(d.backendDomid).padEnd(4)}${`${d.frontendState}/${d.backendState}`.padEnd(22)}${String(d.ringPages).padStart(5)}${String(d.queues).padStart(7)} ${feats.padEnd(34)}${d.nbdUri ?? "-"}`,
    );
  }
  return lines.join("\n");
}

export function registerXlCommands(program: Command): void {
  const xl = program
    .command("xl")
    .description("xl's commands, through the toolstack's HTTP API (the host `xensim up` runs)")
    .option("--api <url>", "toolstack API (default: $XENSIM_API, .xensim/toolstack.url, :9080)")
    .option("--state-dir <dir>", "where `xensim up` wrote toolstack.url", ".xensim");
  const base = () => {
    const o = xl.opts<{ api?: string; stateDir: string }>();
    return toolstackUrl(o.api, o.stateDir);
  };
  const run = (fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (e) {
      process.stderr.write(`${e instanceof XlError ? e.message : String(e)}\n`);
      process.exit(1);
    }
  };

  xl.command("create <file>")
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
  xl.command("block-attach <domain> <diskspec>")
    .description("attach a disk (xl-disk-configuration syntax)")
    .action((d: string, spec: string) =>
      run(async () => {
        const id = await resolveDomain(base(), d);
        await api(base(), "POST", `/domains/${id}/disks`, { spec });
      })(),
    );
  xl.command("block-detach <domain> <dev>")
    .description("detach a disk (closing handshake, then removal)")
    .action((d: string, dev: string) =>
      run(async () => {
        const id = await resolveDomain(base(), d);
        await api(base(), "DELETE", `/domains/${id}/disks/${encodeURIComponent(dev)}`);
      })(),
    );
  xl.command("block-list <domain>")
    .description("each disk's state, ring pages, queues, features and NBD export")
    .action((d: string) =>
      run(async () => {
        const id = await resolveDomain(base(), d);
        const { disks } = await api<{ disks: DiskSummary[] }>(base(), "GET", `/domains/${id}/disks`);
        process.stdout.write(`${formatBlockList(disks)}\n`);
      })(),
    );
}
