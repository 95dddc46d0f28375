// Starts real xensim processes for scenario tests: the xensim command, as a user would run it.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { type HostHandle, startHost } from "@xensim/runtime";
import { waitFor } from "@xensim/testkit";

export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");
export const XENSIM_BIN = join(REPO_ROOT, "packages", "cli", "dist", "main.js");

export interface XensimProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  output(): string;
  /** SIGKILL, as `kill -9` does, and wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for a clean exit; returns the exit code. */
  stop(): Promise<number | null>;
}

/** Every process spawned here that has not exited: killed when the test process exits, pass or fail. */
const live = new Set<ChildProcess>();
let exitHook = false;
function track(proc: ChildProcess): void {
  live.add(proc);
  proc.once("exit", () => live.delete(proc));
  if (exitHook) return;
  exitHook = true;
  const killAll = () => {
    for (const p of live) p.kill("SIGKILL");
  };
  process.once("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.once(sig, () => {
      killAll();
      process.exit(1);
    });
}

export function spawnXensim(args: string[], env: Record<string, string> = {}): XensimProcess {
  const proc = spawn(process.execPath, [XENSIM_BIN, ...args], {
    env: { ...process.env, XENSIM_LOG_LEVEL: process.env.XENSIM_LOG_LEVEL ?? "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  track(proc);
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return {
    proc,
    pid: proc.pid!,
    output: () => out,
    async kill9() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      return exited;
    },
  };
}

/** Runs `xensim xenstored` on a socket (and optionally gRPC/NATS) and waits until it answers. */
export async function startXenstored(opts: {
  socket: string;
  stateDir?: string;
  grpc?: string;
  nats?: string;
  /** Serve /healthz and /metrics on this port. */
  httpPort?: number;
}): Promise<XensimProcess> {
  const args = ["xenstored", "--socket", opts.socket];
  if (opts.stateDir) args.push("--state-dir", opts.stateDir);
  if (opts.grpc) args.push("--grpc", opts.grpc);
  if (opts.nats) args.push("--nats", opts.nats);
  if (opts.httpPort !== undefined) args.push("--http-port", String(opts.httpPort));
  if (opts.grpc || opts.nats) args.push("--insecure"); // the credentials' tests are test/src/isolation.test.ts
  const p = spawnXensim(args);
  // Accepting connections, not just a socket file (a killed daemon leaves a stale one behind).
  await waitFor(
    async () =>
      p.proc.exitCode !== null || (existsSync(opts.socket) && (await acceptsConnections(opts.socket))),
    {
      timeoutMs: 20_000,
      message: "xenstored socket",
    },
  );
  if (p.proc.exitCode !== null) throw new Error(`xenstored exited: ${p.output()}`);
  return p;
}

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Whether something accepts connections on the unix socket at `path`. */
export function acceptsConnections(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of Debian's xenstore-* binaries against our daemon through XENSTORED_PATH. */
export function xenstoreTool(socket: string, tool: string, args: string[], timeoutMs = 10_000): RunResult {
  const r = spawnSync(tool, args, {
    env: { ...process.env, XENSTORED_PATH: socket },
    encoding: "utf8",
    timeout: timeoutMs,
  });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export function haveBinary(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
}

/** Compiled entry point of a service (started by path, never imported). */
export function serviceEntryPath(
  name: "xenstored" | "hypervisor" | "page-server" | "blkback" | "guest" | "toolstack" | "device-model",
): string {
  return join(REPO_ROOT, "services", name, "dist", "main.js");
}

/** An embedded host (worker threads, in-process bus and calls) running the hypervisor and xenstored. */
export function startHypervisorHost(
  opts: { hypervisorConfig?: Record<string, unknown> } = {},
): Promise<HostHandle> {
  return startHost({
    services: [
      { name: "hypervisor", entry: serviceEntryPath("hypervisor"), config: opts.hypervisorConfig ?? {} },
      { name: "xenstored", entry: serviceEntryPath("xenstored"), config: {} },
    ],
    logLevel: "warn",
  });
}

/** Runs `xensim xl --state-dir DIR ARGS…` to its end (SIGKILL after `timeoutMs`); its exit status and output. */
export function runXl(
  stateDir: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [XENSIM_BIN, "xl", "--state-dir", stateDir, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.once("exit", (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}
