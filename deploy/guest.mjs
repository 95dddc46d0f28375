// A guest doing I/O in the hypervisor's host process (deploy/host.mjs; its memory is this host's page
// store): dom0 builds the domain (buildGuest), writes a vbd's xenstore directories the way libxl
// does, and the guest kernel's blkfront connects to whichever blkback serves dom0's backend
// directory — in docker-compose.yml, the blkback container, across host processes: what the guest
// writes and its kicks reach it over this host's link (docs/data-plane.md). Then a fio-like
// write-verify job (crc32c) runs through blkfront → ring → blkback.
import { applyVbdDirectories, vbdDirectories } from "@xensim/libxl";
import { connectNatsBus, createGrpcCallClient, createInProcessCallClient } from "@xensim/bus";
import { inboxPrefix, loadCredentials } from "@xensim/security";
import { buildGuest, GuestKernel } from "@xensim/guest";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { runJob } from "@xensim/workload";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore } from "@xensim/xenstore-client";

let shared;
let disks = 0;
let queue = Promise.resolve();

async function setup(host, natsUrl) {
  // With the deployment's credentials (XENSIM_KEYS) this acts as its admin client: its nkey on
  // NATS, and its identity on the in-process xenstored session (watch events under its token).
  const admin = process.env.XENSIM_KEYS
    ? loadCredentials(process.env.XENSIM_KEYS, { client: "admin" })
    : undefined;
  const bus = await connectNatsBus({
    servers: natsUrl,
    name: `${host.hostId}/guest-io`,
    ...(admin ? { nkeySeed: admin.natsSeed, inboxPrefix: inboxPrefix(admin.identity) } : {}),
  });
  const hv = createInProcessCallClient(
    loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
    "hypervisor",
  );
  // xenstored in this host process, or in its own (XENSIM_XENSTORED="xenstored:7100": gRPC, with
  // the admin's certificate under the deployment's CA).
  const xsDef = loadXenstoreProto().xensim.xenstore.v1.Xenstore.service;
  const remoteXs = process.env.XENSIM_XENSTORED;
  const xsCalls = remoteXs
    ? createGrpcCallClient(
        xsDef,
        remoteXs,
        admin ? { tls: { ca: admin.ca, cert: admin.tls.cert, key: admin.tls.key, expect: "xenstored" } } : {},
      )
    : createInProcessCallClient(xsDef, "xenstored", admin ? { identity: admin.identity } : {});
  const xs0 = await connectXenstore({ calls: xsCalls, bus, clientName: "guest-io" });
  const xc0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory });
  const g = await buildGuest(xc0, xs0, { name: "compose-guest", memoryMib: 96 });
  const xc = new XenCtrl({ domid: g.domid, calls: hv, store: host.sharedMemory });
  const kernel = new GuestKernel({ domid: g.domid, xc, ramPages: g.ramPages, slowScanMs: 50 });
  const xs = await kernel.connectXenstore(g.storeGfn, g.storePort);
  return { xs0, g, kernel, xs };
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise(
      (_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)),
    ),
  ]);
}

/**
 * Runs one write-verify job on a new disk of the guest. `req`: params (blkstore spec, default
 * "file:path=guest-io-<vdev>.raw,size=8M" in blkback's image directory), rw, bs, iodepth, ios, seed, ringPageOrder, queues, persistent, indirect.
 */
export function guestIo(host, natsUrl, req) {
  const run = queue.then(() => guestIoNow(host, natsUrl, req));
  queue = run.catch(() => {});
  return run;
}

async function guestIoNow(host, natsUrl, req) {
  const started = performance.now();
  shared ??= await setup(host, natsUrl);
  const { xs0, g, kernel, xs } = shared;
  const vdev = `xvd${String.fromCharCode(97 + (disks++ % 26))}`;
  // The default disk is a file in blkback's image directory (the xensim-images volume in
  // docker-compose.yml): a killed blkback loses nothing it acknowledged.
  const params = req.params ?? `file:path=guest-io-${vdev}.raw,size=8M`;
  const dirs = vbdDirectories({ frontend: g.domid, vdev, params });
  await xs0.transaction((tx) => applyVbdDirectories(tx, dirs));
  const front = await kernel.openBlkfront(xs, dirs.devid, {
    config: {
      maxRingPageOrder: req.ringPageOrder ?? 2,
      maxQueues: req.queues ?? 2,
      persistent: req.persistent ?? true,
      maxIndirectSegments: req.indirect ?? 32,
    },
  });
  try {
    await withTimeout(front.whenConnected(), 30_000, `${vdev} connect`);
    const connectedMs = Math.round(performance.now() - started);
    const backendState = await xs0.read(`${dirs.backendPath}/state`);
    const env = { nowNs: () => Number(process.hrtime.bigint()), defer: (fn) => setImmediate(fn) };
    const spec = {
      rw: req.rw ?? "randrw",
      bs: req.bs ?? 16384,
      iodepth: req.iodepth ?? 8,
      // a time-bound job (the ring sweep, deploy/ring-sweep.mjs) or an I/O count
      ...(req.runtimeMs ? { runtimeMs: req.runtimeMs } : { ioLimit: req.ios ?? 200 }),
      ...(req.rampMs ? { rampMs: req.rampMs } : {}),
      verify: req.verify === false ? "none" : "crc32c",
      seed: req.seed ?? disks,
    };
    const r = await withTimeout(runJob(front, spec, env), 120_000 + (req.runtimeMs ?? 0), `${vdev} job`);
    const ios = r.read.total_ios + r.write.total_ios;
    const out = {
      ok: !r.error && r.verify.failures_total === 0 && ios > 0 && front.stats.protocolErrors === 0,
      domid: g.domid,
      vdev,
      backendPath: dirs.backendPath,
      backendState,
      pages: front.ringInfo.pages,
      queues: front.ringInfo.queues,
      ios,
      reads: r.read.total_ios,
      writes: r.write.total_ios,
      verifyChecked: r.verify.blocks_checked,
      verifyFailures: r.verify.failures_total,
      error: r.error ?? null,
      protocolErrors: front.stats.protocolErrors,
      submitted: front.stats.submitted,
      completed: front.stats.completed,
      connectedMs,
      totalMs: Math.round(performance.now() - started),
      iops: Math.round(r.read.iops + r.write.iops),
      clatUs: {
        p50: Math.round((r.read.clat_ns.percentile["50.000000"] ?? 0) / 1000),
        p99: Math.round((r.read.clat_ns.percentile["99.000000"] ?? 0) / 1000),
      },
    };
    return out;
  } finally {
    await front.close();
    await xs0.rm(dirs.frontendPath);
    await xs0.rm(dirs.backendPath);
  }
}
