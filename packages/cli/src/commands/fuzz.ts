// `xensim fuzz [target…]`: seeded mutational fuzzing of the protocol parsers (targets registered in
// @xensim/fuzz). Prints the seed first; the same seed replays the same inputs. Crashers are saved as
// regression cases under the parser's package (src/fuzz-corpus/<target>/), which the tests replay.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { FUZZ_TARGETS, type FuzzResult, fuzzTarget, runFuzz, saveCrasher } from "@xensim/fuzz";
import type { Command } from "commander";
import { examples } from "../command.js";

/** The repository root, from this file's place in it (packages/cli/dist/commands/). */
const REPO_ROOT = resolve(import.meta.dirname, "..", "..", "..", "..");

export default function registerFuzz(program: Command): void {
  program
    .command("fuzz")
    .argument(
      "[targets...]",
      `targets to run (default: all of ${FUZZ_TARGETS.map((t) => t.name).join(", ")})`,
    )
    .addHelpText(
      "after",
      examples(
        "npx xensim fuzz xs-wire --runs 100000",
        "npx xensim fuzz --runs 1000000 --seed 42 --json /tmp/fuzz.json",
      ),
    )
    .description("fuzz the protocol parsers: N seeded inputs per target, crashers saved as regression cases")
    .option("--runs <n>", "inputs per target", "100000")
    .option("--seed <n>", "seed (default: random, printed)")
    .option("--no-save", "do not save crashers in the corpus")
    .option("--list", "list the targets and exit")
    .option("--json <file>", "write the results as JSON")
    .action(
      (names: string[], o: { runs: string; seed?: string; save: boolean; list?: boolean; json?: string }) => {
        if (o.list) {
          for (const t of FUZZ_TARGETS) process.stdout.write(`${t.name.padEnd(12)} ${t.description}\n`);
          return;
        }
        const targets = (names.length > 0 ? names : FUZZ_TARGETS.map((t) => t.name)).map((name) => {
          const t = fuzzTarget(name);
          if (!t)
            throw new Error(
              `unknown fuzz target ${name} (targets: ${FUZZ_TARGETS.map((x) => x.name).join(", ")})`,
            );
          return t;
        });
        const runs = Number(o.runs);
        if (!Number.isSafeInteger(runs) || runs < 1)
          throw new Error(`--runs ${o.runs} is not a positive integer`);
        const seed = o.seed !== undefined ? Number(o.seed) : Math.floor(Math.random() * 0x7fffffff);
        if (!Number.isSafeInteger(seed)) throw new Error(`--seed ${o.seed} is not an integer`);
        process.stdout.write(
          `xensim fuzz: seed ${seed} (replay with --seed ${seed}), ${runs} inputs per target\n`,
        );
        const results: (FuzzResult & { saved: string[] })[] = [];
        for (const target of targets) {
          const result = runFuzz(target, {
            runs,
            seed,
            onProgress: (done) => process.stdout.write(`  ${target.name}: ${done} inputs\n`),
          });
          const saved = o.save ? result.crashes.map((c) => saveCrasher(REPO_ROOT, target, c.input)) : [];
          results.push({ ...result, saved });
          const rate = Math.round(result.runs / (result.ms / 1000));
          process.stdout.write(
            `${target.name}: ${result.runs} inputs in ${(result.ms / 1000).toFixed(1)} s (${rate}/s), ${result.crashes.length} crashes\n`,
          );
          for (const [i, c] of result.crashes.entries()) {
            process.stdout.write(`  crash at input ${c.index}: ${c.error.split("\n")[0]}\n`);
            if (saved[i]) process.stdout.write(`    saved ${saved[i]}\n`);
          }
        }
        if (o.json) {
          const json = results.map((r) => ({
            target: r.target,
            seed: r.seed,
            runs: r.runs,
            ms: r.ms,
            crashes: r.crashes.map((c) => ({ index: c.index, error: c.error.split("\n")[0] })),
            saved: r.saved,
          }));
          writeFileSync(o.json, `${JSON.stringify({ tool: "xensim fuzz", seed, results: json }, null, 2)}\n`);
        }
        if (results.some((r) => r.crashes.length > 0)) process.exitCode = 1;
      },
    );
}
