#!/usr/bin/env node
// The ring-page sweep inside compose: `docker-compose exec host-a node deploy/ring-sweep.mjs
// ['{"pages":[1,4,16,64],"profile":"null","seconds":3}']`. For each ring size, a guest in host-a
// (deploy/guest.mjs, through this host's XENSIM_CONTROL_PORT) opens a new disk served by the blkback
// container — one queue of `pages` ring pages, iodepth = the ring's slots (32 per page) — and runs a
// time-bound 4 KiB randread job over the link between the containers. Prints one JSON document
// (bench/results/compose-rings-null.json; `node scripts/bench-readme.mjs` renders its table).
import { loadavg } from "node:os";

const loadBefore = loadavg()[0];
const port = Number(process.env.XENSIM_CONTROL_PORT ?? 9101);
const o = {
  pages: [1, 4, 16, 64],
  profile: "null",
  seconds: 3,
  bs: 4096,
  ...JSON.parse(process.argv[2] ?? "{}"),
};
const params = o.profile === "null" ? "null:size=1G" : `array:profile=${o.profile},size=8G,seed=7,data=null`;
const jobs = [];
for (const pages of o.pages) {
  const order = Math.log2(pages);
  if (!Number.isInteger(order) || order < 0 || order > 6)
    throw new Error(`pages ${pages}: a power of two, 1..64`);
  const slots = 32 * pages;
  const r = await fetch(`http://127.0.0.1:${port}/guest-io`, {
    method: "POST",
    body: JSON.stringify({
      params,
      rw: "randread",
      bs: o.bs,
      iodepth: slots,
      ringPageOrder: order,
      queues: 1,
      indirect: 0,
      runtimeMs: o.seconds * 1000,
      rampMs: Math.min(1000, (o.seconds * 1000) / 4),
      verify: false,
      seed: pages,
    }),
    signal: AbortSignal.timeout(o.seconds * 1000 + 180_000),
  });
  const out = await r.json();
  if (!out.ok) {
    console.error(JSON.stringify(out));
    process.exit(1);
  }
  jobs.push({
    pages,
    ring_slots: slots,
    iodepth: slots,
    iops: out.iops,
    clat_us: out.clatUs,
    ios: out.ios,
    ring_pages_negotiated: out.pages,
  });
}
console.log(
  JSON.stringify(
    {
      bench: "rings-compose",
      timestamp: Math.round(Date.now() / 1000),
      placement:
        "compose: the guest in host-a, blkback in its own container, the link between them (TCP, mutual TLS)",
      profile: o.profile,
      params: { ...o, rw: "randread", queues: 1 },
      machine: { node: process.version, platform: `${process.platform}-${process.arch}` },
      // the machine's 1-minute load average before and after (2 shared cores: read ratios, not figures)
      load: [Math.round(loadBefore * 10) / 10, Math.round(loadavg()[0] * 10) / 10],
      jobs,
    },
    null,
    1,
  ),
);
