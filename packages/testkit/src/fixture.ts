// A child process that speaks JSON lines: the cross-host scenarios run host A as a child, read its
// JSON lines from stdout (ready, results) and send it commands on stdin.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { waitFor } from "./wait.js";

export interface JsonLinesChild {
  readonly child: ChildProcess;
  /** Every JSON line received and not yet taken. */
  readonly lines: Array<Record<string, unknown>>;
  /** Takes the first line having `key` (waiting up to `timeoutMs`, default 60 s). */
  next(key: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Writes one line to its stdin. */
  send(line: string): void;
  /** Sends `stopLine` (if given), waits up to `graceMs` for the exit, then SIGKILL. */
  stop(stopLine?: string, graceMs?: number): Promise<void>;
}

/** Runs `node script ...args`; stderr is inherited (the child's logs show in the test output). */
export function spawnJsonLinesChild(script: string, args: string[] = []): JsonLinesChild {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const lines: Array<Record<string, unknown>> = [];
  createInterface({ input: child.stdout! }).on("line", (l) => {
    try {
      const v = JSON.parse(l) as unknown;
      if (v !== null && typeof v === "object" && !Array.isArray(v)) lines.push(v as Record<string, unknown>);
    } catch {
      // log output
    }
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    child,
    lines,
    async next(key, timeoutMs = 60_000) {
      await waitFor(() => lines.some((l) => key in l), { timeoutMs, message: `child: ${key}` });
      const i = lines.findIndex((l) => key in l);
      return lines.splice(i, 1)[0]!;
    },
    send(line) {
      child.stdin!.write(`${line}\n`);
    },
    async stop(stopLine, graceMs = 10_000) {
      if (stopLine !== undefined && child.exitCode === null) child.stdin!.write(`${stopLine}\n`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}
