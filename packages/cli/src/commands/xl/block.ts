// `xensim xl block-attach|block-detach|block-list`: a domain's virtual block devices.
import type { Command } from "commander";
import { api, apiBase, type DiskSummary, resolveDomain, run } from "./api.js";

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

export default function registerBlock(xl: Command): void {
  const base = () => apiBase(xl);
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
