// xl list / xl list <domain>: summaries with xl's state letters.
import { type ToolstackDomainInfo, ToolstackError } from "./ports.js";
import { reasonName, stateLetters } from "./common.js";
import type { DomainSummary, ToolstackContext } from "./context.js";

/** xl list. */
export async function listDomains(ts: ToolstackContext): Promise<DomainSummary[]> {
  const l = await ts.options.hv.domainList();
  if (l.rc !== 0) throw new ToolstackError("EIO", `domain list: rc ${l.rc}`);
  const out: DomainSummary[] = [];
  for (const d of l.domains) if (d.state !== "dead") out.push(await summary(ts, d));
  return out;
}

export async function domainSummary(ts: ToolstackContext, domid: number): Promise<DomainSummary> {
  const i = await ts.options.hv.domainInfo(domid);
  if (i.rc !== 0 || !i.info) throw new ToolstackError("ENOENT", `no domain ${domid}`);
  return summary(ts, i.info);
}

export async function summary(ts: ToolstackContext, d: ToolstackDomainInfo): Promise<DomainSummary> {
  const rec = ts.managed.get(d.domid);
  const name =
    rec?.config.name ??
    (d.domid === 0
      ? "Domain-0"
      : await ts.options.xs.tryRead(`/local/domain/${d.domid}/name`).catch(() => undefined)) ??
    `(domid ${d.domid})`;
  return {
    name,
    id: d.domid,
    memMib: d.memoryMib,
    vcpus: d.vcpus,
    state: stateLetters(d),
    time: rec ? Math.round((ts.options.clock.now() - rec.createdAtMs) / 100) / 10 : 0,
    uuid: rec?.uuid,
    type: d.hvm ? "hvm" : "pv",
    shutdownReason: d.state === "shutdown" ? reasonName(d.shutdownReason) : undefined,
  };
}
