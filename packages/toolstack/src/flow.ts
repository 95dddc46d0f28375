// The flow engine: a flow is a list of named steps run in order, each logged with its name, domid,
// outcome and duration. A step may register an undo; when a step fails (or `failAt` injects a
// failure before it), the undos of the steps done so far run in reverse (each logged too), then
// the error is rethrown. The record of what happened is returned / attached to the error.
import type { ToolstackClock, ToolstackLogger, ToolstackSpans } from "./ports.js";

export interface FlowStepRecord {
  flow: string;
  step: string;
  domid: number | undefined;
  outcome: "ok" | "failed" | "undone" | "undo-failed" | "skipped";
  ms: number;
  error?: string;
}

export interface FlowContext {
  /** The domain the flow is about (set once known: create learns it at domain-create). */
  domid: number | undefined;
  /** Registers what undoes the current step (run in reverse order on failure). */
  onUndo(fn: () => Promise<unknown>): void;
}

export interface FlowStep {
  name: string;
  run(ctx: FlowContext): Promise<void>;
  /** Best effort (teardown flows): a failure is recorded and the flow goes on. */
  continueOnError?: boolean;
}

export interface FlowOptions {
  /** Fault injection: throw before running this step. */
  failAt?: (step: string) => boolean;
}

export class FlowError extends Error {
  override readonly name = "FlowError";
  /** The failed step's ToolstackError code (or "EIO"): what the HTTP API maps to a status. */
  get code(): string {
    const c = (this.cause as { code?: unknown } | undefined)?.code;
    return typeof c === "string" ? c : "EIO";
  }
  constructor(
    readonly flow: string,
    readonly step: string,
    override readonly cause: unknown,
    readonly records: FlowStepRecord[],
  ) {
    super(`${flow} failed at ${step}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export class InjectedFailure extends Error {
  override readonly name = "InjectedFailure";
  readonly code = "EINJECTED";
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function runFlow(
  flow: string,
  steps: readonly FlowStep[],
  deps: { clock: ToolstackClock; log: ToolstackLogger; spans?: ToolstackSpans },
  options: FlowOptions = {},
  initialDomid?: number,
): Promise<FlowStepRecord[]> {
  const spans = deps.spans;
  if (!spans) return runSteps(flow, steps, deps, options, initialDomid);
  return spans.inSpan(
    `flow ${flow}`,
    { "xen.flow": flow, ...(initialDomid !== undefined ? { "xen.domid": initialDomid } : {}) },
    () => runSteps(flow, steps, deps, options, initialDomid),
  );
}

async function runSteps(
  flow: string,
  steps: readonly FlowStep[],
  deps: { clock: ToolstackClock; log: ToolstackLogger; spans?: ToolstackSpans },
  options: FlowOptions,
  initialDomid: number | undefined,
): Promise<FlowStepRecord[]> {
  const spans = deps.spans;
  const step = (name: string, fn: () => Promise<unknown>) =>
    spans
      ? spans.inSpan(
          `${flow}: ${name}`,
          {
            "xen.flow": flow,
            "xen.step": name,
            ...(ctx.domid !== undefined ? { "xen.domid": ctx.domid } : {}),
          },
          fn,
        )
      : fn();
  const records: FlowStepRecord[] = [];
  const undos: Array<{ step: string; fn: () => Promise<unknown> }> = [];
  const ctx: FlowContext & { current: string } = {
    domid: initialDomid,
    current: "",
    onUndo(fn) {
      undos.push({ step: this.current, fn });
    },
  };
  const record = (r: FlowStepRecord) => {
    records.push(r);
    const line = { flow: r.flow, step: r.step, domid: r.domid, outcome: r.outcome, ms: r.ms };
    if (r.outcome === "ok" || r.outcome === "undone" || r.outcome === "skipped")
      deps.log.info(line, `${flow}: ${r.step} ${r.outcome}`);
    else deps.log.warn({ ...line, error: r.error }, `${flow}: ${r.step} ${r.outcome}`);
  };
  for (const s of steps) {
    ctx.current = s.name;
    const t0 = deps.clock.now();
    try {
      if (options.failAt?.(s.name)) throw new InjectedFailure(`injected failure at ${s.name}`);
      await step(s.name, () => s.run(ctx));
      record({ flow, step: s.name, domid: ctx.domid, outcome: "ok", ms: deps.clock.now() - t0 });
    } catch (e) {
      record({
        flow,
        step: s.name,
        domid: ctx.domid,
        outcome: "failed",
        ms: deps.clock.now() - t0,
        error: msg(e),
      });
      if (s.continueOnError === true && !(e instanceof InjectedFailure)) continue;
      for (const u of undos.reverse()) {
        const t1 = deps.clock.now();
        try {
          await step(`undo ${u.step}`, u.fn);
          record({
            flow,
            step: `undo ${u.step}`,
            domid: ctx.domid,
            outcome: "undone",
            ms: deps.clock.now() - t1,
          });
        } catch (ue) {
          record({
            flow,
            step: `undo ${u.step}`,
            domid: ctx.domid,
            outcome: "undo-failed",
            ms: deps.clock.now() - t1,
            error: msg(ue),
          });
        }
      }
      throw new FlowError(flow, s.name, e, records);
    }
  }
  return records;
}
