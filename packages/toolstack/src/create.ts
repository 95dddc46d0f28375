// xl create (libxl__domain_make + build + devices + unpause, rolled back on failure): validation,
// the xenstore skeleton, the store channel and page, vbds and vdispls, the device model, the guest.
import { EVTCHNSTAT_interdomain, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN, XenErrno } from "@xensim/abi";
import { applyLibxlOps, domainSkeleton, STORE_GFN } from "@xensim/libxl";
import type { XenbusStoreOps } from "@xensim/xenbus";
import type { DomainConfig } from "@xensim/xlcfg";
import { dmStartSteps, emulatorsOf } from "./device-model.js";
import { vdisplSteps } from "./vdispl-flow.js";
import { type FlowOptions, type FlowStep, type FlowStepRecord, runFlow } from "./flow.js";
import { ToolstackError } from "./ports.js";
import { dmDeps, flowDeps, waitFor, removeSkeleton, saveConfig } from "./common.js";
import { addVbdDirs, waitBackend, removeDevice } from "./devices.js";
import { destroyDomainAndWait } from "./destroy.js";
import type { ToolstackContext } from "./context.js";

/** xl create: the whole flow; on failure everything done so far is undone and a FlowError thrown. */
export async function createDomain(
  ts: ToolstackContext,
  config: DomainConfig,
  options: FlowOptions & { uuid?: string } = {},
): Promise<{ domid: number; uuid: string; records: FlowStepRecord[] }> {
  const run = ts.createLock.then(() => createLocked(ts, config, options));
  ts.createLock = run.catch(() => {});
  return run;
}

export async function createLocked(
  ts: ToolstackContext,
  config: DomainConfig,
  options: FlowOptions & { uuid?: string },
): Promise<{ domid: number; uuid: string; records: FlowStepRecord[] }> {
  const uuid = options.uuid ?? config.uuid ?? ts.options.newUuid();
  const st = { domid: -1, port: -1 };
  const steps: FlowStep[] = [
    { name: "validate", run: () => validate(ts, config, uuid) },
    {
      name: "domain-create",
      run: async (ctx) => {
        const r = await ts.options.hv.domainCreate({
          memoryMib: config.memoryMib,
          vcpus: config.vcpus,
          hvm: config.type === "hvm",
        });
        if (r.rc !== 0)
          throw new ToolstackError(r.rc === -XenErrno.ENOMEM ? "ENOMEM" : "EIO", `domain create: rc ${r.rc}`);
        st.domid = r.domid;
        ctx.domid = r.domid;
        ctx.onUndo(() => destroyDomainAndWait(ts, r.domid));
      },
    },
    ...buildSteps(ts, config, uuid, st),
  ];
  const records = await runFlow("create", steps, flowDeps(ts), options);
  ts.managed.set(st.domid, {
    domid: st.domid,
    uuid,
    config,
    createdAtMs: ts.options.clock.now(),
    busy: false,
    preserved: false,
    booted: ts.options.guest !== undefined,
  });
  return { domid: st.domid, uuid, records };
}

