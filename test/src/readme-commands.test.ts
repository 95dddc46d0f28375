// Every shell command in README.md, deploy/README.md, bench/README.md and examples/README.md,
// run as written on a fresh clone: `git clone` of this commit into a temp directory, the README's
// own `npm ci`, then each command in order against the host `npm start` brings up. The commands
// that listen or connect run in a network namespace of their own, so the README's fixed ports
// (the toolstack on 9080) are free whatever else runs on the machine. Every command found must be
// classified below: run (with what it must print), or skipped with the reason (Docker, the whole
// test suite). Benchmarks run with a tiny duration.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { waitFor } from "@xensim/testkit";
import { REPO_ROOT } from "./harness.js";

const READMES = ["README.md", "deploy/README.md", "bench/README.md", "examples/README.md"] as const;

interface ReadmeCommand {
  file: string;
  /** Index of the fenced block in its file. */
  block: number;
  line: string;
}

/** The command lines of every ```sh block: continuations joined, comments and blank lines dropped. */
export function extractCommands(file: string, text: string): ReadmeCommand[] {
  const out: ReadmeCommand[] = [];
  let block = 0;
  for (const m of text.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
    for (const raw of m[1]!.replace(/\s*\\\n\s*/g, " ").split("\n")) {
      const line = stripComment(raw).trim();
      if (line) out.push({ file, block, line });
    }
    block++;
  }
  return out;
}

/** Drops a trailing `# comment` that is not inside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

type Where = "outside" | "host" | "examples-host";

interface Rule {
  match: RegExp;
  /** Why it does not run here; absent = it runs. */
  skip?: string;
  /** `outside`: no network namespace (npm ci needs the registry); `host`: beside `npm start`'s host. */
  where?: Where;
  /** How the command is adjusted to run here (a tiny benchmark duration, a temp path, a value read before). */
  rewrite?: (line: string, seen: Seen) => string;
  /** What its output must show. */
  expect?: RegExp;
  timeoutMs?: number;
}

interface Seen {
  nbdUri?: string;
  tmp: string;
}

const TINY = (flag: string, value: string) => (line: string) =>
  new RegExp(`${flag} \\S+`).test(line)
    ? line.replace(new RegExp(`${flag} \\S+`), `${flag} ${value}`)
    : `${line} ${flag} ${value}`;

