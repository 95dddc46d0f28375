#!/usr/bin/env node
// Renders bench/results/*.json into the tables of bench/README.md (between the BEGIN/END markers).
//   node scripts/bench-readme.mjs
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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
  const nats = fl.nats_pub_recv;
  if (nats)
    rows.push(
      `| NATS publish → receive (floor) | two connections to nats-server, ping-pong | round trip | ${nats.round_trip.ops_per_s} | ${nats.round_trip.p50_us} | ${nats.round_trip.p99_us} | one way p50 ${nats.one_way_p50_us} µs, p99 ${nats.one_way_p99_us} µs |`,
    );
  const eventPlace = {
    "in-process-atomics": "receiver in a worker thread, Atomics wake-ups",
    link: "across host processes: the link (SEND → hypervisor's host → EVENT → shadow shared_info)",
    "bus-nats": "bus wake-ups through nats-server",
  };
  for (const e of r.events)
    rows.push(
      `| event send → handler | ${eventPlace[e.placement] ?? e.placement} | round trip | ${e.round_trip.ops_per_s} | ${e.round_trip.p50_us} | ${e.round_trip.p99_us} | one way p50 ${e.one_way_p50_us} µs (${e.vs_floor_waitasync_p50} × waitAsync floor${e.vs_nats_p50 !== undefined ? `, ${e.vs_nats_p50} × NATS publish → receive` : ""}), p99 ${e.one_way_p99_us} µs; ${e.events_per_s} events/s |`,
    );
  const grantPlace = {
    "in-process": "embedded host, atomics on the shared buffer",
    link: "dom0 in another host process: link requests",
    grpc: "standalone hypervisor process, gRPC",
  };
  for (const g of r.grants)
    rows.push(
      `| grant map+unmap | ${grantPlace[g.placement] ?? g.placement} | ${g.batch} ref${g.batch > 1 ? "s" : ""} per call | ${g.figures.ops_per_s} | ${g.figures.p50_us} | ${g.figures.p99_us} | ${g.grants_per_s} grants/s${g.grants_per_cpu_s !== undefined ? `; ${g.grants_per_cpu_s} per CPU-second (synchronous calls)` : ""} |`,
    );
  rows.push(
    `| gRPC unary (floor) | DomainInfo on the same connection | 1 call | ${fl.grpc_unary.ops_per_s} | ${fl.grpc_unary.p50_us} | ${fl.grpc_unary.p99_us} | |`,
    "",
    `Machine: ${r.machine.cpus} CPUs, Node ${r.machine.node}; ${r.duration_ms} ms per row, depth 1.`,
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

// The "Ring pages" section (xensim bench rings): profiles, commands, and a table per committed
// bench/results/rings-*.json (plots beside them as rings-*.svg).
function ringsSection() {
  const files = existsSync(results)
    ? readdirSync(results)
        .filter((f) => /^rings-.*\.json$/.test(f))
        .sort()
    : [];
  const out = [
    "## Ring pages: `xensim bench rings`",
    "",
    "What a bigger blkif ring buys: one fio-shaped job per ring size (1 page = 32 request slots … 64",
    "pages = 2048) through the whole block path — guest blkfront → shared ring → blkback → store, the",
    "embedded host of `bench blk` (`--placement embedded`), blkfront and blkback in two host processes",
    "(`--placement distributed`: host A, a child process, runs hypervisor, xenstored, page-server and",
    "the guest; host B, the bench process, runs page-server and blkback), or three (`--placement",
    "three-hosts`: the guest alone in host G with its page-server, hypervisor and xenstored in host A,",
    "blkback in host B — every kick goes G → A → B and back, forwarded with a fence). Across host",
    "processes the data plane is the link between the page-servers (`docs/data-plane.md`); NATS and",
    "gRPC carry only the control plane. The default iodepth fills the largest ring (its slots ×",
    "queues); a warm-up of min(1 s, duration ÷ 4) precedes the measured duration.",
    "",
    "```sh",
    "npx xensim bench rings --profile iscsi-array --json bench/results/rings-iscsi-array.json --plot bench/results/rings-iscsi-array.svg",
    "npx xensim bench rings --profile null --pages 1,64 --json bench/results/rings-null.json --plot bench/results/rings-null.svg",
    "npx xensim bench rings --profile null --placement distributed --pages 1,64 --duration 3 --json bench/results/rings-distributed-null.json --plot bench/results/rings-distributed-null.svg",
    "npx xensim bench rings --profile iscsi-array --placement distributed --pages 1,4,16,64 --duration 3 --json bench/results/rings-distributed-iscsi-array.json --plot bench/results/rings-distributed-iscsi-array.svg",
    "npx xensim bench rings --profile null --placement three-hosts --pages 1,64 --iodepth 256 --duration 3 --json bench/results/rings-three-hosts-null.json --plot bench/results/rings-three-hosts-null.svg",
    "node scripts/bench-readme.mjs",
    "```",
    "",
    "Options: `--pages 1,2,4,8,16,32,64 --profile iscsi-array|ssd|null --placement embedded|distributed|three-hosts",
    "--queues N --iodepth N --bs 4k --rw randread|randwrite|randrw --duration S --json FILE --plot FILE.svg",
    "--seed N` (`--nats URL` to use a running nats-server, `--no-ceiling` to skip the null store's ceiling).",
    "The JSON follows fio's schema where fio has the field (`jobs[]`: `jobname`, `read.iops`,",
    '`read.bw_bytes`, `read.clat_ns.percentile["99.000000"]`, …, `job_runtime`) and adds `pages`,',
    "`ring_slots`, `avg_outstanding`, `notifications_per_io`, `predicted_iops`, `predicted_clat_ms`,",
    "`ratio_to_prediction`, and for the null store `ceiling` and `ratio_to_ceiling`.",
    "",
    "Store profiles (`@xensim/blkstore` `ARRAY_PROFILES`; the prediction is its exact Mean Value Analysis",
    "`predict(profile, outstanding)` with outstanding = min(iodepth, ring slots × queues)):",
    "",
    "| profile | what | spindles × slots | stripe | service time | transport | capacity |",
    "|---|---|---:|---:|---|---:|---:|",
    "| `iscsi-array` | ~100 drives behind one iSCSI LUN | 100 × 4 | 64 KiB | lognormal, mean 5 ms, cv 0.5 | 2 ms | 80 000 IOPS |",
    "| `ssd` | one NVMe-like device | 8 × 4 | 16 KiB | lognormal, mean 0.1 ms, cv 0.3 | 0.02 ms | 320 000 IOPS |",
    "| `null` | no model: reads return zeros at once (`NullStore`) | – | – | 0 | 0 | the stack's own ceiling |",
    "",
    "With `iscsi-array` 32 outstanding I/Os see almost no queueing (32 ÷ 7 ms ≈ 4 500 IOPS) while 2048",
    "keep most spindle slots busy (≈ 75 000 IOPS): the model's 1 → 64 pages gain is ≈ 17×, the seed",
    'setting\'s "~15×". For `null`, the run also measures the raw shared-ring ceiling: a bare',
    "`SharedArrayBuffer` ring ping-pong at the same depth between the main thread (`FrontRing`) and a",
    "worker thread (`BackRing`) over `PageStore` frames, both sleeping in `Atomics.wait` and woken with",
    "`Atomics.notify` only when the ring's req_event/rsp_event ask for it — no grants, no event channels,",
    "no blkif encoding, no store — and reports the full stack as a fraction of it.",
    "",
  ];
  if (files.length === 0) {
    out.push("_no result yet: run the commands above_");
    return out.join("\n");
  }
  for (const f of files) {
    const r = JSON.parse(readFileSync(join(results, f), "utf8"));
    const isNull = r.profile === "null";
    const g = r["global options"];
    out.push(
      `### \`${f}\`: ${r.profile}, ${r.placement}, ${g.rw} ${g.bs} B, iodepth ${g.iodepth}, ${r.params.queues} queue(s), ${g.runtime} s per ring size`,
      "",
      `| pages | slots | IOPS | MB/s | p50 ms | p90 ms | p99 ms | p99.9 ms | mean outstanding | kicks per I/O | ${isNull ? "raw ring ceiling (round trips/s) | full stack ÷ ceiling" : "predicted IOPS | predicted mean ms (iodepth ÷ predicted IOPS) | measured mean ms | IOPS measured ÷ predicted"} |`,
      `|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|${isNull ? "---:|---:|" : "---:|---:|---:|---:|"}`,
    );
    const ms = (us) => Math.round(us / 10) / 100;
    for (const j of r.jobs) {
      const tail = isNull
        ? `${j.ceiling ? j.ceiling.iops : "–"} | ${j.ratio_to_ceiling ?? "–"} |`
        : `${j.predicted_iops} | ${j.predicted_clat_ms} | ${ms(j.clat_us.mean)} | ${j.ratio_to_prediction} |`;
      out.push(
        `| ${j.pages} | ${j.ring_slots} | ${j.iops} | ${j.mb_s} | ${ms(j.clat_us.p50)} | ${ms(j.clat_us.p90)} | ${ms(j.clat_us.p99)} | ${ms(j.clat_us.p99_9)} | ${j.avg_outstanding} | ${j.notifications_per_io} | ${tail}`,
      );
    }
    const first = r.jobs[0];
    const last = r.jobs.at(-1);
    out.push("");
    if (first && last && last !== first) {
      const gain = Math.round((last.iops / first.iops) * 10) / 10;
      const pg =
        first.predicted_iops && last.predicted_iops
          ? `; predicted ${Math.round((last.predicted_iops / first.predicted_iops) * 10) / 10} ×`
          : "";
      out.push(`- ${last.pages} pages ÷ ${first.pages} page: ${gain} × IOPS (one run)${pg}`);
    }
    out.push(
      `- plot: [\`${f.replace(/\.json$/, ".svg")}\`](results/${f.replace(/\.json$/, ".svg")}); Node ${r.machine.node}, ${r.machine.platform}`,
      "",
    );
  }
  out.push(
    "What it shows (ratios from one run each; the machine is 2 shared vCPUs, so re-run on a quiet",
    "machine before comparing): with `iscsi-array` the gain from 1 to 64 pages follows the queueing",
    "model — below ~16 pages the ring, not the array, bounds the outstanding I/O; at 32–64 pages the",
    "whole path must carry ~70–75k IOPS, which it does on a quiet machine but not when other test",
    "suites share the two vCPUs (then the 32/64-page ratios fall to 0.6–0.8: the blkback thread is",
    "CPU-bound). The null store shows what the path itself costs per I/O against the bare ring: the",
    "guest thread (workload + blkfront) is the bottleneck since issue 17 (before, blkback was: the",
    "store's zero-fill of each read and per-I/O metrics); where each thread's time goes is in the",
    "per-I/O cost section below (`--cpu-profile`).",
    "Distributed (NATS wake-ups, page-server replication, gRPC grant calls) is two orders of",
    "magnitude below embedded: across host processes the path carries 2–4k IOPS whatever the ring",
    "size, so the array's gain from more ring pages does not show there (`rings-distributed-iscsi-array`).",
    "(An asynchronously completing store across hosts used to fail: page replication coalesced writes",
    "across a gap and sent one side's stale copy of the other side's ring words; fixed by replicating",
    "exactly the bytes written.)",
  );
  return out.join("\n").trimEnd();
}

function ioreqDistributedRows(d, loop) {
  if (!d.measured) return [`| device model in another host process | | not measured | | | ${d.reason} |`];
  const b = d.buffered;
  const routes = Object.entries(b.routes)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return [
    `| synchronous port read, device model in another host process (over the link${d.device_model === "ioreq-thread" ? "; its ioreq thread" : ""}) | round trip | ${d.sync_pio.ops_per_s} | ${d.sync_pio.p50_us} | ${d.sync_pio.p99_us} | ${d.vs_floor_wait_p50} × wait floor, ${d.vs_embedded_p50} × embedded |`,
    ...(loop
      ? [
          `| the same, host B's emulator on its event loop (\`ioreqThread: false\`) | round trip | ${loop.sync_pio.ops_per_s} | ${loop.sync_pio.p50_us} | ${loop.sync_pio.p99_us} | ${loop.vs_floor_wait_p50} × wait floor, ${loop.vs_embedded_p50} × embedded |`,
        ]
      : []),
    `| buffered VGA stores, device model in another host process | one 4-byte store | ${b.writes_per_s} | | | ${routes} |`,
  ];
}

function ioreqTable() {
  const f = join(results, "ioreq.json");
  if (!existsSync(f)) return "_no result yet: run `npx xensim bench ioreq --json bench/results/ioreq.json`_";
  const r = JSON.parse(readFileSync(f, "utf8"));
  const e = r.embedded;
  const fw = r.floor.atomics_wait;
  const fa = r.floor.atomics_waitasync;
  const b = e.buffered;
  const routes = Object.entries(b.routes)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return [
    "| what | per op | ops/s | p50 µs | p99 µs | p50 ÷ floor |",
    "|---|---|---:|---:|---:|---|",
    `| Atomics ping-pong (floor), Atomics.wait both sides | round trip | ${fw.ops_per_s} | ${fw.p50_us} | ${fw.p99_us} | 1 |`,
    `| Atomics ping-pong (floor), partner in Atomics.waitAsync | round trip | ${fa.ops_per_s} | ${fa.p50_us} | ${fa.p99_us} | 1 |`,
    `| synchronous port read, embedded (vCPU trap → resume; device model's ioreq thread) | round trip | ${e.sync_pio.ops_per_s} | ${e.sync_pio.p50_us} | ${e.sync_pio.p99_us} | ${e.vs_floor_wait_p50} × wait floor, ${e.vs_floor_waitasync_p50} × waitAsync floor |`,
    ...(r.embedded_event_loop
      ? [
          `| the same, emulator on the service's event loop (\`ioreqThread: false\`) | round trip | ${r.embedded_event_loop.sync_pio.ops_per_s} | ${r.embedded_event_loop.sync_pio.p50_us} | ${r.embedded_event_loop.sync_pio.p99_us} | ${r.embedded_event_loop.vs_floor_wait_p50} × wait floor, ${r.embedded_event_loop.vs_floor_waitasync_p50} × waitAsync floor |`,
        ]
      : []),
    `| buffered VGA stores, embedded | one 4-byte store | ${b.writes_per_s} | | | ${routes} |`,
    ...ioreqDistributedRows(r.distributed, r.distributed_event_loop),
    "",
    `Machine: ${r.machine.cpus} CPUs, Node ${r.machine.node}${r.machine.load_average ? `, load average ${r.machine.load_average.join(" / ")} (1 / 5 / 15 min) at the end of the run` : ""}; ${r.duration_ms} ms per row, depth 1, vCPU spin ${e.spin}. One run on a shared, loaded machine.`,
  ].join("\n");
}

function linkTable() {
  const f = join(results, "link.json");
  if (!existsSync(f)) return "_no result yet: run `npx xensim bench link --json bench/results/link.json`_";
  const r = JSON.parse(readFileSync(f, "utf8"));
  const lat = new Map(r.latency.map((l) => [l.transport, l]));
  const nats = lat.get("nats-pub-recv");
  const rows = [
    "| transport | records/s | I/Os/s | MB/s | frames/s | one record, one way p50 µs | p99 µs | p50 ÷ NATS pub→recv p50 |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const s of r.stream) {
    const l = lat.get(s.transport);
    rows.push(
      `| ${s.transport} | ${s.records_per_s} | ${s.ios_per_s} | ${s.mb_per_s} | ${s.frames_per_s} | ${l?.one_way_p50_us ?? ""} | ${l?.one_way_p99_us ?? ""} | ${l && nats ? Math.round((l.one_way_p50_us / nats.one_way_p50_us) * 100) / 100 : ""} |`,
    );
  }
  if (nats)
    rows.push(
      `| NATS publish → receive (floor of the event plane) | | | | | ${nats.one_way_p50_us} | ${nats.one_way_p99_us} | 1 |`,
    );
  rows.push(
    "",
    `Frames of ${r.stream[0]?.frame_bytes ?? "?"} bytes (${r.ios_per_frame} I/Os: 4 KiB page + 112-byte slot + 4-byte index + kick), ${r.window} frames in flight, ${r.duration_ms} ms per transport; Node ${r.machine.node}. Fastest: ${r.fastest}.`,
  );
  // The link with credentials (mutual TLS) against the same framed stream without, same run.
  const by = new Map(r.stream.map((s) => [s.transport, s]));
  const tlsRatios = ["tcp", "unix"]
    .filter((k) => by.has(`${k}-framed`) && by.has(`${k}-tls-framed`))
    .map((k) => {
      const plain = by.get(`${k}-framed`);
      const tls = by.get(`${k}-tls-framed`);
      const lp = lat.get(`${k}-framed`);
      const lt = lat.get(`${k}-tls-framed`);
      const rate = Math.round((tls.records_per_s / plain.records_per_s) * 100) / 100;
      const p50 = lp && lt ? `, one-way p50 ${lt.one_way_p50_us} µs vs ${lp.one_way_p50_us} µs` : "";
      return `${k}: ${rate} × the records/s of the plain stream${p50}`;
    });
  if (tlsRatios.length > 0)
    rows.push("", `Mutual TLS (the link with credentials) in the same run — ${tlsRatios.join("; ")}.`);
  return rows.join("\n");
}

function displayTable() {
  const f = join(results, "display.json");
  if (!existsSync(f))
    return "_no result yet: run `npx xensim bench display --json bench/results/display.json`_";
  const r = JSON.parse(readFileSync(f, "utf8"));
  const ceiling = (w, h) => r.copy_ceiling.find((c) => c.width === w && c.height === h)?.frames_per_s ?? "-";
  const rows = [
    "| placement | resolution (XRGB8888) | buffer pages | flips/s | flip→event p50 µs | p99 µs | frame-copy ceiling /s (same run) |",
    "|---|---|---:|---:|---:|---:|---:|",
  ];
  for (const x of r.runs)
    rows.push(
      `| ${x.placement} | ${x.width}×${x.height} | ${x.buffer_pages} | ${x.flips.ops_per_s} | ${x.flips.p50_us} | ${x.flips.p99_us} | ${ceiling(x.width, x.height)} |`,
    );
  rows.push(
    "",
    `Machine: ${r.machine.cpus} CPUs, Node ${r.machine.node}; ${r.duration_ms} ms per row, one flip in flight; ${r.date}.`,
  );
  return rows.join("\n");
}

/** bench/results/chaos-soak.json (`xensim chaos soak`): the soak's counts, and what it found. */
function chaosTable() {
  const path = join(results, "chaos-soak.json");
  if (!existsSync(path)) return "_no result yet: run the command above_";
  const { soak: s } = JSON.parse(readFileSync(path, "utf8"));
  const rows = [
    "| schedules run | scenarios | fault kinds covered | acknowledged writes lost | leaks | one-response violations | liveness failures | broken components caught | serializability violations | wall time | hosts started |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    `| ${s.schedulesRun} | ${s.scenarios} | ${s.faultKindsCovered.length} of ${s.faultKinds} | ${s.acknowledgedWritesLost} | ${s.leaks} | ${s.responseViolations} | ${s.livenessFailures} | ${s.brokenComponentsCaught} | ${s.serializabilityViolations ?? "not checked"} | ${Math.round(s.durationMs / 1000)} s | ${s.hostsStarted ?? s.schedulesRun} |`,
    "",
    `Not covered: ${s.faultKindsNotCovered.length ? s.faultKindsNotCovered.join(", ") : "none"}. Started ${s.startedAt}${s.shortWindowMs ? `; every schedule scaled into a ${s.shortWindowMs} ms fault window on a shared host (\`--short ${s.shortWindowMs}\`)` : "; a fresh host per schedule"}${s.timeBoundHit ? "; stopped by its time bound (--max-minutes)" : ""}${s.errors ? `; ${s.errors} schedule(s) ended in an error` : ""}.`,
  ];
  if (s.phasesMeanMs && Object.keys(s.phasesMeanMs).length > 0)
    rows.push(
      "",
      `Mean phases of a schedule (ms): ${Object.entries(s.phasesMeanMs)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ", ",
        )}${s.loadAverage ? `; load average ${s.loadAverage.start} at the start, ${s.loadAverage.end} at the end` : ""}.`,
    );
  if ((s.faultConsequences ?? []).length > 0) {
    rows.push(
      "",
      "Expected consequences of a fault (not passes, not defects: a loss no Xen stack survives):",
      "",
      "| scenario | seed | fault | failed checks | evidence | replay |",
      "|---|---:|---|---|---|---|",
    );
    for (const c of s.faultConsequences)
      rows.push(
        `| ${c.scenario} | ${c.seed} | ${c.kind} | ${c.failed.join(", ")} | ${c.evidence.join("; ")} | \`${c.replay}\` |`,
      );
  }
  if (s.unexpectedVerdicts.length > 0) {
    rows.push("", "| scenario | seed | verdict | failed checks | replay |", "|---|---:|---|---|---|");
    for (const u of s.unexpectedVerdicts)
      rows.push(`| ${u.scenario} | ${u.seed} | ${u.verdict} | ${u.failed.join(", ")} | \`${u.replay}\` |`);
  }
  return rows.join("\n");
}

