// `xensim chaos …`: the one fault API from the command line (set, list, heal, timeline, records of a
// running host's toolstack), the fault kinds, and scenario runs (`chaos run FILE`).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { FAULT_KINDS, parseScenario, requireFaultKind, ScenarioError } from "@xensim/chaos";
import type { Command } from "commander";
import { examples } from "../command.js";
import { runChaos, shortScenario } from "./chaos-run.js";
import { soak } from "./chaos-soak.js";
import { api, run, toolstackUrl, XlError } from "./xl/api.js";

interface ApiOpts {
  api?: string;
  stateDir: string;
}

const int = (v: string): number => {
  if (!/^-?\d+$/.test(v)) throw new XlError(`'${v}' is not an integer`);
  return Number(v);
};

export default function registerChaos(program: Command): void {
  const chaos = program
    .command("chaos")
    .description(
      "chaos testing: set and heal faults of any kind on a running host (through its toolstack), and run scenario files with checkers and a verdict",
    )
    .option("--api <url>", "the toolstack's HTTP API (default: the one `xensim up` started here)")
    .option("--state-dir <dir>", "state directory of `xensim up` (the API address and token)", ".xensim")
    .addHelpText(
      "after",
      examples(
        "npx xensim chaos kinds",
        "npx xensim chaos set evtchn.lost --service guest --probability 0.2 --seed 7",
        "npx xensim chaos set grant.map-failed --code GNTST_bad_gntref --count 3",
        "npx xensim chaos set service.paused --service blkback",
        "npx xensim chaos list",
        "npx xensim chaos heal            # every fault",
        "npx xensim chaos timeline",
        "npx xensim chaos run examples/chaos/store-io-error.yaml --schedules 3",
      ),
    );
  const base = (): string => {
    const o = chaos.opts<ApiOpts>();
    return toolstackUrl(o.api, o.stateDir);
  };

  chaos
    .command("kinds")
    .addHelpText("after", examples("npx xensim chaos kinds --json"))
    .description("list the fault kinds (name, plane, default service, parameters)")
    .option("--json", "as JSON")
    .action((o: { json?: boolean }) => {
      if (o.json) {
        process.stdout.write(`${JSON.stringify(FAULT_KINDS, null, 2)}\n`);
        return;
      }
      const w = Math.max(...FAULT_KINDS.map((k) => k.kind.length));
      for (const k of FAULT_KINDS)
        process.stdout.write(
          `${k.kind.padEnd(w)}  ${k.plane.padEnd(6)} ${(k.defaultService ?? "-").padEnd(10)} ${k.description}${k.params.length ? ` [${k.params.join(", ")}]` : ""}\n`,
        );
    });

  chaos
    .command("set <kind>")
    .addHelpText("after", examples("npx xensim chaos set store.latency --delay-ms 2-5 --probability 0.5"))
    .description("set a fault on the running host (seeded, recorded with a timestamp)")
    .option("--service <name>", "the service it is aimed at (default: the kind's)")
    .option("--probability <p>", "probability per opportunity (default 1)")
    .option("--seed <n>", "seed of the fault point's PRNG")
    .option("--count <n>", "stop injecting after n hits")
    .option("--delay-ms <ms>", "delay (delayed / slow / latency kinds): N or MIN-MAX")
    .option("--code <code>", "GNTST_* code (grant kinds; name or number) or gRPC status (call.failed)")
    .option("--period-ms <ms>", "period of evtchn.spurious")
    .option("--subject <pattern>", "bus kinds: subject pattern")
    .option("--method <glob>", "call kinds: method glob")
    .option("--domain <domid>", "domain.paused: the domain")
    .option("--host <id>", "link kinds: the sending host process (default: every one with a page-server)")
    .option("--peer <id>", "link kinds: the receiving host process (default: every peer)")
    .action(
      run(async () => {
        const [kind] = chaos.commands.find((c) => c.name() === "set")!.args as [string];
        const o = chaos.commands.find((c) => c.name() === "set")!.opts<Record<string, string | undefined>>();
        try {
          requireFaultKind(kind);
        } catch (e) {
          throw new XlError((e as Error).message);
        }
        const body: Record<string, unknown> = { kind };
        if (o.service) body.service = o.service;
        if (o.probability !== undefined) body.probability = Number(o.probability);
        if (o.seed !== undefined) body.seed = int(o.seed);
        if (o.count !== undefined) body.count = int(o.count);
        if (o.delayMs !== undefined) {
          const m = /^(\d+)(?:-(\d+))?$/.exec(o.delayMs);
          if (!m) throw new XlError(`--delay-ms ${o.delayMs}: expected N or MIN-MAX (ms)`);
          body.delayMs = m[2] ? [Number(m[1]), Number(m[2])] : Number(m[1]);
        }
        if (o.code !== undefined) body.code = /^-?\d+$/.test(o.code) ? Number(o.code) : o.code;
        if (o.periodMs !== undefined) body.periodMs = int(o.periodMs);
        if (o.subject) body.subject = o.subject;
        if (o.method) body.method = o.method;
        if (o.domain !== undefined) body.domain = int(o.domain);
        if (o.host) body.host = o.host;
        if (o.peer) body.peer = o.peer;
        const r = await api<{ id: number; kind: string; service: string }>(
          base(),
          "POST",
          "/chaos/faults",
          body,
        );
        process.stdout.write(`fault ${r.id}: ${r.kind} on ${r.service}\n`);
      }),
    );

  chaos
    .command("list")
    .addHelpText("after", examples("npx xensim chaos list"))
    .description("the active faults")
    .action(
      run(async () => {
        const r = await api<{
          faults: Array<{ id: number; kind: string; service: string; spec: object; setAt: number }>;
        }>(base(), "GET", "/chaos/faults");
        if (r.faults.length === 0) process.stdout.write("no active faults\n");
        for (const f of r.faults)
          process.stdout.write(
            `${f.id}\t${f.kind}\t${f.service}\tsince ${new Date(f.setAt).toISOString()}\t${JSON.stringify(f.spec)}\n`,
          );
      }),
    );

  chaos
    .command("heal")
    .addHelpText("after", examples("npx xensim chaos heal --kind store.latency"))
    .description("heal one fault (--id), every fault of a kind (--kind), or every fault")
    .option("--id <id>", "fault id (from set or list)")
    .option("--kind <kind>", "every fault of this kind")
    .action(
      run(async () => {
        const o = chaos.commands.find((c) => c.name() === "heal")!.opts<{ id?: string; kind?: string }>();
        const q = new URLSearchParams();
        if (o.id !== undefined) q.set("id", String(int(o.id)));
        if (o.kind !== undefined) q.set("kind", o.kind);
        const r = await api<{ healed: Array<{ id: number; kind: string; service: string }> }>(
          base(),
          "DELETE",
          `/chaos/faults${q.size ? `?${q}` : ""}`,
        );
        process.stdout.write(
          r.healed.length === 0
            ? "nothing to heal\n"
            : r.healed.map((f) => `healed ${f.id}: ${f.kind} on ${f.service}\n`).join(""),
        );
      }),
    );

  chaos
    .command("timeline")
    .addHelpText("after", examples("npx xensim chaos timeline --json"))
    .description("every set and heal, with its time")
    .option("--json", "as JSON")
    .action(
      run(async () => {
        const o = chaos.commands.find((c) => c.name() === "timeline")!.opts<{ json?: boolean }>();
        const r = await api<{
          timeline: Array<{
            at: number;
            action: string;
            id: number;
            kind: string;
            service: string;
            ok: boolean;
            error?: string;
          }>;
        }>(base(), "GET", "/chaos/timeline");
        if (o.json) return void process.stdout.write(`${JSON.stringify(r.timeline, null, 2)}\n`);
        for (const t of r.timeline)
          process.stdout.write(
            `${new Date(t.at).toISOString()}  ${t.action.padEnd(4)} ${t.id}\t${t.kind}\t${t.service}${t.ok ? "" : `\tFAILED: ${t.error}`}\n`,
          );
      }),
    );

  chaos
    .command("records")
    .addHelpText("after", examples("npx xensim chaos records"))
    .description("the faults the services' fault points injected, with timestamps")
    .action(
      run(async () => {
        const r = await api<{ records: unknown[] }>(base(), "GET", "/chaos/records");
        process.stdout.write(`${JSON.stringify(r.records, null, 2)}\n`);
      }),
    );

  chaos
    .command("soak")
    .addHelpText(
      "after",
      examples(
        "npx xensim chaos soak --short 600 --schedules 35 --max-minutes 30 > bench/results/chaos-soak.json",
        "npx xensim chaos soak --schedules 1 --only store-torn,evtchn-lost",
      ),
    )
    .description(
      "every scenario of a directory, K schedules each with derived seeds, not stopping at failures; prints a JSON summary (schedules run, fault kinds covered, acknowledged writes lost, leaks, unexpected verdicts)",
    )
    .option("--dir <dir>", "scenario directory", "examples/chaos")
    .option("--schedules <k>", "schedules per scenario", "1")
    .option("--seed <n>", "base seed (default: each file's)")
    .option("--only <names>", "only scenario files whose name contains one of these (comma-separated)")
    .option("--out <dir>", "where the reports go", "chaos-reports")
    .option(
      "--short <ms>",
      "one host for every schedule (a fresh guest and disk each), every scenario scaled into a fault window of this many ms",
    )
    .option("--max-minutes <m>", "start no new schedule after this many minutes")
    .action(
      async (o: {
        dir: string;
        schedules: string;
        seed?: string;
        only?: string;
        out: string;
        short?: string;
        maxMinutes?: string;
      }) => {
        const schedules = Number(o.schedules);
        if (!Number.isInteger(schedules) || schedules < 1) {
          process.stderr.write(`--schedules ${o.schedules}: expected an integer >= 1\n`);
          process.exit(2);
        }
        const windowMs = o.short === undefined ? undefined : Number(o.short);
        if (windowMs !== undefined && !(Number.isInteger(windowMs) && windowMs >= 50)) {
          process.stderr.write(`--short ${o.short}: expected a fault window in ms (an integer >= 50)\n`);
          process.exit(2);
        }
        const maxMinutes = o.maxMinutes === undefined ? undefined : Number(o.maxMinutes);
        if (maxMinutes !== undefined && !(maxMinutes > 0)) {
          process.stderr.write(`--max-minutes ${o.maxMinutes}: expected a number of minutes > 0\n`);
          process.exit(2);
        }
        const abort = new AbortController();
        process.once("SIGINT", () => abort.abort());
        const r = await soak({
          dir: o.dir,
          schedules,
          ...(o.seed !== undefined ? { seed: Number(o.seed) } : {}),
          ...(o.only ? { only: o.only.split(",") } : {}),
          outDir: resolve(o.out),
          log: (l) => void process.stderr.write(`${l}\n`),
          signal: abort.signal,
          ...(windowMs !== undefined ? { short: { windowMs } } : {}),
          ...(maxMinutes !== undefined ? { maxMs: maxMinutes * 60_000 } : {}),
        });
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        process.exit(abort.signal.aborted ? 130 : r.soak.unexpectedVerdicts.length > 0 ? 1 : 0);
      },
    );

  chaos
    .command("run <file>")
    .addHelpText(
      "after",
      examples(
        "npx xensim chaos run examples/chaos/service-killed.yaml --seed 7 --schedules 10",
        "npx xensim chaos run examples/chaos/compose-blkback-killed.yaml --compose --project xensim",
      ),
    )
    .description(
      "run a scenario file on fresh embedded hosts, K times with derived seeds; stop at the first failing seed and print the command that replays it",
    )
    .option("--seed <n>", "base seed (default: the file's)")
    .option("--schedules <k>", "how many schedules (seeds derived from the base)", "1")
    .option("--out <dir>", "where the reports go (seed-<n>/report.{json,md,svg})", "chaos-reports")
    .option("--json", "print the reports' verdicts as JSON")
    .option(
      "--short <ms>",
      "scale the scenario into a fault window of this many ms (as `chaos soak --short` does)",
    )
    .option(
      "--compose",
      "play on a docker-compose deployment that is up (docker-compose.yml + deploy/chaos.compose.yml) instead of a fresh host",
    )
    .option(
      "--project <name>",
      "the compose project (-p; default COMPOSE_PROJECT_NAME or the directory's name)",
    )
    .action(
      async (
        file: string,
        options: {
          seed?: string;
          schedules: string;
          out: string;
          json?: boolean;
          short?: string;
          compose?: boolean;
          project?: string;
        },
      ) => {
        let text: string;
        try {
          text = readFileSync(file, "utf8");
        } catch (e) {
          process.stderr.write(`${file}: ${(e as Error).message}\n`);
          process.exit(2);
        }
        let scenario;
        try {
          scenario = parseScenario(text, file);
        } catch (e) {
          process.stderr.write(`${e instanceof ScenarioError ? e.message : String(e)}\n`);
          process.exit(2);
        }
        const seed = options.seed !== undefined ? Number(options.seed) : undefined;
        if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
          process.stderr.write(`--seed ${options.seed}: expected an integer in [0, 2^32)\n`);
          process.exit(2);
        }
        const schedules = Number(options.schedules);
        if (!Number.isInteger(schedules) || schedules < 1) {
          process.stderr.write(`--schedules ${options.schedules}: expected an integer >= 1\n`);
          process.exit(2);
        }
        const shortMs = options.short === undefined ? undefined : Number(options.short);
        if (shortMs !== undefined) {
          if (!(Number.isInteger(shortMs) && shortMs >= 50)) {
            process.stderr.write(
              `--short ${options.short}: expected a fault window in ms (an integer >= 50)\n`,
            );
            process.exit(2);
          }
          scenario = shortScenario(scenario, shortMs);
        }
        const abort = new AbortController();
        const onSigint = (): void => {
          process.stderr.write("\nSIGINT: healing every fault this run set, then stopping\n");
          abort.abort();
        };
        process.once("SIGINT", onSigint);
        const out = resolve(options.out);
        const log = (l: string): void => void process.stderr.write(`${l}\n`);
        log(
          `chaos run ${scenario.name}: ${schedules} schedule(s) from seed ${seed ?? scenario.seed}; reports in ${out}`,
        );
        const r = await runChaos({
          scenario,
          file,
          ...(seed !== undefined ? { seed } : {}),
          schedules,
          outDir: out,
          log,
          signal: abort.signal,
          ...(shortMs !== undefined ? { shortMs } : {}),
          ...(options.compose || options.project !== undefined
            ? { compose: options.project !== undefined ? { project: options.project } : {} }
            : {}),
        });
        process.removeListener("SIGINT", onSigint);
        if (options.json)
          process.stdout.write(
            `${JSON.stringify(
              r.reports.map((x) => ({
                seed: x.seed,
                verdict: x.verdict,
                checks: x.checks.map((c) => ({ name: c.name, pass: c.pass, summary: c.summary })),
                hitsByKind: x.hitsByKind,
              })),
              null,
              2,
            )}\n`,
          );
        if (abort.signal.aborted) process.exit(130);
        if (r.failedSeed !== undefined) {
          const failed = r.reports.at(-1)!;
          process.stdout.write(
            `FAIL at seed ${r.failedSeed} (schedule ${failed.schedule + 1}): ${failed.checks
              .filter((c) => !c.pass)
              .map((c) => `${c.name}: ${c.summary}`)
              .join(
                "; ",
              )}\nreport: ${resolve(out, `seed-${r.failedSeed}`, "report.md")}\nreplay: ${failed.replay}\n`,
          );
          process.exit(1);
        }
        const consequences = r.reports.filter((x) => x.verdict === "fault-consequence");
        if (consequences.length > 0) {
          // not a pass: the fault broke a guarantee no Xen stack survives (the report says which)
          for (const x of consequences)
            process.stdout.write(
              `FAULT-CONSEQUENCE at seed ${x.seed}: ${x.consequence?.kind ?? ""} — ${x.consequence?.reason ?? ""}\nreport: ${resolve(out, `seed-${x.seed}`, "report.md")}\n`,
            );
          process.stdout.write(
            `NO DEFECT FOUND: ${r.reports.length} schedule(s) of ${scenario.name}, ${consequences.length} of them ended by the fault's expected consequence\n`,
          );
          process.exit(0);
        }
        process.stdout.write(`PASS: ${r.reports.length} schedule(s) of ${scenario.name}\n`);
        process.exit(0);
      },
    );
}
