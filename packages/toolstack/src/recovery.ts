// A restarted toolstack: domains recovered from /libxl/<domid>/config, those the hypervisor lost
// cleaned away, stale nodes removed.
import type { DomainConfig } from "@xensim/xlcfg";
import { ToolstackError } from "./ports.js";
import { ESRCH, rmIfPresent, noteAction } from "./common.js";
import { destroyDomain } from "./destroy.js";
import { handleDomainEvent } from "./actions.js";
import type { LostDomain, RecoveryRecord, ToolstackContext } from "./context.js";

/**
 * After a toolstack restart: the domains whose config is under /libxl/<domid>/config and that still
 * exist are ours again (their uptime counts from now); those that shut down meanwhile get their
 * on_* action now. Returns the recovered domids.
 */
export async function recoverDomains(ts: ToolstackContext): Promise<number[]> {
  const xs = ts.options.xs;
  const out: number[] = [];
  const gone: LostDomain[] = [];
  for (const d of await xs.ls("/libxl").catch(() => [] as string[])) {
    const domid = Number(d);
    if (!Number.isInteger(domid) || ts.managed.has(domid)) continue;
    const text = await xs.tryRead(`/libxl/${d}/config`);
    const vm = await xs.tryRead(`/local/domain/${d}/vm`);
    const i = await ts.options.hv.domainInfo(domid);
    if (text === undefined || vm === undefined) continue;
    let config: DomainConfig;
    try {
      config = JSON.parse(text) as DomainConfig;
    } catch {
      ts.options.log.warn({ domid }, "unreadable saved config: not recovered");
      continue;
    }
    if (i.rc === ESRCH) {
      // The hypervisor does not know it: it died with the hypervisor (its host process restarted
      // and took guest memory along). A crash as far as the guest is concerned: clean up what
      // it left in xenstore (devices, home, /vm, /libxl) and apply on_crash.
      gone.push({ domid, uuid: vm.replace(/^\/vm\//, ""), config });
      continue;
    }
    if (i.rc !== 0 || !i.info) continue;
    ts.managed.set(domid, {
      domid,
      uuid: vm.replace(/^\/vm\//, ""),
      config,
      createdAtMs: ts.options.clock.now(),
      busy: false,
      preserved: false,
      booted: ts.options.guest !== undefined,
    });
    out.push(domid);
    ts.options.log.info(
      { flow: "recover", step: "domain", domid, outcome: "ok" },
      `recovered ${config.name}`,
    );
  }
  ts.recovery.adopted.push(...out);
  for (const domid of out)
    await handleDomainEvent(ts, domid).catch((e: unknown) =>
      ts.options.log.error({ domid, err: String(e) }, "on_* after recovery failed"),
    );
  ts.lost.push(...gone);
  return out;
}

/**
 * After a restart: domains xenstore still has (`/local/domain/<id>`, `/libxl/<id>`) that the
 * hypervisor does not (its restart lost them with its memory) are cleaned away as
 * libxl__destroy_domid does — devices force-removed, released from xenstored (@releaseDomain),
 * their nodes removed, and destroyed in the hypervisor, which then lets their domid be used again.
 * Each is logged and recorded (`recovery.cleaned`, `actions`); call it before taking requests.
 */
export async function cleanStale(ts: ToolstackContext): Promise<RecoveryRecord[]> {
  const xs = ts.options.xs;
  const ids = new Set<number>();
  for (const base of ["/local/domain", "/libxl"])
    for (const d of await xs.ls(base).catch(() => [] as string[]))
      if (/^\d+$/.test(d) && Number(d) !== 0 && !ts.managed.has(Number(d))) ids.add(Number(d));
  const out: RecoveryRecord[] = [];
  for (const domid of [...ids].sort((a, b) => a - b)) {
    const i = await ts.options.hv.domainInfo(domid);
    if (i.rc !== ESRCH) continue;
    let name = await xs.tryRead(`/local/domain/${domid}/name`).catch(() => undefined);
    if (name === undefined) {
      const text = await xs.tryRead(`/libxl/${domid}/config`).catch(() => undefined);
      try {
        name = text === undefined ? undefined : (JSON.parse(text) as DomainConfig).name;
      } catch {
        name = undefined;
      }
    }
    const r: RecoveryRecord = { domid, name: name ?? `(domid ${domid})`, outcome: "cleaned" };
    try {
      await destroyDomain(ts, domid, { flow: "restart-cleanup" });
    } catch (e) {
      // no home left but /libxl remains: remove what is there
      if (e instanceof ToolstackError && e.code === "ENOENT") {
        await rmIfPresent(xs, `/libxl/${domid}`);
        await ts.options.hv.domainDestroy(domid);
      } else {
        r.outcome = "failed";
        r.error = String(e);
      }
    }
    ts.options.log.info(
      { flow: "restart-cleanup", step: "domain", domid, outcome: r.outcome },
      `domain ${domid} (${r.name}) was lost in a restart: ${r.outcome === "cleaned" ? "cleaned away" : `cleanup failed: ${r.error}`}`,
    );
    noteAction(ts, {
      domid,
      reason: "lost-in-restart",
      action: "destroy",
      outcome: r.outcome === "cleaned" ? "ok" : "failed",
      ...(r.error ? { error: r.error } : {}),
      atMs: ts.options.clock.now(),
    });
    out.push(r);
  }
  ts.recovery.cleaned.push(...out);
  return out;
}