/** Everything after the domain exists (create, and the re-creation of a soft reset). */
export function buildSteps(
  ts: ToolstackContext,
  config: DomainConfig,
  uuid: string,
  st: { domid: number; port: number },
  options: { restoreDeviceModel?: boolean } = {},
): FlowStep[] {
  const xs = ts.options.xs;
  const hv = ts.options.hv;
  const steps: FlowStep[] = [
    {
      name: "store-evtchn",
      run: async () => {
        const p = await hv.evtchnAllocUnbound(st.domid, 0);
        if (p.rc !== 0) throw new ToolstackError("EIO", `store event channel: rc ${p.rc}`);
        st.port = p.port;
      },
    },
  ];
  // HVM: the store page and port published as HVM params (how the guest runtime finds them); PV
  // domains have none (Xen's start_info is not modelled) — they run without a guest kernel.
  if (config.type === "hvm")
    steps.push({
      name: "hvm-params",
      run: async () => {
        for (const [idx, v] of [
          [HVM_PARAM_STORE_PFN, STORE_GFN],
          [HVM_PARAM_STORE_EVTCHN, st.port],
        ] as const) {
          const rc = await hv.hvmParamSet(st.domid, idx, v);
          if (rc !== 0) throw new ToolstackError("EIO", `hvm param ${idx}: rc ${rc}`);
        }
      },
    });
  steps.push(
    {
      name: "xenstore-skeleton",
      run: async (ctx) => {
        ctx.onUndo(() => removeSkeleton(ts, st.domid, uuid));
        await xs.transaction((tx) => writeSkeleton(ts, tx, st.domid, uuid, config, st.port));
      },
    },
    {
      name: "introduce",
      run: async (ctx) => {
        await xs.introduceDomain(st.domid, STORE_GFN, st.port);
        ctx.onUndo(() => xs.releaseDomain(st.domid));
        // xenstored maps the page and binds the channel after answering INTRODUCE, then moves its
        // end to its dom0 vCPU and only then registers the connection: a RELEASE before that
        // finds nothing to drop and its port stays bound. Wait for the bind and the vCPU move
        // (bounded: a dom0 without a xenstored vCPU keeps the port on vCPU 0).
        let peer = -1;
        await waitFor(
          ts,
          `xenstored binding the store channel of ${st.domid}`,
          ts.options.backendTimeoutMs,
          async () => {
            const s = await hv.evtchnStatus(st.domid, st.port);
            if (s.rc === 0 && s.status === EVTCHNSTAT_interdomain) peer = s.port;
            return peer >= 0;
          },
        );
        const settle = ts.options.clock.now() + 250;
        while (ts.options.clock.now() < settle) {
          const p = await hv.evtchnStatus(0, peer);
          if (p.rc !== 0 || p.vcpu !== 0) break;
          await ts.options.clock.sleep(ts.options.pollMs / 4);
        }
      },
    },
  );
  for (const d of config.disks)
    steps.push({
      name: `vbd-add:${d.vdev}`,
      run: async (ctx) => {
        ctx.onUndo(() => removeDevice(ts, st.domid, d, ts.options.destroyDeviceTimeoutMs, true));
        await addVbdDirs(ts, st.domid, d);
      },
    });
  if (config.disks.length > 0)
    steps.push({
      name: "wait-backends",
      run: async () => {
        for (const d of config.disks) await waitBackend(ts, st.domid, d, ts.options.backendTimeoutMs);
      },
    });
  steps.push(
    ...vdisplSteps(
      ts.options.xs,
      () => st.domid,
      config.vdispls,
      (what, ms, cond, paths) => waitFor(ts, what, ms, cond, paths),
      ts.options.backendTimeoutMs,
    ),
  );
  // libxl spawns the device model once the devices are there, and waits for it before unpausing.
  const dmd = dmDeps(ts);
  if (dmd) steps.push(...dmStartSteps(dmd, config, st, { restore: options.restoreDeviceModel ?? false }));
  const guest = ts.options.guest;
  if (guest)
    steps.push({
      name: "guest-boot",
      run: async (ctx) => {
        ctx.onUndo(() => guest.halt(st.domid));
        const r = await guest.boot(st.domid, config.name);
        if (r.rc !== 0) throw new ToolstackError("EIO", `guest boot: rc ${r.rc} ${r.error}`);
      },
    });
  steps.push({
    name: "unpause",
    run: async () => {
      const rc = await hv.domainUnpause(st.domid);
      if (rc !== 0) throw new ToolstackError("EIO", `unpause: rc ${rc}`);
    },
  });
  return steps;
}

export async function validate(ts: ToolstackContext, config: DomainConfig, uuid: string): Promise<void> {
  if (ts.options.guest && config.type !== "hvm")
    throw new ToolstackError(
      "EINVAL",
      'a PV domain cannot boot on the guest runtime (it finds its store through HVM params): use type = "hvm"',
    );
  const list = await ts.options.hv.domainList();
  if (list.rc !== 0) throw new ToolstackError("EIO", `domain list: rc ${list.rc}`);
  for (const d of list.domains) {
    if (d.state === "dead") continue;
    // dom0 is "Domain-0" whether or not its name node exists (as xl list shows it): a second
    // "Domain-0" would make every name lookup ambiguous.
    const name =
      ts.managed.get(d.domid)?.config.name ??
      (d.domid === 0
        ? "Domain-0"
        : await ts.options.xs.tryRead(`/local/domain/${d.domid}/name`).catch(() => undefined));
    if (name === config.name)
      throw new ToolstackError("EEXIST", `a domain named ${config.name} exists (domid ${d.domid})`);
    if (ts.managed.get(d.domid)?.uuid === uuid)
      throw new ToolstackError("EEXIST", `a domain with uuid ${uuid} exists (domid ${d.domid})`);
  }
  const used = list.domains.filter((d) => d.state !== "dead").reduce((s, d) => s + d.memoryMib, 0);
  if (used + config.memoryMib > ts.options.hostMemoryMib)
    throw new ToolstackError(
      "ENOMEM",
      `memory ${config.memoryMib} MiB does not fit: ${ts.options.hostMemoryMib - used} of ${ts.options.hostMemoryMib} MiB free`,
    );
}

/** libxl__domain_make + build_post: the domain's home, /vm/<uuid> and /libxl/<domid>, libxl's perms. */
export async function writeSkeleton(
  ts: ToolstackContext,
  tx: XenbusStoreOps,
  domid: number,
  uuid: string,
  config: DomainConfig,
  port: number,
): Promise<void> {
  const xensim: Record<string, string> = {};
  if (config.workloadText !== undefined) xensim.workload = config.workloadText;
  if (config.blkfrontText !== undefined) xensim.blkfront = config.blkfrontText;
  if (emulatorsOf(config, ts.options.deviceModel).length > 0) xensim.firmware = config.firmwareText ?? "bios";
  const skeleton = domainSkeleton({
    domid,
    uuid,
    name: config.name,
    type: config.type,
    memoryMib: config.memoryMib,
    maxmemMib: config.maxmemMib,
    storePort: port,
    startTimeSeconds: ts.options.clock.wallSeconds(),
    xensim,
  });
  await applyLibxlOps(tx, skeleton.ops);
  await saveConfig(ts, tx, domid, config);
}
