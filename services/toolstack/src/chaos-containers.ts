// The container fault kinds on a compose deployment, through Docker's API (dockerode on the docker
// socket the deployment gives the toolstack: deploy/chaos.compose.yml). A kind names the compose
// service (host-a, xenstored, blkback, nats, ...); its container is found by the compose labels of
// this toolstack's own project. Every action is recorded (what /chaos/records answers).

import { readFileSync } from "node:fs";
import type { FaultHit } from "@xensim/chaos";
import Docker from "dockerode";
import { ChaosError, type ContainerFaults } from "./chaos.js";

export interface DockerChaosOptions {
  /** The docker socket (default /var/run/docker.sock). */
  socket?: string;
  /** The compose project; default: this toolstack's own container's project label. */
  project?: string;
  /** Wall clock (ms). */
  now?: () => number;
}

const PROJECT_LABEL = "com.docker.compose.project";
const SERVICE_LABEL = "com.docker.compose.service";

/** This process's container id, from the bind mounts Docker makes (/etc/hostname, /etc/hosts). */
export function ownContainerId(mountinfo: string): string | undefined {
  return /\/containers\/([0-9a-f]{64})\//.exec(mountinfo)?.[1];
}

/** Docker's error as a message (dockerode puts the daemon's JSON answer in `json`). */
function dockerMessage(e: unknown): string {
  const x = e as { json?: { message?: string }; statusCode?: number; message?: string };
  return x.json?.message ?? x.message ?? String(e);
}

interface Detached {
  network: string;
  aliases: string[];
}

export class DockerContainerFaults implements ContainerFaults {
  private readonly docker: Docker;
  private readonly now: () => number;
  private self: Promise<{ id?: string; project: string; service?: string }> | undefined;
  /** container.network-disconnected: the networks each container was taken off (for the heal). */
  private readonly detached = new Map<string, Detached[]>();
  private readonly hits: FaultHit[] = [];
  private seq = 0;

  constructor(private readonly options: DockerChaosOptions = {}) {
    this.docker = new Docker({ socketPath: options.socket ?? "/var/run/docker.sock" });
    this.now = options.now ?? Date.now;
  }

  /** The project and (when found) this toolstack's own container. */
  private whoAmI(): Promise<{ id?: string; project: string; service?: string }> {
    this.self ??= (async () => {
      let id: string | undefined;
      try {
        id = ownContainerId(readFileSync("/proc/self/mountinfo", "utf8"));
      } catch {
        id = undefined;
      }
      let labels: Record<string, string> = {};
      if (id !== undefined) {
        try {
          labels = (await this.docker.getContainer(id).inspect()).Config.Labels ?? {};
        } catch {
          id = undefined; // not a container this daemon knows
        }
      }
      const project = this.options.project ?? labels[PROJECT_LABEL];
      if (project === undefined)
        throw new ChaosError(
          409,
          "container kinds: no compose project (chaos.docker.project unset and this toolstack is not in a compose container)",
        );
      return {
        ...(id !== undefined ? { id } : {}),
        project,
        ...(labels[SERVICE_LABEL] ? { service: labels[SERVICE_LABEL] } : {}),
      };
    })();
    const p = this.self;
    p.catch(() => {
      if (this.self === p) this.self = undefined; // ask again next time
    });
    return p;
  }

