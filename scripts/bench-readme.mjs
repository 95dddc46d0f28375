#!/usr/bin/env node
// Renders bench/results/*.json into the tables of bench/README.md (between the BEGIN/END markers).
//   node scripts/bench-readme.mjs
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const readme = join(root, "bench", "README.md");
const results = join(root, "bench", "results");

function xenstoreTable() {
  const f = join(results, "xenstore.json");
  if (!existsSync(f))
    return "_no result yet: run `npx xensim bench xenstore --json bench/results/xenstore.json`_";
  const r = JSON.parse(readFileSync(f, "utf8"));
  const rows = [
    "| transport | operation | ops/s | p50 µs | p99 µs | p50 ÷ floor p50 |",
    "|---|---|---:|---:|---:|---:|",
    `| raw unix-socket ping-pong (floor) | 16-byte header + payload echo | ${r.floor.figures.ops_per_s} | ${r.floor.figures.p50_us} | ${r.floor.figures.p99_us} | 1 |`,
  ];
  for (const x of r.results)
    rows.push(
      `| ${x.transport} | ${x.op} | ${x.figures.ops_per_s} | ${x.figures.p50_us} | ${x.figures.p99_us} | ${x.vs_floor_p50} |`,
    );
  rows.push(
    "",
    `Machine: ${r.machine.cpus} CPUs, Node ${r.machine.node}; ${r.duration_ms} ms per row, depth 1.`,
  );
  return rows.join("\n");
}

function hypervisorTable() {
  const f = join(results, "hypervisor.json");
  if (!existsSync(f))
    return "_no result yet: run `npx xensim bench hypervisor --json bench/results/hypervisor.json`_";
  const r = JSON.parse(readFileSync(f, "utf8"));
  const fl = r.floor;
  const rows = [
    "| what | placement | per op | ops/s | p50 µs | p99 µs | derived |",
    "|---|---|---|---:|---:|---:|---|",
    `| Atomics ping-pong (floor) | main ↔ worker, Atomics.wait both sides | round trip | ${fl.atomics_wait.round_trip.ops_per_s} | ${fl.atomics_wait.round_trip.p50_us} | ${fl.atomics_wait.round_trip.p99_us} | one way p50 ${fl.atomics_wait.one_way_p50_us} µs, p99 ${fl.atomics_wait.one_way_p99_us} µs |`,
    `| Atomics ping-pong (floor) | main ↔ worker, Atomics.waitAsync both sides | round trip | ${fl.atomics_waitasync.round_trip.ops_per_s} | ${fl.atomics_waitasync.round_trip.p50_us} | ${fl.atomics_waitasync.round_trip.p99_us} | one way p50 ${fl.atomics_waitasync.one_way_p50_us} µs, p99 ${fl.atomics_waitasync.one_way_p99_us} µs |`,
  ];
  for (const e of r.events)
    rows.push(
      `| event send → handler | ${e.placement === "bus-nats" ? "bus wake-ups through nats-server" : "receiver in a worker thread, Atomics wake-ups"} | round trip | ${e.round_trip.ops_per_s} | ${e.round_trip.p50_us} | ${e.round_trip.p99_us} | one way p50 ${e.one_way_p50_us} µs (${e.vs_floor_waitasync_p50} × waitAsync floor), p99 ${e.one_way_p99_us} µs; ${e.events_per_s} events/s |`,
    );
  for (const g of r.grants)
    rows.push(
      `| grant map+unmap | ${g.placement === "grpc" ? "standalone hypervisor process, gRPC" : "embedded host, atomics on the shared buffer"} | ${g.batch} ref${g.batch > 1 ? "s" : ""} per call | ${g.figures.ops_per_s} | ${g.figures.p50_us} | ${g.figures.p99_us} | ${g.grants_per_s} grants/s |`,
    );
  rows.push(
    `| gRPC unary (floor) | DomainInfo on the same connection | 1 call | ${fl.grpc_unary.ops_per_s} | ${fl.grpc_unary.p50_us} | ${fl.grpc_unary.p99_us} | |`,
    "",
    `Machine: ${r.machine.cpus} CPUs, Node ${r.machine.node}; ${r.duration_ms} ms per row, depth 1.`,
  );
  return rows.join("\n");
}

function replicationTable() {
  const f = join(results, "replication.json");
  if (!existsSync(f))
    return "_no result yet: run `npx xensim bench replication --json bench/results/replication.json`_";
  const r = JSON.parse(readFileSync(f, "utf8"));
  const rows = [
    "| load | bytes shipped per page | pages/s | MiB/s of payload | ops | seconds | verified |",
    "|---|---:|---:|---:|---:|---:|---|",
  ];
  for (const x of r.results)
    rows.push(
      `| ${x.load} | ${x.load === "full" ? 4096 : 16} | ${x.pages_per_s} | ${x.mib_per_s} | ${x.ops} | ${x.seconds} | ${x.verified ? "yes" : "**no**"} |`,
    );
  rows.push(
    "",
    `Machine: Node ${r.machine.node}; ${r.duration_ms} ms per load, ${r.frames} frames, ${r.frames_per_op} frames per call, ${r.depth} calls in flight.`,
  );
  return rows.join("\n");
}

function blkTable() {
  const files = ["blk-null.json", "blk-iscsi-array.json"].filter((f) => existsSync(join(results, f)));
  if (files.length === 0)
    return "_no result yet: run `npx xensim bench blk --profile null --json bench/results/blk-null.json`_";
  const rows = [
    "| store | ring pages | slots | queues | iodepth | IOPS | MB/s | p50 µs | p99 µs | p99.9 µs | mean outstanding | kicks per I/O |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const notes = [];
  for (const f of files) {
    const r = JSON.parse(readFileSync(join(results, f), "utf8"));
    for (const x of r.runs)
      rows.push(
        `| ${r.params.profile} | ${x.pages} | ${x.ring_slots} | ${x.queues} | ${x.iodepth} | ${x.iops} | ${x.mb_s} | ${x.clat_us.p50} | ${x.clat_us.p99} | ${x.clat_us.p99_9} | ${x.avg_outstanding} | ${x.notifications_per_io.total} |`,
      );
    const first = r.runs[0];
    const last = r.runs.at(-1);
    if (first && last && last !== first)
      notes.push(
        `${r.params.profile}: ${last.pages} pages ÷ ${first.pages} page = ${Math.round((last.iops / first.iops) * 10) / 10} × IOPS (one run)`,
      );
    notes.push(
      `\`${f}\`: ${r.params.rw} ${r.params.bs} B, ${r.params.durationMs / 1000} s per ring size, Node ${r.machine.node}`,
    );
  }
  rows.push("", ...notes.map((n) => `- ${n}`));
  return rows.join("\n");
}

const sections = {
  XENSTORE: xenstoreTable,
  HYPERVISOR: hypervisorTable,
  REPLICATION: replicationTable,
  BLK: blkTable,
};
let text = readFileSync(readme, "utf8");
for (const [name, fn] of Object.entries(sections)) {
  const re = new RegExp(`(<!-- BEGIN ${name} -->\\n)[\\s\\S]*?(<!-- END ${name} -->)`);
  text = text.replace(re, `$1${fn()}\n$2`);
}
writeFileSync(readme, text);
console.log("bench-readme: bench/README.md updated");
