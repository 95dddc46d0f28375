// `xensim xl block-attach|block-detach|block-list`: a domain's virtual block devices.
import type { Command } from "commander";
import { examples } from "../../command.js";
import { api, apiBase, resolveDomain, run } from "./api.js";
import type { DiskSummary } from "@xensim/toolstack";

/**
 * xl block-list's table: each column as wide as its widest cell, two spaces between columns, so a
 * long features list never runs into the NBD URI.
 */
export function formatBlockList(disks: DiskSummary[]): string {
  const rows: string[][] = [["Vdev", "Devid", "BE", "State(fe/be)", "Pages", "Queues", "Features", "NBD"]];
  for (const d of disks) {
    const feats = Object.entries(d.features)
      .filter(([, v]) => v !== "0")
      .map(([k, v]) => (v === "1" ? k : `${k}=${v}`))
      .join(",");
    rows.push([
      d.vdev,
      String(d.devid),
      String(d.backendDomid),
      `${d.frontendState}/${d.backendState}`,
      String(d.ringPages),
      String(d.queues),
      feats || "-",
      d.nbdUri ?? "-",
    ]);
  }
  return formatColumns(rows, new Set([4, 5]));
}

/** Left-aligned columns (right-aligned where `right` has the index), two spaces apart; no trailing blanks. */
export function formatColumns(rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) =>
          i === r.length - 1 && !right.has(i)
            ? c
            : right.has(i)
              ? c.padStart(widths[i]!)
              : c.padEnd(widths[i]!),
        )
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export default function registerBlock(xl: Command): void {
  const base = () => apiBase(xl);
  xl.command("block-attach <domain> <diskspec>")
    .addHelpText(
      "after",
      examples(
        "npx xensim xl block-attach guest1 'format=raw, vdev=xvdb, access=rw, target=memory:size=16M'",
      ),
    )
    .description("attach a disk (xl-disk-configuration syntax)")
    .action((d: string, spec: string) =>
      run(async () => {
        const id = await resolveDomain(base(), d);
        await api(base(), "POST", `/domains/${id}/disks`, { spec });
      })(),
    );
  xl.command("block-detach <domain> <dev>")
    .addHelpText("after", examples("npx xensim xl block-detach guest1 xvdb"))
    .description("detach a disk (closing handshake, then removal)")
    .action((d: string, dev: string) =>
      run(async () => {
        const id = await resolveDomain(base(), d);
        await api(base(), "DELETE", `/domains/${id}/disks/${encodeURIComponent(dev)}`);
      })(),
    );
  xl.command("block-list <domain>")
    .addHelpText("after", examples("npx xensim xl block-list guest1"))
    .description("each disk's state, ring pages, queues, features and NBD export")
    .action((d: string) =>
      run(async () => {
        const id = await resolveDomain(base(), d);
        const { disks } = await api<{ disks: DiskSummary[] }>(base(), "GET", `/domains/${id}/disks`);
        process.stdout.write(`${formatBlockList(disks)}\n`);
      })(),
    );
}
