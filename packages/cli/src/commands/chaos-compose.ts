// The compose placement of a chaos run (`xensim chaos run FILE --compose [--project NAME]`, or a
// scenario with `host: {layout: compose}`): the schedule plays on a docker-compose deployment that is
// already up. Everything goes through the toolstack's published HTTP API — the one fault API
// (/chaos/faults, the container kinds included), the guests' statuses (the dashboard's snapshot),
// xenstored's transaction history (/chaos/observe) and the leak audit (/chaos/leaks) — and Docker's
// API (dockerode) only finds the toolstack's port and reads the deployment's API token.

import { PassThrough } from "node:stream";
import { basename } from "node:path";
import type { LeakEvidence, XsHistoryEvent } from "@xensim/chaos";
import type { GuestStatusJson } from "@xensim/proto";
import Docker from "dockerode";
import { sleep } from "./chaos-host.js";
import { callToolstack } from "./chaos-target.js";

const PROJECT_LABEL = "com.docker.compose.project";
const SERVICE_LABEL = "com.docker.compose.service";

/** Compose's default project name: the directory's name, lower case, letters and digits only. */
export function defaultComposeProject(cwd = process.cwd()): string {
  return (
    process.env.COMPOSE_PROJECT_NAME ??
    basename(cwd)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "")
  );
}

export interface ComposeAttachOptions {
  project: string;
  /** The docker socket (default /var/run/docker.sock, or DOCKER_HOST's unix path). */
  socket?: string;
  /** The xensim services whose fault records the report reads. */
  services: readonly string[];
  /** How long to wait for the containers' health checks to say healthy, ms (default 180,000). */
  healthyWithinMs?: number;
  /** How often the guests' statuses are read from the toolstack, ms (default 200). */
  statusPollMs?: number;
}

/** Runs a command in a container through Docker's exec API; its stdout, or throws with stderr. */
async function execIn(docker: Docker, containerId: string, cmd: string[]): Promise<string> {
  const exec = await docker
    .getContainer(containerId)
    .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (b: Buffer) => out.push(b));
  stderr.on("data", (b: Buffer) => err.push(b));
  docker.modem.demuxStream(stream, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    stream.once("end", () => resolve());
    stream.once("close", () => resolve());
    stream.once("error", reject);
  });
  const { ExitCode } = await exec.inspect();
  if (ExitCode !== 0)
    throw new Error(
      `${cmd.join(" ")} in ${containerId.slice(0, 12)}: exit ${ExitCode}: ${Buffer.concat(err).toString()}`,
    );
  return Buffer.concat(out).toString();
}

const nodeCmd = (js: string): string[] => ["node", "-e", js];

export class ComposeChaosHost {
  private readonly statusListeners = new Set<(g: GuestStatusJson) => void>();
  private poller: NodeJS.Timeout | undefined;
  /** The last status it handed out per domain (statuses are read by polling: each only once). */
  private readonly seen = new Map<number, string>();
  /** After a job ends, how long its last status (with the ledger) takes to reach the toolstack. */
  readonly settleMs: number;

  private constructor(
    readonly project: string,
    readonly api: string,
    private readonly token: string,
    readonly services: readonly string[],
    private readonly docker: Docker,
    private readonly statusPollMs: number,
  ) {
    this.settleMs = 2 * statusPollMs + 500;
  }

  /** Where a person reaches this run's host (the deployment's toolstack). */
  get stateDir(): string {
    return `compose project ${this.project} (${this.api})`;
  }

  /** Finds the project's toolstack and its published API port; reads the API token from its keys. */
  static async attach(options: ComposeAttachOptions): Promise<ComposeChaosHost> {
    const docker = new Docker({ socketPath: options.socket ?? "/var/run/docker.sock" });
    let list: Docker.ContainerInfo[];
    try {
      list = await docker.listContainers({ filters: { label: [`${PROJECT_LABEL}=${options.project}`] } });
    } catch (e) {
      throw new Error(`compose: Docker's API does not answer (${(e as Error).message})`, { cause: e });
    }
    // a deployment just brought up: wait (bounded) until every container with a health check is healthy
    const healthDeadline = Date.now() + (options.healthyWithinMs ?? 180_000);
    while (list.some((c) => /health: starting|unhealthy/.test(c.Status)) && Date.now() < healthDeadline) {
      await sleep(1000);
      list = await docker.listContainers({ filters: { label: [`${PROJECT_LABEL}=${options.project}`] } });
    }
    const toolstack = list.find((c) => c.Labels[SERVICE_LABEL] === "toolstack");
    if (!toolstack)
      throw new Error(
        `compose project ${options.project}: no running toolstack container (${list.length} container(s) running); bring it up with ` +
          `docker-compose -p ${options.project} -f docker-compose.yml -f deploy/chaos.compose.yml up -d`,
      );
    const port = toolstack.Ports.find((p) => p.PrivatePort === 9080 && p.PublicPort);
    if (!port)
      throw new Error(`compose project ${options.project}: the toolstack's API (9080) is not published`);
    const host = !port.IP || port.IP === "0.0.0.0" ? "127.0.0.1" : port.IP === "::" ? "[::1]" : port.IP;
    const token = (
      await execIn(
        docker,
        toolstack.Id,
        nodeCmd("process.stdout.write(require('fs').readFileSync('/keys/api-token','utf8'))"),
      )
    ).trim();
    const h = new ComposeChaosHost(
      options.project,
      `http://${host}:${port.PublicPort}`,
      token,
      options.services,
      docker,
      options.statusPollMs ?? 200,
    );
    // the container kinds need the toolstack's docker socket (deploy/chaos.compose.yml)
    const kinds = await h.call<{ kinds?: Array<{ kind: string }> }>("GET", "/chaos/kinds");
    if (kinds.status !== 200)
      throw new Error(`compose project ${options.project}: GET /chaos/kinds: HTTP ${kinds.status}`);
    return h;
  }

