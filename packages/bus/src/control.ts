import { BusError, BusErrorCode } from "./errors.js";
import type { EventBus, Subscription } from "./events.js";
import type { FaultController, FaultRecord, FaultRules } from "./faults.js";
import { validateFaultRules } from "./faults.js";
import { FAULT_SUBJECTS } from "@xensim/subjects";

/** One fault-control server's components: their rules now, how many faults fired, the last few. */
export interface FaultStatus {
  target: string;
  components: Record<
    string,
    { seed: number; rules: Readonly<FaultRules>; recordCount: number; lastRecords: FaultRecord[] }
  >;
}

/** A fault-control command: rules for one component (or all), or null to clear. */
export interface FaultCommand {
  /** Component name as registered with serveFaultControl ("bus", "calls.server", ...); default: all. */
  component?: string;
  rules: FaultRules | null;
}

export interface FaultControlReply {
  ok: boolean;
  error?: string;
  components: string[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Lets a running service's faults be switched over the bus: subscribes to
 * xensim.fault.set.<target> and xensim.fault.set.all (commands), and xensim.fault.records.<target>
 * (returns the fault records of every component). Returns the subscriptions' stopper.
 */
export function serveFaultControl(
  bus: EventBus,
  target: string,
  components: Record<string, FaultController>,
): { stop(): void } {
  const subs: Subscription[] = [];
  const onSet = (m: { data: Uint8Array; reply?: string }): void => {
    let reply: FaultControlReply;
    try {
      const cmd = JSON.parse(dec.decode(m.data)) as FaultCommand;
      const names = cmd.component ? [cmd.component] : Object.keys(components);
      for (const n of names) {
        if (!components[n]) throw new BusError(BusErrorCode.BadFaultRules, `unknown fault component '${n}'`);
      }
      const rules = cmd.rules === null ? null : validateFaultRules(cmd.rules);
      for (const n of names) {
        const c = components[n] as FaultController;
        if (rules === null) c.clear();
        else c.set(rules);
      }
      reply = { ok: true, components: names };
    } catch (err) {
      reply = { ok: false, error: err instanceof Error ? err.message : String(err), components: [] };
    }
    if (m.reply && !bus.closed) bus.publish(m.reply, enc.encode(JSON.stringify(reply)), { control: true });
  };
  subs.push(bus.subscribe(FAULT_SUBJECTS.set(target), { callback: onSet }));
  if (target !== FAULT_SUBJECTS.targetAll)
    subs.push(bus.subscribe(FAULT_SUBJECTS.set(FAULT_SUBJECTS.targetAll), { callback: onSet }));
  subs.push(
    bus.subscribe(FAULT_SUBJECTS.records(target), {
      callback: (m) => {
        const out: Record<string, { seed: number; records: readonly FaultRecord[] }> = {};
        for (const [n, c] of Object.entries(components)) out[n] = { seed: c.seed, records: c.records };
        if (m.reply && !bus.closed) bus.publish(m.reply, enc.encode(JSON.stringify(out)), { control: true });
      },
    }),
  );
  subs.push(
    bus.subscribe(FAULT_SUBJECTS.status, {
      callback: (m) => {
        const status: FaultStatus = { target, components: {} };
        for (const [n, c] of Object.entries(components))
          status.components[n] = {
            seed: c.seed,
            rules: c.rules,
            recordCount: c.records.length,
            lastRecords: c.records.slice(-10),
          };
        if (m.reply && !bus.closed)
          bus.publish(m.reply, enc.encode(JSON.stringify(status)), { control: true });
      },
    }),
  );
  return {
    stop: () => {
      for (const s of subs) s.unsubscribe();
    },
  };
}

let statusCounter = 0;

/** Asks every fault-control server on the bus for its FaultStatus; gathers answers for `waitMs`. */
export async function collectFaultStatus(
  bus: EventBus,
  opts: { waitMs?: number } = {},
): Promise<FaultStatus[]> {
  const inbox = FAULT_SUBJECTS.inbox(`status.${process.pid}.${Date.now()}.${++statusCounter}`);
  const out: FaultStatus[] = [];
  const sub = bus.subscribe(inbox, {
    callback: (m) => {
      try {
        out.push(JSON.parse(dec.decode(m.data)) as FaultStatus);
      } catch {
        // not a status
      }
    },
  });
  try {
    await bus.flush();
    bus.publish(FAULT_SUBJECTS.status, new Uint8Array(0), { reply: inbox });
    await new Promise((r) => setTimeout(r, opts.waitMs ?? 300));
  } finally {
    sub.unsubscribe();
  }
  return out.sort((a, b) => a.target.localeCompare(b.target));
}

/** Sets (or with null clears) a running target's faults; resolves with its answer. */
export async function sendFaultRules(
  bus: EventBus,
  target: string,
  rules: FaultRules | null,
  opts: { component?: string; timeoutMs?: number } = {},
): Promise<FaultControlReply> {
  const cmd: FaultCommand = { rules };
  if (opts.component) cmd.component = opts.component;
  const m = await bus.request(FAULT_SUBJECTS.set(target), enc.encode(JSON.stringify(cmd)), {
    timeoutMs: opts.timeoutMs ?? 2000,
  });
  const reply = JSON.parse(dec.decode(m.data)) as FaultControlReply;
  if (!reply.ok) throw new BusError(BusErrorCode.BadFaultRules, reply.error ?? "fault control failed");
  return reply;
}

/** Fetches a running target's fault records, per component. */
let collectCounter = 0;

/**
 * Every answer to a records request when several components share a target (a request keeps only
 * the first reply): publishes once with a private reply subject and gathers replies for `waitMs`.
 */
export async function collectFaultRecords(
  bus: EventBus,
  target: string,
  opts: { waitMs?: number } = {},
): Promise<Array<Record<string, { seed: number; records: FaultRecord[] }>>> {
  const inbox = FAULT_SUBJECTS.inbox(`${process.pid}.${Date.now()}.${++collectCounter}`);
  const out: Array<Record<string, { seed: number; records: FaultRecord[] }>> = [];
  const sub = bus.subscribe(inbox, {
    callback: (m) => {
      out.push(JSON.parse(dec.decode(m.data)) as Record<string, { seed: number; records: FaultRecord[] }>);
    },
  });
  try {
    await bus.flush();
    bus.publish(FAULT_SUBJECTS.records(target), new Uint8Array(0), { reply: inbox });
    await new Promise((r) => setTimeout(r, opts.waitMs ?? 500));
  } finally {
    sub.unsubscribe();
  }
  return out;
}

export async function fetchFaultRecords(
  bus: EventBus,
  target: string,
  opts: { timeoutMs?: number } = {},
): Promise<Record<string, { seed: number; records: FaultRecord[] }>> {
  const m = await bus.request(FAULT_SUBJECTS.records(target), new Uint8Array(0), {
    timeoutMs: opts.timeoutMs ?? 2000,
  });
  return JSON.parse(dec.decode(m.data)) as Record<string, { seed: number; records: FaultRecord[] }>;
}
