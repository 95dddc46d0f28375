// A hand-written SVG plot of a `xensim bench rings` result: IOPS (left panel) and p99 completion
// latency (right panel) against ring pages on a log2 axis, measured beside the queueing-theory
// prediction of the store profile (or, for the null store, beside the raw ring ceiling).
import type { RingsBenchResult } from "./rings.js";

interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: Array<[number, number]>;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return "-";
  if (v >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(2)}`;
}

function panel(
  x0: number,
  y0: number,
  w: number,
  h: number,
  title: string,
  yLabel: string,
  pages: number[],
  allSeries: Series[],
): string {
  // A figure the run could not measure (null or NaN in the JSON) is left out of the plot, not drawn.
  const series = allSeries.map((s) => ({
    ...s,
    points: s.points.filter(([p, v]) => Number.isFinite(p) && Number.isFinite(v)),
  }));
  const lo = Math.log2(Math.min(...pages));
  const hi = Math.max(lo + 1, Math.log2(Math.max(...pages)));
  const ymax = niceMax(Math.max(...series.flatMap((s) => s.points.map((p) => p[1]))));
  const X = (p: number) => x0 + ((Math.log2(p) - lo) / (hi - lo)) * w;
  const Y = (v: number) => y0 + h - (v / ymax) * h;
  const out: string[] = [];
  out.push(
    `<text x="${x0 + w / 2}" y="${y0 - 12}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
  );
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (let i = 0; i <= 5; i++) {
    const v = (ymax * i) / 5;
    const y = Y(v);
    out.push(`<line x1="${x0}" y1="${y}" x2="${x0 + w}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end" font-size="11">${fmt(v)}</text>`);
  }
  for (let e = Math.ceil(lo); e <= hi; e++) {
    const x = X(2 ** e);
    out.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + h}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${y0 + h + 16}" text-anchor="middle" font-size="11">${2 ** e}</text>`);
  }
  out.push(
    `<text x="${x0 + w / 2}" y="${y0 + h + 34}" text-anchor="middle" font-size="12">ring pages (log2)</text>`,
    `<text transform="translate(${x0 - 52} ${y0 + h / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points
      .map(([p, v], k) => `${k === 0 ? "M" : "L"}${X(p).toFixed(1)},${Y(v).toFixed(1)}`)
      .join(" ");
    out.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
    );
    for (const [p, v] of s.points)
      out.push(
        `<circle cx="${X(p).toFixed(1)}" cy="${Y(v).toFixed(1)}" r="3" fill="${s.color}"><title>${p} pages: ${fmt(v)}</title></circle>`,
      );
    const ly = y0 + 14 + i * 16;
    out.push(
      `<line x1="${x0 + 10}" y1="${ly - 4}" x2="${x0 + 30}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
      `<text x="${x0 + 36}" y="${ly}" font-size="11">${esc(s.name)}</text>`,
    );
  });
  return out.join("\n");
}

/** The SVG document for a rings result. */
export function ringsSvg(r: RingsBenchResult): string {
  const pages = r.jobs.map((j) => j.pages);
  const measured = "#1f77b4";
  const other = "#d62728";
  const iops: Series[] = [
    { name: "measured", color: measured, points: r.jobs.map((j) => [j.pages, j.iops]) },
  ];
  const p99: Series[] = [
    { name: "measured p99", color: measured, points: r.jobs.map((j) => [j.pages, j.clat_us.p99 / 1000]) },
  ];
  if (r.profile === "null") {
    const c = r.jobs.filter((j) => j.ceiling);
    iops.push({
      name: "raw ring ceiling",
      color: other,
      dashed: true,
      points: c.map((j) => [j.pages, j.ceiling!.iops]),
    });
    p99.push({
      name: "ceiling mean (Little)",
      color: other,
      dashed: true,
      points: c.map((j) => [j.pages, j.ceiling!.mean_latency_us / 1000]),
    });
  } else {
    iops.push({
      name: `MVA prediction (${r.profile})`,
      color: other,
      dashed: true,
      points: r.jobs.filter((j) => j.predicted_iops !== null).map((j) => [j.pages, j.predicted_iops!]),
    });
    p99.push(
      {
        name: "measured mean",
        color: "#2ca02c",
        points: r.jobs.map((j) => [j.pages, j.clat_us.mean / 1000]),
      },
      {
        name: "MVA predicted mean",
        color: other,
        dashed: true,
        points: r.jobs
          .filter((j) => j.predicted_clat_ms !== null)
          .map((j) => [j.pages, j.predicted_clat_ms!]),
      },
    );
  }
  const W = 960;
  const H = 420;
  const title = `xensim bench rings — ${r.profile}, ${r.placement}, ${r["global options"].rw} ${r["global options"].bs} B, iodepth ${r["global options"].iodepth}, ${r.params.queues} queue(s)`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    panel(80, 70, 360, 280, "IOPS", "IOPS", pages, iops),
    panel(570, 70, 360, 280, "completion latency", "ms", pages, p99),
    "</svg>",
    "",
  ].join("\n");
}