  /** Calls the toolstack's HTTP API with the deployment's token. */
  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    text?: string,
  ): Promise<{ status: number; json: T }> {
    return callToolstack<T>(this.api, this.token, {
      method,
      path,
      ...(body !== undefined ? { body } : {}),
      ...(text !== undefined ? { text } : {}),
      timeoutMs: 60_000,
    });
  }

  private async pollStatuses(): Promise<void> {
    const r = await this.call<{ guests?: GuestStatusJson[] }>("GET", "/dashboard/api/snapshot").catch(
      () => undefined,
    );
    for (const g of r?.json.guests ?? []) {
      const key = JSON.stringify(g);
      if (this.seen.get(g.domid) === key) continue;
      this.seen.set(g.domid, key);
      for (const l of this.statusListeners) l(g);
    }
  }

  private events: AbortController | undefined;

  /** Keeps the dashboard's event stream open (read and dropped), reopening it if it ends. */
  private holdEvents(): void {
    const ctl = new AbortController();
    this.events = ctl;
    void (async () => {
      while (!ctl.signal.aborted) {
        try {
          const res = await fetch(`${this.api}/dashboard/api/events`, {
            headers: { authorization: `Bearer ${this.token}` },
            signal: ctl.signal,
          });
          const reader = res.body?.getReader();
          if (reader) for (;;) if ((await reader.read()).done) break;
        } catch {
          // aborted, or the toolstack restarted: open it again
        }
        await sleep(500, ctl.signal);
      }
    })();
  }

  /** Every guest status the toolstack sees from now until the returned function is called. */
  onStatus(l: (g: GuestStatusJson) => void): () => void {
    this.statusListeners.add(l);
    if (!this.poller) {
      // the dashboard's hub follows the guests' statuses only while a client reads its events
      this.holdEvents();
      let busy = false;
      this.poller = setInterval(() => {
        if (busy) return;
        busy = true;
        void this.pollStatuses().finally(() => {
          busy = false;
        });
      }, this.statusPollMs);
    }
    return () => {
      this.statusListeners.delete(l);
      if (this.statusListeners.size === 0 && this.poller) {
        clearInterval(this.poller);
        this.poller = undefined;
        this.events?.abort();
        this.events = undefined;
      }
    };
  }

  /** xenstored's transaction history through the toolstack (POST /chaos/observe). */
  async observeHistory(action: "start" | "take"): Promise<XsHistoryEvent[] | undefined> {
    const r = await this.call<{ observation?: XsHistoryEvent[] | null; error?: string }>(
      "POST",
      "/chaos/observe",
      {
        service: "xenstored",
        name: "xenstore-history",
        action,
      },
    );
    if (r.status !== 200) throw new Error(r.json.error ?? `HTTP ${r.status}`);
    return r.json.observation ?? undefined;
  }

  async startHistory(signal?: AbortSignal): Promise<string | undefined> {
    for (let tries = 0; ; tries++) {
      try {
        await this.observeHistory("start");
        return undefined;
      } catch (e) {
        const msg = (e as Error).message;
        if (tries >= 50 || !/not running|no responders|does not answer/.test(msg) || signal?.aborted)
          return msg;
        await sleep(200, signal);
      }
    }
  }

  /** The leak audit of destroyed domains, against the deployment's hypervisor and xenstored. */
  async auditLeaks(domains: Array<{ guest: string; domid: number }>): Promise<LeakEvidence[]> {
    const r = await this.call<{ leaks?: LeakEvidence[]; error?: string }>("POST", "/chaos/leaks", {
      domains,
    });
    if (r.status !== 200 || !r.json.leaks)
      throw new Error(`POST /chaos/leaks: ${r.json.error ?? `HTTP ${r.status}`}`);
    return r.json.leaks;
  }

  /** Removes a schedule's file disk from blkback's image directory (the xensim-images volume). */
  async removeDisk(file: string): Promise<void> {
    if (!/^[A-Za-z0-9._-]+$/.test(file)) return;
    const list = await this.docker.listContainers({
      filters: { label: [`${PROJECT_LABEL}=${this.project}`, `${SERVICE_LABEL}=blkback`] },
    });
    const c = list[0];
    if (!c) return;
    await execIn(
      this.docker,
      c.Id,
      nodeCmd(
        `require('fs').rmSync(require('path').join('/var/lib/xensim/images', ${JSON.stringify(file)}), { force: true })`,
      ),
    ).catch(() => {});
  }

  /** Nothing to stop: the deployment outlives the run. */
  async stop(): Promise<void> {
    this.events?.abort();
    this.events = undefined;
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    this.statusListeners.clear();
  }
}
