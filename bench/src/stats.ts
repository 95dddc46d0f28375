// Latency samples and the figures every benchmark reports.
import { loadavg } from "node:os";
export interface OpFigures {
  ops: number;
  seconds: number;
  ops_per_s: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
}

export class LatencyRecorder {
  private samples: number[] = [];
  private started = 0;
  private ended = 0;
  start(): void {
    this.started = performance.now();
  }
  /** Records one operation's latency in microseconds. */
  add(us: number): void {
    this.samples.push(us);
  }
  stop(): void {
    this.ended = performance.now();
  }
  figures(): OpFigures {
    const s = Float64Array.from(this.samples).sort();
    const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : 0);
    const seconds = (this.ended - this.started) / 1000;
    return {
      ops: s.length,
      seconds: round(seconds, 3),
      ops_per_s: round(s.length / seconds, 0),
      p50_us: round(q(0.5), 1),
      p90_us: round(q(0.9), 1),
      p99_us: round(q(0.99), 1),
      max_us: round(s.length ? s[s.length - 1]! : 0, 1),
    };
  }
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Runs op back to back (depth 1) for durationMs after a short warm-up; returns its figures. */
export async function measure(
  durationMs: number,
  op: () => Promise<unknown>,
  warmupMs = 200,
): Promise<OpFigures> {
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) await op();
  const rec = new LatencyRecorder();
  rec.start();
  const end = performance.now() + durationMs;
  for (;;) {
    const t0 = performance.now();
    await op();
    const t1 = performance.now();
    rec.add((t1 - t0) * 1000);
    if (t1 >= end) break;
  }
  rec.stop();
  return rec.figures();
}

/**
 * measure() for a synchronous op (no await between ops: what a C caller of a hypercall pays), with
 * the thread's CPU time beside the wall clock (ops per CPU-second: the figure a loaded, shared
 * machine bends least).
 */
export function measureSync(
  durationMs: number,
  op: () => void,
  warmupMs = 200,
  latencyEvery = 1,
): OpFigures & { cpu_seconds: number; ops_per_cpu_s: number; latency_sampled_every: number } {
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) op();
  // With latencyEvery > 1 only every latencyEvery-th op is timed on its own (its latency is a real
  // single op's); the others run back to back untimed, so two clock reads per op (about a fifth of
  // a sub-microsecond op) do not count in the rate. Every op counts in ops and ops_per_s.
  const every = Math.max(1, Math.floor(latencyEvery));
  const rec = new LatencyRecorder();
  const cpu0 = process.cpuUsage();
  rec.start();
  const end = performance.now() + durationMs;
  let untimed = 0;
  for (;;) {
    for (let i = 1; i < every; i++) op();
    untimed += every - 1;
    const t0 = performance.now();
    op();
    const t1 = performance.now();
    rec.add((t1 - t0) * 1000);
    if (t1 >= end) break;
  }
  rec.stop();
  const cpu = process.cpuUsage(cpu0);
  const f = rec.figures();
  const ops = f.ops + untimed;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    ...f,
    ops,
    ops_per_s: round(ops / f.seconds, 0),
    cpu_seconds: round(cpuSeconds, 3),
    ops_per_cpu_s: round(ops / cpuSeconds, 0),
    latency_sampled_every: every,
  };
}

/** The machine, and its load average (1, 5, 15 min) when the result is written: the benches share it. */
export function machineInfo(): Record<string, unknown> {
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    load_average: loadavg().map((x) => round(x, 2)),
  };
}
