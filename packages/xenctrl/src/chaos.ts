// Fault points of a XenCtrl (the adapter every service's hypercalls go through): event-channel sends
// lost, duplicated, delayed or spurious, and grant maps / copies failing with a chosen GNTST_* code
// or slowed. With no fault set each hypercall pays one branch (`evtchnOn`, `grantOn`).

import type { ChaosPoints, FaultPoint } from "@xensim/chaos";

export class XenCtrlFaults {
  /** Some event-channel point is set. */
  evtchnOn = false;
  /** Some grant point is set. */
  grantOn = false;
  private readonly lost: FaultPoint | undefined;
  private readonly duplicated: FaultPoint | undefined;
  private readonly delayed: FaultPoint | undefined;
  private readonly spurious: FaultPoint | undefined;
  private readonly mapFailed: FaultPoint | undefined;
  private readonly mapSlow: FaultPoint | undefined;
  private readonly copyFailed: FaultPoint | undefined;
  /** Ports this client sent on while a point was set (where spurious notifications go). */
  private readonly ports = new Set<number>();
  private spuriousTimer: ReturnType<typeof setInterval> | undefined;
  /** The raw send, set by the XenCtrl (spurious notifications use it). */
  rawSend: ((port: number) => unknown) | undefined;

  constructor(points: ChaosPoints | undefined) {
    if (!points) return;
    const upd = (): void => {
      this.evtchnOn = [this.lost, this.duplicated, this.delayed, this.spurious].some((p) => p?.active);
      this.grantOn = [this.mapFailed, this.mapSlow, this.copyFailed].some((p) => p?.active);
    };
    const pt = (kind: string): FaultPoint => {
      const p = points.point(kind);
      const prev = p.onChange;
      p.onChange = (x) => {
        prev?.(x);
        upd();
      };
      return p;
    };
    this.lost = pt("evtchn.lost");
    this.duplicated = pt("evtchn.duplicated");
    this.delayed = pt("evtchn.delayed");
    this.spurious = pt("evtchn.spurious");
    this.mapFailed = pt("grant.map-failed");
    this.mapSlow = pt("grant.map-slow");
    this.copyFailed = pt("grant.copy-failed");
    const sp = this.spurious;
    const prev = sp.onChange;
    sp.onChange = (p) => {
      prev?.(p);
      if (this.spuriousTimer) clearInterval(this.spuriousTimer);
      this.spuriousTimer = undefined;
      if (!p.active) return;
      this.spuriousTimer = setInterval(() => {
        for (const port of this.ports) if (sp.hit(`port ${port}`)) void this.rawSend?.(port);
      }, p.spec?.periodMs ?? 50);
      this.spuriousTimer.unref?.();
    };
    upd();
  }

  /**
   * evtchn.lost in-process: whether the wake-up of this send is lost (the pending bit is set
   * anyway). Called from the event-channel core's notify hook.
   */
  wakeLost(port: number): boolean {
    return this.lost?.hit(`port ${port} wake-up`) ?? false;
  }

  /**
   * An event-channel send through the points: delayed, or twice; across host processes (no shared
   * pending bits here) evtchn.lost drops the send itself.
   */
  send<T extends number | Promise<number>>(port: number, send: () => T, remote = false): T | number {
    this.ports.add(port);
    const target = `port ${port}`;
    if (remote && this.lost?.hit(target)) return 0;
    if (this.delayed?.active) {
      const d = this.delayed.delay();
      if (this.delayed.hit(target, { delayMs: d })) {
        setTimeout(() => void send(), d);
        return 0;
      }
    }
    if (this.duplicated?.hit(target)) {
      const first = send();
      if (typeof first === "number") return send();
      return first.then(() => send()) as T;
    }
    return send();
  }

  /** A grant map through the points: slowed, or every op failing with the chosen GNTST code. */
  async map<R>(
    dom: number,
    refs: readonly number[],
    map: () => Promise<R>,
    failed: (code: number) => R,
  ): Promise<R> {
    const target = `dom ${dom} refs ${refs.slice(0, 4).join(",")}${refs.length > 4 ? ",…" : ""}`;
    if (this.mapSlow?.active) {
      const d = this.mapSlow.delay();
      if (this.mapSlow.hit(target, { delayMs: d })) await new Promise((r) => setTimeout(r, d));
    }
    if (this.mapFailed?.active) {
      const code = this.mapFailed.grantStatus();
      if (this.mapFailed.hit(target, { code })) return failed(code);
    }
    return map();
  }

  /** A grant copy through the points: every op failing with the chosen GNTST code. */
  async copy(n: number, copy: () => Promise<number[]>): Promise<number[]> {
    if (this.copyFailed?.active) {
      const code = this.copyFailed.grantStatus();
      if (this.copyFailed.hit(`${n} copy ops`, { code })) return new Array<number>(n).fill(code);
    }
    return copy();
  }

  close(): void {
    if (this.spuriousTimer) clearInterval(this.spuriousTimer);
  }
}