  /** The compose service's container (the first, by name, when it is scaled). */
  private async containerOf(service: string): Promise<{ id: string; name: string; project: string }> {
    const me = await this.whoAmI();
    if (me.service === service)
      throw new ChaosError(
        409,
        `${service}: that container runs the fault API itself (the toolstack); kill, pause or disconnect it from outside`,
      );
    let list: Docker.ContainerInfo[];
    try {
      list = await this.docker.listContainers({
        all: true,
        filters: { label: [`${PROJECT_LABEL}=${me.project}`] },
      });
    } catch (e) {
      throw new ChaosError(409, `Docker's API: ${dockerMessage(e)}`);
    }
    const mine = list
      .filter((c) => c.Labels[SERVICE_LABEL] === service)
      .sort((a, b) => (a.Names[0] ?? "").localeCompare(b.Names[0] ?? ""));
    const c = mine[0];
    if (!c) {
      const services = [
        ...new Set(list.map((x) => x.Labels[SERVICE_LABEL]).filter((x) => x !== undefined)),
      ].sort();
      throw new ChaosError(
        404,
        `compose service ${service} has no container in project ${me.project} (its services: ${services.join(", ") || "none"})`,
      );
    }
    return { id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ""), project: me.project };
  }

  private record(service: string, kind: string, target: string): void {
    this.hits.push({ seq: ++this.seq, at: this.now(), service: `docker@${service}`, kind, target });
    if (this.hits.length > 10_000) this.hits.shift();
  }

  async act(kind: string, service: string, action: "set" | "heal"): Promise<void> {
    const c = await this.containerOf(service);
    const container = this.docker.getContainer(c.id);
    const docker = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (e) {
        throw new ChaosError(409, `${what} ${c.name}: ${dockerMessage(e)}`);
      }
    };
    switch (kind) {
      case "container.killed": {
        if (action === "heal") return; // one-shot
        await docker("killing", () => container.kill({ signal: "SIGKILL" }));
        this.record(service, kind, `${c.name}: SIGKILL`);
        // Docker does not apply a restart policy to a container it killed on request (it counts as
        // stopped by hand): start it again as the policy does after a crash
        const state = await docker("inspecting", () => container.inspect());
        if (!state.State.Running && !state.State.Restarting) {
          await docker("starting", () => container.start()).catch((e: ChaosError) => {
            if (!/already started/i.test(e.message)) throw e;
          });
          this.record(service, kind, `${c.name}: started again (as its restart policy would after a crash)`);
        }
        return;
      }
      case "container.restarted":
        if (action === "heal") return;
        await docker("restarting", () => container.restart({ t: 10 }));
        this.record(service, kind, `${c.name}: stopped (SIGTERM) and started`);
        return;
      case "container.paused":
        if (action === "set") {
          await docker("pausing", () => container.pause());
          this.record(service, kind, `${c.name}: paused (cgroup freezer)`);
        } else {
          await docker("unpausing", () => container.unpause()).catch((e: ChaosError) => {
            if (!/not paused/i.test(e.message)) throw e;
          });
          this.record(service, kind, `${c.name}: unpaused`);
        }
        return;
      case "container.network-disconnected":
        if (action === "set") {
          const info = await docker("inspecting", () => container.inspect());
          const nets = Object.entries(info.NetworkSettings.Networks ?? {}).filter(([name]) =>
            name.startsWith(`${c.project}_`),
          );
          if (nets.length === 0)
            throw new ChaosError(409, `${c.name} is on no network of project ${c.project}`);
          const shortId = c.id.slice(0, 12);
          const taken: Detached[] = [];
          for (const [name, ep] of nets) {
            await docker(`disconnecting ${name} from`, () =>
              this.docker.getNetwork(name).disconnect({ Container: c.id, Force: true }),
            );
            taken.push({ network: name, aliases: (ep.Aliases ?? []).filter((a: string) => a !== shortId) });
          }
          this.detached.set(c.id, [...(this.detached.get(c.id) ?? []), ...taken]);
          this.record(
            service,
            kind,
            `${c.name}: disconnected from ${taken.map((t) => t.network).join(", ")}`,
          );
        } else {
          const taken = this.detached.get(c.id) ?? [];
          this.detached.delete(c.id);
          for (const t of taken)
            await docker(`connecting ${t.network} to`, () =>
              this.docker.getNetwork(t.network).connect({
                Container: c.id,
                EndpointConfig: { Aliases: t.aliases },
              }),
            ).catch((e: ChaosError) => {
              if (!/already exists|already attached/i.test(e.message)) throw e;
            });
          this.record(
            service,
            kind,
            `${c.name}: connected again to ${taken.map((t) => t.network).join(", ")}`,
          );
        }
        return;
      default:
        throw new ChaosError(400, `${kind}: not a container kind`);
    }
  }

  /** Every action taken on a container since `sinceAt` (wall-clock ms). */
  records(sinceAt?: number): FaultHit[] {
    return this.hits.filter((h) => sinceAt === undefined || h.at >= sinceAt);
  }
}
