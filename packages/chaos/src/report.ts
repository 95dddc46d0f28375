// The verdict of one chaos run: JSON (the record), Markdown (for people) and an SVG of IOPS over time.

import type { CheckResult, IoSample } from "./checkers.js";
import type { FaultConsequence } from "./consequence.js";
import type { FaultHit } from "./points.js";
import type { TimelineAction } from "./schedule.js";

/** One executed timeline action: when it was sent and what the target answered. */
export interface ExecutedAction extends TimelineAction {
  /** Wall clock (ms) when it was sent. */
  sentAt: number;
  ok: boolean;
  error?: string;
}

export interface ChaosReport {
  scenario: string;
  file: string;
  seed: number;
  schedule: number;
  /**
   * pass; fail; or fault-consequence: checks failed, but as the fault's own expected consequence
   * (one no Xen stack survives, see `consequence`), not a defect of the stack under test.
   */
  verdict: ChaosVerdict;
  /** With verdict fault-consequence: which fault, why, and its hits. */
  consequence?: FaultConsequence;
  startedAt: number;
  durationMs: number;
  checks: CheckResult[];
  timeline: ExecutedAction[];
  /** Faults the fault points injected (per service, with timestamps). */
  hits: FaultHit[];
  /** Count of hits per kind. */
  hitsByKind: Record<string, number>;
  series: IoSample[];
  /** The command that replays this run. */
  replay: string;
  /** Wall time of the run's phases, ms (guests created, workloads running, faults, finish, audit). */
  phasesMs?: Record<string, number>;
}

export type ChaosVerdict = "pass" | "fail" | "fault-consequence";

export function verdictOf(checks: readonly CheckResult[], consequence?: FaultConsequence): ChaosVerdict {
  if (checks.every((c) => c.pass)) return "pass";
  return consequence ? "fault-consequence" : "fail";
}

export function countByKind(hits: readonly FaultHit[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of hits) out[h.kind] = (out[h.kind] ?? 0) + 1;
  return out;
}

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function reportMarkdown(r: ChaosReport): string {
  const lines: string[] = [];
  lines.push(`# Chaos run: ${r.scenario} — ${r.verdict.toUpperCase()}`, "");
  lines.push(`- file: \`${r.file}\`, seed ${r.seed} (schedule ${r.schedule})`);
  lines.push(`- started ${new Date(r.startedAt).toISOString()}, ran ${r.durationMs} ms`);
  lines.push(`- replay: \`${r.replay}\``, "");
  lines.push("## Checks", "", "| check | verdict | summary |", "| --- | --- | --- |");
  for (const c of r.checks) lines.push(`| ${c.name} | ${c.pass ? "pass" : "**FAIL**"} | ${c.summary} |`);
  for (const c of r.checks.filter((x) => !x.pass && x.evidence.length > 0)) {
    lines.push(
      "",
      `### Evidence: ${c.name}`,
      "",
      "```json",
      JSON.stringify(c.evidence, null, 2).slice(0, 4000),
      "```",
    );
  }
  if (r.consequence) {
    lines.push(
      "",
      `## Expected consequence of ${r.consequence.kind} (not a pass)`,
      "",
      `The failed checks (${r.consequence.checks.join(", ")}) are this fault's consequence: ${r.consequence.reason}.`,
      "",
      "```json",
      JSON.stringify(r.consequence.evidence, null, 2).slice(0, 4000),
      "```",
    );
  }
  lines.push(
    "",
    "## Fault timeline",
    "",
    "| at (ms) | action | kind | service | spec | answer |",
    "| --- | --- | --- | --- | --- | --- |",
  );
  for (const a of r.timeline) {
    const { kind: _k, ...spec } = a.spec;
    lines.push(
      `| ${a.atMs} | ${a.action} | ${a.kind} | ${a.service}${a.guest ? ` (${a.guest})` : ""} | \`${JSON.stringify(spec)}\` | ${a.ok ? "ok" : `error: ${a.error ?? ""}`} |`,
    );
  }
  lines.push("", "## Faults injected", "", "| kind | hits |", "| --- | --- |");
  for (const [k, n] of Object.entries(r.hitsByKind).sort()) lines.push(`| ${k} | ${n} |`);
  if (Object.keys(r.hitsByKind).length === 0) lines.push("| (none) | 0 |");
  lines.push("", "IOPS over time: `report.svg` beside this file.", "");
  return lines.join("\n");
}

/** IOPS of each guest over time, with the fault windows shaded. */
export function reportSvg(r: ChaosReport, width = 720, height = 260): string {
  const pad = { l: 50, r: 10, t: 20, b: 30 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const tMax = Math.max(1, ...r.series.map((s) => s.t), ...r.timeline.map((a) => a.atMs));
  const yMax = Math.max(1, ...r.series.map((s) => s.iops));
  const x = (t: number): number => pad.l + (t / tMax) * w;
  const y = (v: number): number => pad.t + h - (v / yMax) * h;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
  );
  // fault windows
  const open = new Map<string, number>();
  for (const a of r.timeline) {
    const key = `${a.fault}/${a.occurrence}`;
    if (a.action === "set") {
      open.set(key, a.atMs);
      parts.push(
        `<line x1="${x(a.atMs)}" y1="${pad.t}" x2="${x(a.atMs)}" y2="${pad.t + h}" stroke="#c62828" stroke-dasharray="3,3"><title>${esc(a.kind)} set at ${a.atMs} ms</title></line>`,
      );
    } else {
      const from = open.get(key) ?? 0;
      parts.push(
        `<rect x="${x(from)}" y="${pad.t}" width="${Math.max(1, x(a.atMs) - x(from))}" height="${h}" fill="#c62828" fill-opacity="0.08"><title>${esc(a.kind)} ${from}–${a.atMs} ms</title></rect>`,
      );
    }
  }
  parts.push(
    `<line x1="${pad.l}" y1="${pad.t + h}" x2="${pad.l + w}" y2="${pad.t + h}" stroke="#333"/>`,
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${pad.t + h}" stroke="#333"/>`,
    `<text x="${pad.l}" y="${height - 8}">0</text><text x="${pad.l + w - 40}" y="${height - 8}">${tMax} ms</text>`,
    `<text x="4" y="${pad.t + 4}">${Math.round(yMax)}</text><text x="4" y="${pad.t + h}">0</text>`,
    `<text x="${pad.l + 4}" y="${pad.t - 6}">IOPS per guest — ${esc(r.scenario)} seed ${r.seed} (${r.verdict})</text>`,
  );
  const colours = ["#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f"];
  const guests = [...new Set(r.series.map((s) => s.guest))].sort();
  guests.forEach((g, i) => {
    const pts = r.series
      .filter((s) => s.guest === g)
      .sort((a, b) => a.t - b.t)
      .map((s) => `${x(s.t).toFixed(1)},${y(s.iops).toFixed(1)}`)
      .join(" ");
    const c = colours[i % colours.length] as string;
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${pts}"/>`);
    parts.push(`<text x="${pad.l + w - 120}" y="${pad.t + 12 + i * 12}" fill="${c}">${esc(g)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}
