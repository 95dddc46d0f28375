// The chaos control plane of a service and of a host process, on the event bus:
//   xensim.chaos.svc.<service>   a service's fault points (set, heal, status, records)
//   xensim.chaos.host.<hostId>   a host process's workers (list, kill, restart, pause, resume)
//   xensim.chaos.hosts           every host process answers {op: "list"}
// Replies are control traffic: they pass the bus's fault stage untouched.

import { CHAOS_SUBJECTS } from "@xensim/subjects";
import {
  type ChaosCommand,
  type ChaosPoints,
  type ChaosReply,
  type HostChaosCommand,
  validateFaultSpec,
} from "@xensim/chaos";
import type { EventBus, Subscription } from "@xensim/bus";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Serves a service's fault points on xensim.chaos.svc.<service>. */
export function serveChaosPoints(bus: EventBus, points: ChaosPoints): { stop(): void } {
  const sub = bus.subscribe(CHAOS_SUBJECTS.service(points.service), {
    callback: (m) => {
      let reply: ChaosReply;
      try {
        const cmd = JSON.parse(dec.decode(m.data)) as ChaosCommand;
        switch (cmd.op) {
          case "set":
            points.set(validateFaultSpec(cmd.spec));
            reply = { ok: true, service: points.service, active: points.active };
            break;
          case "heal":
            reply = { ok: true, service: points.service, healed: points.heal(cmd.kind) };
            break;
          case "status":
            reply = { ok: true, service: points.service, kinds: points.kinds, active: points.active };
            break;
          case "records":
            reply = {
              ok: true,
              service: points.service,
              records: points.records.filter((r) => r.seq > (cmd.since ?? 0) && r.at >= (cmd.sinceAt ?? 0)),
            };
            break;
          case "observe":
            reply = {
              ok: true,
              service: points.service,
              observation: points.observation(cmd.name, cmd.action),
            };
            break;
          default:
            throw new Error(
              `unknown chaos op '${(cmd as { op: unknown }).op}' (set, heal, status, records, observe)`,
            );
        }
      } catch (err) {
        reply = {
          ok: false,
          service: points.service,
          error: err instanceof Error ? err.message : String(err),
        };
      }
      if (m.reply && !bus.closed) bus.publish(m.reply, enc.encode(JSON.stringify(reply)), { control: true });
    },
  });
  return { stop: () => sub.unsubscribe() };
}

export interface HostChaosReply {
  ok: boolean;
  error?: string;
  hostId: string;
  services?: Array<{ name: string; state: string; paused: boolean }>;
}

/** What a host process offers the chaos plane. */
export interface HostChaosTarget {
  hostId: string;
  list(): Array<{ name: string; state: string; paused: boolean }>;
  kill(service: string): Promise<void>;
  restart(service: string): Promise<void>;
  pause(service: string): void;
  resume(service?: string): void;
}

/** Serves a host process's workers on xensim.chaos.host.<hostId> and xensim.chaos.hosts. */
export function serveHostChaos(bus: EventBus, host: HostChaosTarget): { stop(): void } {
  const handle = async (cmd: HostChaosCommand): Promise<HostChaosReply> => {
    switch (cmd.op) {
      case "list":
        break;
      case "kill":
        await host.kill(cmd.service);
        break;
      case "restart":
        await host.restart(cmd.service);
        break;
      case "pause":
        host.pause(cmd.service);
        break;
      case "resume":
        host.resume(cmd.service);
        break;
      default:
        throw new Error(
          `unknown host chaos op '${(cmd as { op: unknown }).op}' (list, kill, restart, pause, resume)`,
        );
    }
    return { ok: true, hostId: host.hostId, services: host.list() };
  };
  const subs: Subscription[] = [];
  const serve = (subject: string, listOnly: boolean): void => {
    subs.push(
      bus.subscribe(subject, {
        callback: (m) => {
          void (async () => {
            let reply: HostChaosReply;
            try {
              const cmd = JSON.parse(dec.decode(m.data)) as HostChaosCommand;
              if (listOnly && cmd.op !== "list")
                throw new Error(
                  `${subject} answers only {op: "list"}; send ${cmd.op} to ${CHAOS_SUBJECTS.host("<hostId>")}`,
                );
              reply = await handle(cmd);
            } catch (err) {
              reply = {
                ok: false,
                hostId: host.hostId,
                error: err instanceof Error ? err.message : String(err),
              };
            }
            if (m.reply && !bus.closed)
              bus.publish(m.reply, enc.encode(JSON.stringify(reply)), { control: true });
          })();
        },
      }),
    );
  };
  serve(CHAOS_SUBJECTS.host(host.hostId), false);
  serve(CHAOS_SUBJECTS.hosts, true);
  return { stop: () => subs.forEach((s) => s.unsubscribe()) };
}
