// libxl as a set of flows over injected xenstore, hypervisor and guest-runtime clients, one file per
// flow (libxl's shape): create.ts (libxl__domain_make + build + devices + unpause, rolled back on
// failure), destroy.ts (libxl__destroy_domid), control.ts (pause, trigger, console, shutdown/reboot
// requests), actions.ts (the on_* actions when a domain shuts down: destroy, restart, preserve, soft
// reset as fact sheet §9), devices.ts (block attach/detach), recovery.ts (a restarted toolstack),
// queries.ts (xl list); common.ts holds the waits on xenstore watches. This class holds the state
// (context.ts) and is the API.
import { handleDomainEvent, recoverLost, softReset } from "./actions.js";
import {
  consoleRead,
  vgaText,
  consoleWrite,
  pauseDomain,
  requestShutdown,
  triggerDomain,
  unpauseDomain,
} from "./control.js";
import { createDomain } from "./create.js";
import { destroyDomain } from "./destroy.js";
import { attachDisk, detachDisk, listDisks } from "./devices.js";
import { domainSummary, listDomains } from "./queries.js";
import { cleanStale, recoverDomains } from "./recovery.js";
import type { DomainConfig, XlDisk } from "@xensim/xlcfg";
import type { FlowOptions, FlowStepRecord } from "./flow.js";
import type {
  ActionRecord,
  DiskSummary,
  DomainSummary,
  LostDomain,
  ManagedDomain,
  RecoveryRecord,
  ResolvedToolstackOptions,
  ToolstackContext,
  ToolstackOptions,
} from "./context.js";

export class Toolstack implements ToolstackContext {
  /** @internal The domains this toolstack manages (created or recovered, not yet destroyed). */
  readonly managed = new Map<number, ManagedDomain>();
  /** @internal xl's domain-creation lock: one create at a time, so validation sees every earlier domain. */
  createLock: Promise<unknown> = Promise.resolve();
  /** What the on_* handling did, newest last (bounded). */
  readonly actions: ActionRecord[] = [];
  /** What the last start found: domains re-adopted (still running) and cleaned away (lost). */
  readonly recovery: { adopted: number[]; cleaned: RecoveryRecord[] } = { adopted: [], cleaned: [] };
  /** @internal Domains `recover` found lost with the hypervisor, for `recoverLost`. */
  readonly lost: LostDomain[] = [];
  /** @internal */
  readonly options: ResolvedToolstackOptions;

  constructor(options: ToolstackOptions) {
    this.options = {
      backendTimeoutMs: 10_000,
      frontendTimeoutMs: 10_000,
      shutdownTimeoutMs: 10_000,
      detachTimeoutMs: 10_000,
      destroyDeviceTimeoutMs: 2_000,
      reapTimeoutMs: 10_000,
      pollMs: 20,
      watchFallbackMs: 200,
      libDir: "/var/lib/xen",
      deviceModelTimeoutMs: 10_000,
      ...options,
      guest: options.guest,
      deviceModel: options.deviceModel,
    };
  }

  get hasDeviceModel(): boolean {
    return this.options.deviceModel !== undefined;
  }

  get hasGuestRuntime(): boolean {
    return this.options.guest !== undefined;
  }

  /** The domains this toolstack manages (created or recovered, not yet destroyed). */
  get managedDomids(): number[] {
    return [...this.managed.keys()];
  }

  domain(domid: number): ManagedDomain | undefined {
    return this.managed.get(domid);
  }

  /** xl create: the whole flow; on failure everything done so far is undone and a FlowError thrown. */
  async create(
    config: DomainConfig,
    o: FlowOptions & { uuid?: string } = {},
  ): Promise<{ domid: number; uuid: string; records: FlowStepRecord[] }> {
    return createDomain(this, config, o);
  }

  /**
   * After a toolstack restart: the domains whose config is under /libxl/<domid>/config and that still
   * exist are ours again (their uptime counts from now); those that shut down meanwhile get their
   * on_* action now. Returns the recovered domids.
   */
  async recover(): Promise<number[]> {
    return recoverDomains(this);
  }

  /**
   * After `recover`: the domains that were lost with the hypervisor (its host restarted) are
   * cleaned up (devices, home, /vm, /libxl) and get their on_crash action: "restart" creates them
   * again from the saved config, anything else leaves them gone. Run once the services the create
   * flow calls are reachable; a create that fails (a backend still coming back) is tried again
   * `attempts` times, `retryMs` apart. Returns the new domids.
   */
  async recoverLost(o: { attempts?: number; retryMs?: number } = {}): Promise<number[]> {
    return recoverLost(this, o);
  }

  /**
   * After a restart: domains xenstore still has (`/local/domain/<id>`, `/libxl/<id>`) that the
   * hypervisor does not (its restart lost them with its memory) are cleaned away as
   * libxl__destroy_domid does — devices force-removed, released from xenstored (@releaseDomain),
   * their nodes removed, and destroyed in the hypervisor, which then lets their domid be used again.
   * Each is logged and recorded (`recovery.cleaned`, `actions`); call it before taking requests.
   */
  async cleanStale(): Promise<RecoveryRecord[]> {
    return cleanStale(this);
  }

