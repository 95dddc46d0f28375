// The distributed placement the cross-host scenarios share: host A in this process (hypervisor,
// xenstored, a page-server, the guest runtime and the toolstack with its HTTP API) and host B, `xensim
// up --services page-server,blkback` in its own process, its blkback on host A's hypervisor and
// xenstored, the two joined by the page-servers' link. startCredentialedHostA starts host A under
// the credentials of `xensim keys init` (NATS nkeys under per-service permissions, gRPC with mutual
// TLS, the API behind its token); startBackendHost starts host B, with those credentials or
// --insecure. Each test keeps its own clean-up (what it asserts on the way down differs).
import { join } from "node:path";
import { connectNatsBus, type EventBus } from "@xensim/bus";
import { type HostHandle, startHost } from "@xensim/runtime";
import { inboxPrefix, initKeys, loadApiToken, loadCredentials } from "@xensim/security";
import { freePort, type NatsServer, startNatsServer, waitFor } from "@xensim/testkit";
import { serviceEntryPath, spawnXensim, type XensimProcess } from "./harness.js";

export interface CredentialedHostA {
  dir: string;
  /** The `xensim keys init` directory (hostA: hypervisor … toolstack; hostB: page-server, blkback). */
  keys: string;
  nats: NatsServer;
  hostA: HostHandle;
  /** The toolstack's API, `http://127.0.0.1:<port>`, and the header its token goes in. */
  api: string;
  token: string;
  auth: { authorization: string };
}

export interface CredentialedHostAOptions {
  /** Keys, the guest's state and host B's state go under here. */
  dir: string;
  sharedMemoryBytes: number;
  logLevel?: "warn" | "error";
}

/** Keys for hosts A and B, nats-server with their permissions, host A started and ready. */
export async function startCredentialedHostA(options: CredentialedHostAOptions): Promise<CredentialedHostA> {
  const keys = join(options.dir, "keys");
  await initKeys(keys, {
    hosts: {
      hostA: ["hypervisor", "xenstored", "page-server", "guest", "toolstack"],
      hostB: ["page-server", "blkback"],
    },
  });
  const nats = await startNatsServer({ args: ["-c", join(keys, "nats-server.conf")] });
  const apiPort = await freePort();
  const token = loadApiToken(keys);
  const hostA = await startHost({
    hostId: "hostA",
    nats: nats.url,
    keysDir: keys,
    services: [
      { name: "hypervisor", entry: serviceEntryPath("hypervisor"), config: {} },
      { name: "xenstored", entry: serviceEntryPath("xenstored"), config: {} },
      { name: "page-server", entry: serviceEntryPath("page-server"), config: {} },
      { name: "guest", entry: serviceEntryPath("guest"), config: { stateDir: join(options.dir, "guest") } },
      {
        name: "toolstack",
        entry: serviceEntryPath("toolstack"),
        config: {
          guest: "guest",
          api: { host: "127.0.0.1", port: apiPort, tokenFile: join(keys, "api-token") },
        },
      },
    ],
    sharedMemoryBytes: options.sharedMemoryBytes,
    logLevel: options.logLevel ?? "warn",
  });
  try {
    await hostA.ready;
  } catch (err) {
    await hostA.stop();
    await nats.stop();
    throw err;
  }
  return {
    dir: options.dir,
    keys,
    nats,
    hostA,
    api: `http://127.0.0.1:${apiPort}`,
    token,
    auth: { authorization: `Bearer ${token}` },
  };
}

/** A NATS connection as the `admin` client of `keys` (it may subscribe to every guest's status). */
export function connectAdminBus(keys: string, natsUrl: string): Promise<EventBus> {
  const admin = loadCredentials(keys, { client: "admin" });
  return connectNatsBus({
    servers: natsUrl,
    name: "test",
    nkeySeed: admin.natsSeed,
    inboxPrefix: inboxPrefix(admin.identity),
  });
}

export interface BackendHostOptions {
  nats: string;
  /** Host B's state directory. */
  stateDir: string;
  /** Host A's hypervisor and xenstored (gRPC addresses). */
  hypervisor: string;
  xenstored: string;
  /** The `xensim keys init` directory; without it host B runs --insecure. */
  keys?: string;
  /** More `xensim up` arguments (--http-port, --set …). */
  extraArgs?: string[];
}

/** Host B's `xensim up` (page-server and blkback), not waited for: see backendHostUp. */
export function spawnBackendHost(options: BackendHostOptions): XensimProcess {
  return spawnXensim([
    "up",
    "--nats",
    options.nats,
    "--services",
    "page-server,blkback",
    "--host-id",
    "hostB",
    "--state-dir",
    options.stateDir,
    ...(options.keys !== undefined ? ["--keys", options.keys] : ["--insecure"]),
    "--set",
    "blkback.hypervisorHost=hostA",
    "--set",
    `blkback.hypervisor=${options.hypervisor}`,
    "--set",
    `blkback.xenstored=${options.xenstored}`,
    ...(options.extraArgs ?? []),
  ]);
}

/** Waits until host B says its services are up. */
export async function backendHostUp(hostB: XensimProcess, timeoutMs: number): Promise<void> {
  await waitFor(() => hostB.output().includes("services: page-server, blkback"), {
    timeoutMs,
    message: `host B up: ${hostB.output()}`,
  });
}

/** Host B for a credentialed host A: started with its keys and waited for (stopped if it never comes up). */
export async function startBackendHost(hostA: CredentialedHostA, timeoutMs: number): Promise<XensimProcess> {
  const hostB = spawnBackendHost({
    nats: hostA.nats.url,
    stateDir: join(hostA.dir, "hostB"),
    keys: hostA.keys,
    hypervisor: hostA.hostA.services.get("hypervisor")!.grpcAddress!,
    xenstored: hostA.hostA.services.get("xenstored")!.grpcAddress!,
  });
  try {
    await backendHostUp(hostB, timeoutMs);
  } catch (err) {
    await hostB.stop();
    throw err;
  }
  return hostB;
}