/** The ring-page sweep inside docker-compose (deploy/ring-sweep.mjs): bench/results/compose-rings-*.json. */
function composeRingsSection() {
  const files = existsSync(results)
    ? readdirSync(results)
        .filter((f) => /^compose-rings-.*\.json$/.test(f))
        .sort()
    : [];
  const out = [
    "## Ring pages inside docker-compose",
    "",
    "The same sweep in the compose deployment: the sweep's guest is built in the `host-a` container's",
    "process, blkback in its own container, the link between them over the compose network (TCP,",
    "mutual TLS with the deployment's keys). One 4 KiB randread job per ring size, one queue,",
    "iodepth = the ring's slots, against blkback's null store. (The committed run used a variant of",
    "docker-compose.yml whose guest runtime service ran in a container of its own, idle during the",
    "sweep; the sweep's path — host-a, the link, blkback — is the same.)",
    "",
    "```sh",
    "docker-compose up -d",
    `docker-compose exec -T host-a node deploy/ring-sweep.mjs '{"pages":[1,4,16,64],"profile":"null","seconds":3}' > bench/results/compose-rings-null.json`,
    "node scripts/bench-readme.mjs",
    "```",
    "",
  ];
  if (files.length === 0) {
    out.push("_no result yet: run the commands above_");
    return out.join("\n");
  }
  for (const f of files) {
    const r = JSON.parse(readFileSync(join(results, f), "utf8"));
    out.push(
      `### \`${f}\`: ${r.profile}, ${r.params.seconds} s per ring size, Node ${r.machine.node}${r.load ? `, load ${r.load.join(" → ")}` : ""}`,
      "",
      "| pages | slots (iodepth) | IOPS | p50 µs | p99 µs | I/Os |",
      "|---:|---:|---:|---:|---:|---:|",
    );
    for (const j of r.jobs)
      out.push(
        `| ${j.pages} | ${j.ring_slots} | ${j.iops} | ${j.clat_us.p50} | ${j.clat_us.p99} | ${j.ios} |`,
      );
    const first = r.jobs[0];
    const last = r.jobs.at(-1);
    if (first && last && last !== first)
      out.push(
        "",
        `- ${last.pages} pages ÷ ${first.pages} page: ${Math.round((last.iops / first.iops) * 100) / 100} × IOPS (one run)`,
      );
    if (r.same_window)
      out.push(
        `- same window, \`${r.same_window.command}\` (bare host processes, no TLS, ${r.same_window.started_after_s} s later, load ${r.same_window.load.join(" ")}): ${r.same_window.jobs.map((j) => `${j.pages} p ${j.iops}`).join(", ")} IOPS`,
      );
    out.push("");
  }
  out.push(
    "What it shows: IOPS follow the ring up to 16 pages (32 → 512 requests in flight), then the path",
    "is CPU-bound and 64 pages only queue (p50 grows with the depth). Where the time goes (CPU",
    "profiles of host-a and blkback, `node --cpu-prof` as their entrypoint, a 64-page job): the link",
    "threads, not the drivers — in blkback's link thread `writev` (TLS encryption of ~4.4 KB per read",
    "plus the TCP send) is 1.9 s of its 3.2 s busy; in host-a's link thread `writev` 1.0 s, GC 0.8 s,",
    "`Atomics.notify` 0.5 s, applying ranges 0.4 s of 4.1 s; blkfront + the job 1.6 s, blkback's",
    "rings 0.6 s. Per I/O (link counters): 0.07–0.12 DATA frames and 0.02–0.08 event deliveries each",
    "way — batching holds at every ring size, so the ring is not what limits it. Found on the way: at",
    "load 30–70 the link retransmits (acks later than 200 ms) and a retransmitted frame's buffer could",
    "be reused while still queued, so the receiver read a garbled frame (`LinkCodecError`) and dropped",
    "the connection — fixed (a retransmission is a copy); whether it caused the earlier runs' collapse",
    "at 64 pages is not shown. Unix sockets on a shared volume (`linkSocketDir`) were tried once",
    "before that fix, at load 30: frames garbled the same way; not re-measured, not used. Re-run on a",
    "quiet machine before reading figures: two shared cores, load in the title.",
  );
  return out.join("\n").trimEnd();
}