  /**
   * xl destroy (libxl__destroy_domid): halt the guest, pause, remove every device (closing
   * handshake, forced after `destroyDeviceTimeoutMs`), release from xenstored, destroy, remove
   * the xenstore nodes, wait until the hypervisor freed it. Best effort: every step runs.
   */
  async destroy(domid: number, o: { flow?: string } = {}): Promise<FlowStepRecord[]> {
    return destroyDomain(this, domid, o);
  }

  async pause(domid: number): Promise<void> {
    return pauseDomain(this, domid);
  }

  async unpause(domid: number): Promise<void> {
    return unpauseDomain(this, domid);
  }

  /**
   * xl shutdown / reboot: writes control/shutdown and waits for the guest to shut down
   * (SCHEDOP_shutdown). `acted` false when it did not within the timeout (reported, not forced).
   * Refused (EOPNOTSUPP) when the guest never advertised control/feature-<kind>, unless `force`
   * (write the request anyway).
   */
  /**
   * `xl trigger D soft-reset` (xensim's trigger; xl's own are nmi, reset, power…): the guest is asked
   * to kexec — control/shutdown = "soft_reset", which the guest kernel answers with
   * SCHEDOP_shutdown(SHUTDOWN_soft_reset) — and the on_soft_reset action follows as for any soft
   * reset. Resolves once the domain has shut down for it (or `acted: false` on timeout).
   */
  async trigger(
    domid: number,
    kind: "soft-reset",
    o: { timeoutMs?: number } = {},
  ): Promise<{ acted: boolean; state: string }> {
    return triggerDomain(this, domid, kind, o);
  }

  /** `xl vga D`: the VGA text screen (lines, cursor, cells). */
  async vgaText(domid: number): ReturnType<typeof vgaText> {
    return vgaText(this, domid);
  }

  /** `xl console -n serial D`: what the guest's serial port sent from `offset` on. */
  async consoleRead(
    domid: number,
    serial: number,
    offset: number,
    waitMs: number,
  ): Promise<{ data: Uint8Array; next: number }> {
    return consoleRead(this, domid, serial, offset, waitMs);
  }

  /** Keystrokes into the guest's serial port. */
  async consoleWrite(domid: number, serial: number, data: Uint8Array): Promise<void> {
    return consoleWrite(this, domid, serial, data);
  }

  async requestShutdown(
    domid: number,
    kind: "poweroff" | "reboot",
    o: { timeoutMs?: number; force?: boolean } = {},
  ): Promise<{ acted: boolean; state: string }> {
    return requestShutdown(this, domid, kind, o);
  }

  /**
   * A domain changed (VIRQ_DOM_EXC / @releaseDomain / the bus event): if one of ours shut down, apply
   * its on_* action; if it vanished, clean up after it. Idempotent; concurrent calls for one domain
   * do nothing while it is being handled.
   */
  async handleDomainEvent(domid: number): Promise<ActionRecord | undefined> {
    return handleDomainEvent(this, domid);
  }

  /**
   * libxl_domain_soft_reset (fact sheet §9): release from xenstored, force-remove the devices and the
   * xenstore nodes, pause, XEN_DOMCTL_soft_reset, then build again on the same domid and memory: a
   * new store event channel, the skeleton, introduce with the old store gfn, devices anew, unpause.
   */
  async softReset(rec: ManagedDomain, o: FlowOptions = {}): Promise<FlowStepRecord[]> {
    return softReset(this, rec, o);
  }

  /** xl list. */
  async list(): Promise<DomainSummary[]> {
    return listDomains(this);
  }

  async info(domid: number): Promise<DomainSummary> {
    return domainSummary(this, domid);
  }

  /** xl block-list, with what the guest runtime reports (NBD export) when there is one. */
  async listDisks(domid: number): Promise<DiskSummary[]> {
    return listDisks(this, domid);
  }

  /**
   * xl block-attach: the vbd directories, the backend reaching InitWait, and (when a guest runtime
   * runs the domain) the frontend reaching Connected. Rolled back on failure.
   */
  async attachDisk(domid: number, disk: XlDisk, o: FlowOptions = {}): Promise<FlowStepRecord[]> {
    return attachDisk(this, domid, disk, o);
  }

  /**
   * xl block-detach: backend online=0 / Closing, wait for the closing handshake (backend Closed),
   * remove the directories; on timeout fail unless `force` (then remove anyway).
   */
  async detachDisk(
    domid: number,
    vdev: string,
    o: { force?: boolean; timeoutMs?: number } = {},
  ): Promise<{ handshake: boolean; frontendState: string; records: FlowStepRecord[] }> {
    return detachDisk(this, domid, vdev, o);
  }
}
