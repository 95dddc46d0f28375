// Where the time of a benchmark goes: V8 CPU profiles (`node --cpu-prof`, one .cpuprofile per
// thread — the main thread and every worker thread of the host) cut to the measured windows of a
// run, reduced to each thread's busy share and its top frames by self time. The bench commands'
// `--cpu-profile` runs the benchmark in a child node with --cpu-prof and attaches this to the JSON.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { round } from "./stats.js";

/** A V8 .cpuprofile (the fields we read). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  /** Monotonic µs (the clock of process.hrtime). */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A thread's profile as read from its file. */
export interface ThreadProfile {
  /** "main", or the service whose code the worker ran ("blkback", "hypervisor", …). */
  thread: string;
  file: string;
  profile: CpuProfile;
}

export interface TopFrame {
  /** "function package/dist/file.js:line". */
  frame: string;
  /** Share of the thread's samples in the window. */
  self_pct: number;
}

export interface ThreadTime {
  thread: string;
  /** Milliseconds of samples inside the window. */
  window_ms: number;
  /** Share of the window the thread ran code (1 − idle − the event loop's native waiting). */
  busy_fraction: number;
  top: TopFrame[];
}

/** A monotonic time window in µs (process.hrtime.bigint() / 1000). */
export interface MonotonicWindow {
  from_us: number;
  to_us: number;
}

/** Now on the profiles' clock, µs. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

const IDLE = new Set(["(idle)", "(program)", "(root)"]);

function frameName(cf: CpuProfile["nodes"][number]["callFrame"]): string {
  const parts = cf.url.split("/");
  const dist = parts.lastIndexOf("dist");
  const where = dist > 0 ? parts.slice(dist - 1).join("/") : parts.slice(-2).join("/");
  return `${cf.functionName || "(anonymous)"}${where ? ` ${where}:${cf.lineNumber + 1}` : ""}`;
}

/** Names a worker by the service whose files its frames mostly come from. */
function threadName(p: CpuProfile, file: string): string {
  if (/\.0\.\d+\.cpuprofile$/.test(file)) return "main";
  const count = new Map<string, number>();
  for (const n of p.nodes) {
    const m = /services\/([a-z0-9-]+)\/dist\//.exec(n.callFrame.url);
    if (m) count.set(m[1]!, (count.get(m[1]!) ?? 0) + 1);
  }
  let best = "worker";
  let most = 0;
  for (const [k, v] of count)
    if (v > most) {
      best = k;
      most = v;
    }
  return best;
}

/** Every .cpuprofile in `dir`, named by thread. */
export function readThreadProfiles(dir: string): ThreadProfile[] {
  const out: ThreadProfile[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith(".cpuprofile")) continue;
    const profile = JSON.parse(readFileSync(join(dir, f), "utf8")) as CpuProfile;
    out.push({ thread: threadName(profile, f), file: f, profile });
  }
  return out;
}

/** One thread's time inside `w`: busy share and the top `n` frames by self time. */
export function threadTime(t: ThreadProfile, w: MonotonicWindow, n = 12): ThreadTime {
  const p = t.profile;
  const byNode = new Map<number, number>();
  let at = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (at < w.from_us || at > w.to_us) continue;
    // A sample stands for the time until the next one.
    const d = p.timeDeltas[i + 1] ?? 0;
    byNode.set(p.samples[i]!, (byNode.get(p.samples[i]!) ?? 0) + d);
    total += d;
  }
  const self = new Map<string, number>();
  let idle = 0;
  for (const node of p.nodes) {
    const d = byNode.get(node.id) ?? 0;
    if (d === 0) continue;
    const name = node.callFrame.functionName;
    if (IDLE.has(name)) idle += d;
    const key = IDLE.has(name) ? name : frameName(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + d);
  }
  const top = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, d]) => ({ frame, self_pct: total > 0 ? round((100 * d) / total, 1) : 0 }));
  return {
    thread: t.thread,
    window_ms: round(total / 1000, 1),
    busy_fraction: total > 0 ? round(1 - idle / total, 3) : 0,
    top,
  };
}

/** Every thread's time inside `w` (threads with no sample there left out). */
export function profileWindow(threads: readonly ThreadProfile[], w: MonotonicWindow, n = 12): ThreadTime[] {
  return threads.map((t) => threadTime(t, w, n)).filter((t) => t.window_ms > 0);
}

/** Markdown table of the threads' top frames (one column per thread). */
export function topFramesMarkdown(threads: readonly ThreadTime[], rows = 10): string {
  const head = `| # | ${threads.map((t) => `${t.thread} (busy ${Math.round(t.busy_fraction * 100)} %)`).join(" | ")} |`;
  const sep = `|---:|${threads.map(() => "---").join("|")}|`;
  const lines = [head, sep];
  for (let i = 0; i < rows; i++) {
    const cells = threads.map((t) => {
      const f = t.top[i];
      return f ? `${f.self_pct} % \`${f.frame}\`` : "";
    });
    if (cells.every((c) => c === "")) break;
    lines.push(`| ${i + 1} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