function traceCostTable() {
  const f = join(results, "trace-cost.json");
  if (!existsSync(f))
    return "_no result yet: run `npx xensim bench trace-cost --json bench/results/trace-cost.json`_";
  const r = JSON.parse(readFileSync(f, "utf8"));
  return [
    "| path | off: ns/op | listening: ns/op | listening ÷ off | trace records per op |",
    "|---|---:|---:|---:|---:|",
    ...r.rows.map(
      (x) =>
        `| ${x.op} | ${x.off.ns_per_op} | ${x.listening.ns_per_op} | ${x.listening_vs_off} | ${x.records_per_op} |`,
    ),
    "",
    `Machine: ${r.machine.cpus} CPUs, Node ${r.machine.node}; ${r.rounds} rounds per mode of ${r.round_ms} ms (the rings row ${2 * r.round_ms} ms), alternating off/listening (ABBA); medians. One run on a shared, loaded machine.`,
  ].join("\n");
}

/** Issue 17, wave 4: bench/results/perf5-*.json (zero copy on the null path, grants, array, distributed). */
function perf5Section(read) {
  const out = [];
  const loadOf = (r) => {
    const l = r?.machine?.load_average;
    return Array.isArray(l)
      ? `load average ${l.map((x) => Math.round(x * 10) / 10).join(", ")}`
      : "load not recorded";
  };
  const busy = (j, t) => {
    const p = j.profile?.find((x) => x.thread === t);
    return p ? `${Math.round(p.busy_fraction * 100)} %` : "-";
  };
  const top = (j, t, n) =>
    (j.profile?.find((x) => x.thread === t)?.top ?? [])
      .filter((x) => x.frame !== "(idle)")
      .slice(0, n)
      .map((x) => `${x.self_pct} % \`${x.frame}\``)
      .join(", ");
  for (const f of ["perf5-rings-null.json", "perf5-rings-null-poll.json"]) {
    const nul = read(f);
    if (!nul) continue;
    out.push(
      `### Wave 4: null store, embedded, 4 KiB randread, iodepth 2048, zero copy${nul.params?.frontPollUs ? `, blkfront polls ${nul.params.frontPollUs} µs` : ""} ÷ raw ring ceiling (same run)`,
      "",
      "| pages | IOPS | raw ring ceiling | ÷ ceiling | requests on the job's own pages per I/O | guest busy | blkback busy | blkback's top frames (self time) |",
      "|---:|---:|---:|---:|---:|---:|---:|---|",
    );
    for (const j of nul.jobs)
      out.push(
        `| ${j.pages} | ${j.iops} | ${j.ceiling?.iops ?? "-"} | ${j.ratio_to_ceiling ?? "-"} | ${j.zero_copy_per_io ?? "-"} | ${busy(j, "main")} | ${busy(j, "blkback")} | ${top(j, "blkback", 4)} |`,
      );
    out.push("", `- \`${f}\` (data path: ${nul.data_path ?? "-"}), ${loadOf(nul)}.`, "");
  }
  const ab = [read("perf5-ab-rings-null-nopoll.json"), read("perf5-ab-rings-null-poll.json")];
  if (ab[0] && ab[1]) {
    out.push(
      "### Wave 4: blkfront poll off → on, back to back (null, zero copy, 64 pages, 3 s)",
      "",
      "| blkfront poll | IOPS | ÷ ceiling | back → front kicks per I/O | load |",
      "|---|---:|---:|---:|---|",
    );
    for (const r of ab)
      for (const j of r.jobs)
        out.push(
          `| ${r.params?.frontPollUs ? `${r.params.frontPollUs} µs` : "off"} | ${j.iops} | ${j.ratio_to_ceiling ?? "-"} | ${j.notifications?.back_to_front ?? "-"} | ${loadOf(r)} |`,
        );
    out.push("");
  }
  const hv = read("perf5-hypervisor.json");
  if (hv) {
    out.push(
      "### Wave 4: in-process grant map+unmap (`xensim bench hypervisor`)",
      "",
      "| refs per call | grants/s | per CPU-second of the thread |",
      "|---:|---:|---:|",
    );
    for (const g of hv.grants.filter((x) => x.placement === "in-process"))
      out.push(`| ${g.batch} | ${g.grants_per_s} | ${g.grants_per_cpu_s ?? "-"} |`);
    out.push("", `- \`perf5-hypervisor.json\`, ${loadOf(hv)}.`, "");
  }
  const arrs = ["perf5-rings-iscsi-array.json", "perf5-rings-iscsi-array-zero-copy.json"]
    .map((f) => [f, read(f)])
    .filter(([, r]) => r);
  if (arrs.length > 0) {
    out.push(
      "### Wave 4: array profile, embedded (one run each, back to back)",
      "",
      "| run | data path | pages | IOPS | predicted IOPS | ÷ prediction | 64 pages ÷ 1 page | load |",
      "|---|---|---:|---:|---:|---:|---:|---|",
    );
    for (const [f, arr] of arrs) {
      const [a, b] = [arr.jobs[0], arr.jobs.at(-1)];
      for (const j of arr.jobs)
        out.push(
          `| \`${f}\` | ${arr.data_path ?? "-"} | ${j.pages} | ${j.iops} | ${j.predicted_iops} | ${j.ratio_to_prediction} | ${j === b ? `${Math.round((b.iops / a.iops) * 10) / 10} ×` : ""} | ${loadOf(arr)} |`,
        );
    }
    out.push("");
  }
  const dist = read("perf5-rings-distributed-null.json");
  if (dist) {
    out.push(
      "### Wave 4: distributed placement, null store (persistent grants: of wave 4 only the grant-ref free list is on this path; no before run in the same window)",
      "",
      "| pages | IOPS | load |",
      "|---:|---:|---|",
    );
    for (const j of dist.jobs) out.push(`| ${j.pages} | ${j.iops} | ${loadOf(dist)} |`);
    out.push("");
  }
  if (out.length > 0) out.push("### Wave 3 (earlier runs)", "");
  return out;
}