const RULES: Rule[] = [
  // README.md
  { match: /^npm ci && npm start$/, where: "outside" }, // handled in before(): npm ci, then npm start as the host
  { match: /^npm test$/, skip: "the whole test suite, which this test is part of" },
  { match: /^npx xensim xl list$/, where: "host", expect: /guest1/ },
  {
    match: /^npx xensim xl block-list guest1$/,
    where: "host",
    expect: /^xvda\s+\d+\s+0\s+Connected\/Connected\s+\d+\s+\d+\s+\S+\s+nbd\+unix:\/\/\S+$/m,
  },
  {
    match: /^fio --ioengine=nbd --uri=<that NBD URI> /,
    where: "host",
    rewrite: (l, seen) => l.replace("<that NBD URI>", `'${seen.nbdUri}'`),
    expect: /read: IOPS=/,
    timeoutMs: 120_000,
  },
  { match: /^export XENSTORED_PATH=\.xensim\/xenstored\.sock$/, where: "host" },
  { match: /^xenstore-ls \/local\/domain$/, where: "host", expect: /name = "guest1"/ },
  // deploy/README.md
  {
    // npm ci ran in before() (its prepare is the build); a second one would pull node_modules from
    // under the running host, so only the build runs again
    match: /^npm ci && npm run build$/,
    where: "outside",
    rewrite: () => "npm run build",
    timeoutMs: 300_000,
  },
  {
    match: /^node deploy\/context\.mjs \/tmp\/xensim-ctx$/,
    where: "outside",
    rewrite: (l, seen) => l.replace("/tmp/xensim-ctx", join(seen.tmp, "ctx")),
    timeoutMs: 300_000,
  },
  { match: /^docker[ -]/, skip: "needs Docker (the compose tests run these: test/src/compose*.test.ts)" },
  { match: /^npx xensim xl --api http:\/\/127\.0\.0\.1:9080 list$/, where: "host", expect: /guest1/ },
  {
    match: /^export XENSIM_API_TOKEN=\$\(docker-compose /,
    skip: "reads the token from the compose deployment's toolstack container (Docker)",
  },
  {
    match: /^npx xensim xl --api http:\/\/127\.0\.0\.1:9080 (create|block-list) /,
    skip: "creates a guest in the compose deployment (Docker): compose.test.ts creates one and reads its disk from this machine",
  },
  {
    match: /^fio --name=x --ioengine=nbd --uri=nbd:\/\/127\.0\.0\.1:10809\//,
    skip: "an NBD export published by the compose deployment (Docker): compose.test.ts reads and writes one from this machine",
  },
  {
    match: /^bash \.ci\/docker\.sh$/,
    skip: "installs and starts dockerd as root (CI runs it before the tests)",
  },
  {
    match: /^npm ci && npm run build && node deploy\/context\.mjs /,
    skip: "the build and context steps of the commands above, which run here; the rest needs Docker",
  },
  { match: /^BASE_IMAGE=xensim-base:local docker-compose /, skip: "needs Docker (compose.test.ts)" },
  // bench/README.md: every benchmark with a tiny duration
  {
    match: /^npx xensim bench (xenstore|hypervisor|link|ioreq) /,
    where: "host",
    rewrite: TINY("--duration-ms", "100"),
    expect: /wrote bench\/results\/[\w-]+\.json/,
    timeoutMs: 240_000,
  },
  {
    match: /^npx xensim bench (blk|rings) /,
    where: "host",
    rewrite: TINY("--duration", "0.3"),
    expect: /wrote bench\/results\/[\w-]+\.json/,
    timeoutMs: 300_000,
  },
  {
    // the multi-queue table: per queue count, blkback queue threads off then on
    match: /^for q in 1 2 4; do npx xensim bench rings /,
    where: "host",
    rewrite: (line) => line.replace(/--duration \S+/g, "--duration 0.3"),
    expect: /wrote bench\/results\/mq-null-q4-threads-on\.json/,
    timeoutMs: 300_000,
  },
  {
    match: /^npx xensim bench trace-cost /,
    where: "host",
    rewrite: (l) => `${l} --round-ms 20 --rounds 2`,
    expect: /wrote bench\/results\/trace-cost\.json/,
    timeoutMs: 240_000,
  },
  { match: /^node scripts\/bench-readme\.mjs$/, where: "outside" },
  // examples/README.md: against a host of its own (`xensim up --no-examples`, the API on 9080),
  // whose API token is in its own state directory
  {
    match:
      /^curl -s -X POST -H "authorization: Bearer \$\(cat \.xensim\/api-token\)" -H 'content-type: text\/plain' /,
    where: "examples-host",
    rewrite: (l) => l.replaceAll(".xensim/api-token", ".xensim-examples/api-token"),
    expect: /"domid":1,.*"name":"guest1"/,
    timeoutMs: 60_000,
  },
  {
    match:
      /^curl -s -H "authorization: Bearer \$\(cat \.xensim\/api-token\)" http:\/\/127\.0\.0\.1:9080\/domains$/,
    where: "examples-host",
    rewrite: (l) => l.replaceAll(".xensim/api-token", ".xensim-examples/api-token"),
    expect: /"name":"guest1"/,
  },
  {
    match:
      /^curl -s -H "authorization: Bearer \$\(cat \.xensim\/api-token\)" http:\/\/127\.0\.0\.1:9080\/domains\/1\/disks$/,
    where: "examples-host",
    rewrite: (l) => l.replaceAll(".xensim/api-token", ".xensim-examples/api-token"),
    expect: /"vdev":"xvda"/,
  },
  {
    match:
      /^curl -s -X DELETE -H "authorization: Bearer \$\(cat \.xensim\/api-token\)" http:\/\/127\.0\.0\.1:9080\/domains\/1$/,
    where: "examples-host",
    rewrite: (l) => l.replaceAll(".xensim/api-token", ".xensim-examples/api-token"),
    expect: /"steps":\[/,
    timeoutMs: 60_000,
  },
];

function ruleFor(c: ReadmeCommand): Rule {
  const found = RULES.filter((r) => r.match.test(c.line));
  assert.equal(
    found.length,
    1,
    `${c.file}: \`${c.line}\` matches ${found.length} rules of readme-commands.test.ts: classify it (run, or skip with a reason)`,
  );
  return found[0]!;
}

/** Longest life of anything this test starts (seconds): well past the test's own timeouts. */
const LIFETIME_S = 1800;

const haveNetns = (): string | false => {
  if (spawnSync("unshare", ["-n", "true"]).status !== 0)
    return "no network namespace (unshare -n needs root)";
  if (spawnSync("sh", ["-c", "command -v ip"]).status !== 0) return "no ip(8) (iproute2)";
  return false;
};

/** A network namespace held by a sleeping process, with its loopback up. */
async function netns(): Promise<{ run: (args: string[]) => string[]; close: () => void }> {
  // The holder ends on its own (`sleep`), even when the test process is killed before its after().
  const holder = spawn("unshare", ["-n", "sleep", String(LIFETIME_S)], { stdio: "ignore" });
  const enter = ["nsenter", "-t", String(holder.pid), "-n", "--"];
  // Until unshare(2) has run, the holder is still in this namespace: wait for it to have its own.
  const mine = readlinkSync("/proc/self/ns/net");
  await waitFor(
    () => {
      try {
        return readlinkSync(`/proc/${holder.pid}/ns/net`) !== mine;
      } catch {
        return false;
      }
    },
    { timeoutMs: 10_000, message: "unshare -n: a namespace of its own" },
  );
  const up = spawnSync(enter[0]!, [...enter.slice(1), "ip", "link", "set", "lo", "up"], { encoding: "utf8" });
  assert.equal(up.status, 0, up.stderr);
  return {
    run: (args) => [...enter, ...args],
    close: () => {
      holder.kill("SIGKILL");
    },
  };
}

interface Started {
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** A long-running command in its own process group (stopped with SIGTERM to the group). */
function startLong(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Started {
  // Bounded by timeout(1): a runner that kills this test file (its timeout) skips after(), and an
  // `npm start` left behind would keep two cores busy for good.
  const bounded = ["timeout", "-k", "10", String(LIFETIME_S), ...argv];
  const proc = spawn(bounded[0]!, bounded.slice(1), {
    cwd,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  return {
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        try {
          process.kill(-proc.pid!, "SIGTERM");
        } catch {
          // gone
        }
        const t = setTimeout(() => {
          try {
            process.kill(-proc.pid!, "SIGKILL");
          } catch {
            // gone
          }
        }, 20_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

function runCommand(
  argv: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): { status: number | null; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, env, encoding: "utf8", timeout: timeoutMs });
  return {
    status: r.status,
    out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? `\n${r.error.message}` : ""}`,
  };
}

const commands = READMES.flatMap((f) => extractCommands(f, readFileSync(join(REPO_ROOT, f), "utf8")));

describe("README commands", () => {
  it("every fenced shell command of the READMEs is classified: run here, or skipped with a reason", () => {
    assert.ok(commands.length >= 20, `${commands.length} commands`);
    for (const c of commands) ruleFor(c);
    // the extraction itself: continuations joined, comments dropped, quoted '#' kept
    assert.deepEqual(
      extractCommands("x", "```sh\na \\\n  b   # c\n# d\necho '#e' # f\n```\n").map((c) => c.line),
      ["a b", "echo '#e'"],
    );
  });

  const skip = haveNetns();
  describe("run on a fresh clone", { skip }, () => {
    let tmp = "";
    let clone = "";
    const seen: Seen = { tmp: "" };
    let ns: Awaited<ReturnType<typeof netns>> | undefined;
    let examplesNs: Awaited<ReturnType<typeof netns>> | undefined;
    let host: Started | undefined;
    let examplesHost: Started | undefined;
    const env: NodeJS.ProcessEnv = { ...process.env, XENSIM_LOG_LEVEL: "warn" };
    delete env.XENSIM_API;
    delete env.XENSTORED_PATH;

    before(
      async () => {
        tmp = mkdtempSync(join(tmpdir(), "xensim-readme-"));
        clone = join(tmp, "xensim");
        seen.tmp = tmp;
        const head = spawnSync("git", ["-C", REPO_ROOT, "rev-parse", "HEAD"], {
          encoding: "utf8",
        }).stdout.trim();
        const cl = runCommand(
          ["git", "clone", "--quiet", "--no-checkout", REPO_ROOT, clone],
          tmp,
          env,
          120_000,
        );
        assert.equal(cl.status, 0, cl.out);
        const co = runCommand(["git", "checkout", "--quiet", head], clone, env, 120_000);
        assert.equal(co.status, 0, co.out);
        // README: `npm ci && npm start` — npm ci here (it needs the registry), npm start as the host.
        const ci = runCommand(["sh", "-c", "npm ci --no-audit --no-fund"], clone, env, 600_000);
        assert.equal(ci.status, 0, ci.out.slice(-3000));
        ns = await netns();
        host = startLong(ns.run(["sh", "-c", "npm start"]), clone, env);
        await waitFor(() => (host!.output().match(/created domain \d+/g)?.length ?? 0) >= 3, {
          timeoutMs: 180_000,
          message: `npm start created the three example domains: ${host.output()}`,
        });
      },
      { timeout: 900_000 },
    );

    after(async () => {
      await host?.stop();
      await examplesHost?.stop();
      ns?.close();
      examplesNs?.close();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    /** examples/README.md talks to a toolstack of its own, with no domains yet. */
    async function startExamplesHost(): Promise<void> {
      examplesNs = await netns();
      examplesHost = startLong(
        examplesNs.run(["sh", "-c", "npx xensim up --no-examples --state-dir .xensim-examples"]),
        clone,
        env,
      );
      await waitFor(() => examplesHost!.output().includes("toolstack: http://127.0.0.1:9080"), {
        timeoutMs: 150_000,
        message: () => `xensim up --no-examples: ${examplesHost?.output()}`,
      });
    }

    it(
      "every command runs as written (benchmarks with a tiny duration) and prints what it should",
      { timeout: 1_200_000 },
      async () => {
        const ran: string[] = [];
        // npm start's guests run I/O all the time: the host stops once nothing else needs it
        const lastHostCommand = commands.findLastIndex((c) => (ruleFor(c).where ?? "host") === "host");
        const skipped: string[] = [];
        let block = "";
        let blockEnv: NodeJS.ProcessEnv = env;
        for (const [i, c] of commands.entries()) {
          const rule = ruleFor(c);
          if (i > lastHostCommand && host) {
            await host.stop();
            host = undefined;
          }
          if (rule.where === "examples-host" && !examplesHost) await startExamplesHost();
          if (`${c.file}#${c.block}` !== block) {
            block = `${c.file}#${c.block}`;
            blockEnv = { ...env };
          }
          if (rule.skip) {
            skipped.push(`${c.file}: ${c.line} — ${rule.skip}`);
            continue;
          }
          if (c.line === "npm ci && npm start") continue; // done in before()
          const exp = /^export (\w+)=(\S+)$/.exec(c.line);
          if (exp) {
            blockEnv[exp[1]!] = exp[2]!;
            ran.push(c.line);
            continue;
          }
          if (c.line.startsWith("fio ") && spawnSync("sh", ["-c", "command -v fio"]).status !== 0) {
            skipped.push(`${c.file}: ${c.line} — fio is not installed (.ci/run installs it)`);
            continue;
          }
          const line = rule.rewrite ? rule.rewrite(c.line, seen) : c.line;
          const where: Where = rule.where ?? "host";
          const argv =
            where === "outside"
              ? ["sh", "-c", line]
              : (where === "host" ? ns! : examplesNs!).run(["sh", "-c", line]);
          const r = runCommand(argv, clone, blockEnv, rule.timeoutMs ?? 60_000);
          assert.equal(r.status, 0, `${c.file}: \`${line}\` exited ${r.status}:\n${r.out.slice(-4000)}`);
          if (rule.expect)
            assert.match(r.out, rule.expect, `${c.file}: \`${line}\` printed:\n${r.out.slice(-4000)}`);
          const uri = /nbd\+unix:\/\/\S+/.exec(r.out);
          if (c.line.includes("block-list") && uri) seen.nbdUri = uri[0];
          ran.push(line);
        }
        console.log(JSON.stringify({ readmeCommands: { ran: ran.length, skipped } }));
        assert.ok(ran.length >= 18, `${ran.length} ran`);
      },
    );
  });
});