/** Issue 17, wave 3: bench/results/perf3-*.json (each before/after pair from one window of time). */
function perf3Section(read) {
  const out = [];
  const loadOf = (r) => {
    const l = r?.machine?.load_average;
    return Array.isArray(l)
      ? `load average ${l.map((x) => Math.round(x * 10) / 10).join(", ")}`
      : "load not recorded";
  };
  const hvBefore = read("perf3-before-hypervisor.json");
  const hvAfter = read("hypervisor.json");
  if (hvBefore && hvAfter) {
    out.push(
      "### Wave 3: in-process grant map+unmap (`xensim bench hypervisor`, before → after, same window)",
      "",
      "| refs per call | grants/s before | grants/s after | per CPU-second before | per CPU-second after |",
      "|---:|---:|---:|---:|---:|",
    );
    for (const b of hvBefore.grants.filter((g) => g.placement === "in-process")) {
      const a = hvAfter.grants.find((g) => g.placement === "in-process" && g.batch === b.batch);
      out.push(
        `| ${b.batch} | ${b.grants_per_s} | ${a?.grants_per_s ?? "-"} | ${b.grants_per_cpu_s ?? "-"} | ${a?.grants_per_cpu_s ?? "-"} |`,
      );
    }
    out.push(
      "",
      `- before: ${loadOf(hvBefore)}; after: ${loadOf(hvAfter)}. Wall-clock grants/s is what this thread got of 2 shared cores; per CPU-second is the cost of the call itself.`,
      "",
    );
  }
  const rounds = [
    ["perf3-before-rings-distributed-null.json", "perf3-after-rings-distributed-null.json"],
    ["perf3-before2-rings-distributed-null.json", "perf3-after2-rings-distributed-null.json"],
  ]
    .map(([b, a]) => [read(b), read(a)])
    .filter(([b, a]) => b && a);
  if (rounds.length > 0) {
    out.push(
      "### Wave 3: distributed placement, null store, 1 and 64 pages (before → after, alternating rounds)",
      "",
      "| round | pages | IOPS before | IOPS after | load before | load after |",
      "|---:|---:|---:|---:|---|---|",
    );
    rounds.forEach(([b, a], i) => {
      for (const j of b.jobs) {
        const x = a.jobs.find((y) => y.pages === j.pages);
        out.push(`| ${i + 1} | ${j.pages} | ${j.iops} | ${x?.iops ?? "-"} | ${loadOf(b)} | ${loadOf(a)} |`);
      }
    });
    out.push("");
  }
  const arrs = [
    "perf3-rings-iscsi-array-under-unit-tests.json",
    "perf3-rings-iscsi-array-under-unit-tests-2.json",
  ]
    .map((f) => [f, read(f)])
    .filter(([, r]) => r);
  if (arrs.length > 0) {
    const busy = (j, t) => {
      const p = j.profile?.find((x) => x.thread === t);
      return p ? `${Math.round(p.busy_fraction * 100)} %` : "-";
    };
    out.push(
      "### Wave 3: array profile, embedded, while the unit tests (`run-tests.mjs --unit`) ran on the same machine",
      "",
      "| run | pages | IOPS | predicted IOPS | ÷ prediction | guest busy | blkback busy |",
      "|---|---:|---:|---:|---:|---:|---:|",
    );
    for (const [f, arr] of arrs)
      for (const j of arr.jobs)
        out.push(
          `| \`${f}\` | ${j.pages} | ${j.iops} | ${j.predicted_iops} | ${j.ratio_to_prediction} | ${busy(j, "main")} | ${busy(j, "blkback")} |`,
        );
    out.push("");
    for (const [f, arr] of arrs) {
      const [a, b] = [arr.jobs[0], arr.jobs.at(-1)];
      out.push(
        `- \`${f}\`: ${b.pages} pages ÷ ${a.pages} page: ${Math.round((b.iops / a.iops) * 10) / 10} × IOPS (${loadOf(arr)})`,
      );
    }
    out.push("");
  }
  const nul = read("perf3-rings-null.json");
  if (nul) {
    out.push(
      "### Wave 3: null store, embedded, 4 KiB randread, iodepth 2048 ÷ raw ring ceiling (same run)",
      "",
      "| pages | IOPS | raw ring ceiling | ÷ ceiling | guest busy | guest's top frames (self time) |",
      "|---:|---:|---:|---:|---:|---|",
    );
    for (const j of nul.jobs) {
      const g = j.profile?.find((x) => x.thread === "main");
      const top = (g?.top ?? [])
        .filter((t) => t.frame !== "(idle)")
        .slice(0, 4)
        .map((t) => `${t.self_pct} % \`${t.frame}\``)
        .join(", ");
      out.push(
        `| ${j.pages} | ${j.iops} | ${j.ceiling?.iops ?? "-"} | ${j.ratio_to_ceiling} | ${g ? Math.round(g.busy_fraction * 100) : "-"} % | ${top} |`,
      );
    }
    out.push(
      "",
      `- \`perf3-rings-null.json\`, ${loadOf(nul)}: the persistent-grant path, as wave 2 measured it.`,
      "",
    );
  }
  if (out.length > 0) out.push("### Wave 2 (earlier runs)", "");
  return out;
}

/** Issue 17 (the per-I/O cost): bench/results/perf-*.json beside rings-null.json and hypervisor.json. */
function perfSection() {
  const read = (f) =>
    existsSync(join(results, f)) ? JSON.parse(readFileSync(join(results, f), "utf8")) : undefined;
  const out = [...perf5Section(read), ...perf3Section(read)];
  const nullRun = (label, r) => {
    if (!r) return;
    for (const j of r.jobs)
      out.push(
        `| ${label} | ${j.pages} | ${j.iops} | ${j.ceiling?.iops ?? "-"} | ${j.ratio_to_ceiling ?? "-"} | ${j.notifications_per_io} |`,
      );
  };
  out.push(
    "### Null store, embedded, 4 KiB randread, iodepth 2048: full stack ÷ raw ring ceiling (same run)",
    "",
  );
  out.push(
    "| run | pages | IOPS | raw ring ceiling (round trips/s) | ÷ ceiling | kicks per I/O |",
    "|---|---:|---:|---:|---:|---:|",
  );
  nullRun("before (`perf-before-rings-null.json`)", read("perf-before-rings-null.json"));
  const after = read("rings-null.json");
  nullRun("after (`rings-null.json`)", after);
  const j64 = after?.jobs.find((j) => j.pages === 64);
  if (j64?.profile) {
    out.push(
      "",
      `Where the time goes at 64 pages (\`--cpu-profile\`: self time per thread in the measured window of \`rings-null.json\`):`,
      "",
    );
    const threads = j64.profile.filter((t) => t.thread === "main" || t.thread === "blkback");
    const head = `| # | ${threads.map((t) => `${t.thread === "main" ? "guest (main thread: workload + blkfront)" : t.thread} — busy ${Math.round(t.busy_fraction * 100)} %`).join(" | ")} |`;
    out.push(head, `|---:|${threads.map(() => "---").join("|")}|`);
    for (let i = 0; i < 10; i++) {
      const cells = threads.map((t) => (t.top[i] ? `${t.top[i].self_pct} % \`${t.top[i].frame}\`` : ""));
      if (cells.every((c) => c === "")) break;
      out.push(`| ${i + 1} | ${cells.join(" | ")} |`);
    }
  }
  const dist = [read("perf-before-rings-distributed-null.json"), read("rings-distributed-null.json")];
  if (dist[0] && dist[1]) {
    out.push("", "### Distributed placement, null store, 1 and 64 pages (before → after)", "");
    out.push("| pages | IOPS before | IOPS after |", "|---:|---:|---:|");
    for (const j of dist[0].jobs) {
      const a = dist[1].jobs.find((x) => x.pages === j.pages);
      out.push(`| ${j.pages} | ${j.iops} | ${a?.iops ?? "-"} |`);
    }
  }
  const arr = read("perf-rings-iscsi-array-under-npm-test.json");
  if (arr) {
    const [a, b] = [arr.jobs[0], arr.jobs.at(-1)];
    out.push("", "### Array profile, embedded, while `npm test` ran on the same machine", "");
    out.push("| pages | IOPS | predicted IOPS | ÷ prediction |", "|---:|---:|---:|---:|");
    for (const j of arr.jobs)
      out.push(`| ${j.pages} | ${j.iops} | ${j.predicted_iops} | ${j.ratio_to_prediction} |`);
    out.push(
      "",
      `- ${b.pages} pages ÷ ${a.pages} page: ${Math.round((b.iops / a.iops) * 10) / 10} × IOPS (one run; ${arr.load ?? "npm test running alongside"})`,
    );
  }
  // mq-null-q<q>-threads-<on|off>.json: one window, the six runs interleaved
  const mq = readdirSync(results)
    .filter((f) => /^mq-.*\.json$/.test(f))
    .map((f) => read(f))
    .sort(
      (x, y) =>
        (x.params.queueThreads ? 1 : 0) - (y.params.queueThreads ? 1 : 0) ||
        x.params.queues - y.params.queues,
    );
  if (mq.length > 0) {
    out.push("", "### Multi-queue: null store, embedded, 4 KiB randread", "");
    out.push(
      "| queues | blkback threads | guest threads | pages per ring | iodepth | IOPS | ÷ 1 queue | ÷ threads off | kicks per I/O | guest thread busy | blkback threads busy | load average |",
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    );
    // --cpu-profile runs: each thread's busy share in the measured window (blkfront for every queue
    // and the workload run on the bench's main thread: the guest's one thread)
    const busy = (j, name) =>
      (j.profile ?? [])
        .filter((x) => x.thread === name)
        .map((t) => `${Math.round(t.busy_fraction * 100)} %`)
        .join(" + ");
    const iopsOf = (threads, queues) =>
      mq.find((x) => !!x.params.queueThreads === threads && x.params.queues === queues)?.jobs[0].iops;
    const ratio = (a, b) => (a && b ? Math.round((a / b) * 100) / 100 : "–");
    for (const r of mq)
      for (const j of r.jobs) {
        const threads = !!r.params.queueThreads;
        out.push(
          `| ${r.params.queues} | ${threads ? r.params.queues : 1} | 1 | ${j.pages} | ${j.iodepth} | ${j.iops} | ${ratio(j.iops, iopsOf(threads, 1))} | ${threads ? ratio(j.iops, iopsOf(false, r.params.queues)) : 1} | ${j.notifications_per_io} | ${busy(j, "main")} | ${busy(j, "blkback")} | ${(r.machine?.load_average ?? []).map((x) => Math.round(x)).join(", ")} |`,
        );
      }
  }
  return out.join("\n").trimEnd();
}

const sections = {
  PERF: perfSection,
  CHAOS: chaosTable,
  LINK: linkTable,
  DISPLAY: displayTable,
  XENSTORE: xenstoreTable,
  HYPERVISOR: hypervisorTable,
  BLK: blkTable,
  RINGS: ringsSection,
  IOREQ: ioreqTable,
  "TRACE-COST": traceCostTable,
  "COMPOSE-RINGS": composeRingsSection,
};
let text = readFileSync(readme, "utf8");
for (const [name, fn] of Object.entries(sections)) {
  const re = new RegExp(`(<!-- BEGIN ${name} -->\\n)[\\s\\S]*?(<!-- END ${name} -->)`);
  text = text.replace(re, `$1${fn()}\n$2`);
}
writeFileSync(readme, text);
console.log("bench-readme: bench/README.md updated");
