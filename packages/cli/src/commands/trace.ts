// `xensim trace`: the protocol events of a running host (embedded or distributed), streamed from
// the toolstack's GET /trace, as text lines or JSON lines.
import { formatTraceEvent, parseTraceKinds, TRACE_KINDS, type TraceEvent } from "@xensim/trace";
import type { Command } from "commander";
import { examples } from "../command.js";
import { authHeaders, resolveDomain, toolstackUrl, XlError } from "./xl/api.js";

interface TraceOpts {
  domain?: string[];
  kind?: string[];
  json?: boolean;
  api?: string;
  stateDir: string;
  count?: string;
  seconds?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export default function registerTrace(program: Command): void {
  program
    .command("trace")
    .description(
      "stream decoded protocol events from a running host: xs messages, blkif ring requests and " +
        "responses, event channel sends (kicks), grant map/unmap/copy, block store I/O",
    )
    .option(
      "--domain <id|name>",
      "only events where this domain acts or is the other end (repeatable)",
      collect,
    )
    .option(
      "--kind <kinds>",
      `only these kinds, comma-separated: ${TRACE_KINDS.join(", ")} (repeatable)`,
      collect,
    )
    .option("--json", "one JSON object per line instead of text")
    .option("--count <n>", "stop after this many events")
    .option("--seconds <s>", "stop after this many seconds")
    .option("--api <url>", "toolstack API (default: $XENSIM_API, .xensim/toolstack.url, :9080)")
    .option("--state-dir <dir>", "where `xensim up` wrote toolstack.url", ".xensim")
    .addHelpText(
      "after",
      examples(
        "npx xensim trace --domain guest1 --kind ring,evtchn,grant",
        "npx xensim trace --kind xs --json --count 100 > xs.jsonl",
      ),
    )
    .action(async (o: TraceOpts) => {
      try {
        await trace(o);
      } catch (e) {
        process.stderr.write(`${e instanceof XlError ? e.message : String(e)}\n`);
        process.exit(1);
      }
    });
}

async function trace(options: TraceOpts): Promise<void> {
  const base = toolstackUrl(options.api, options.stateDir);
  const kinds = (options.kind ?? []).join(",");
  try {
    parseTraceKinds(kinds);
  } catch (e) {
    throw new XlError(`--kind: ${(e as Error).message}`);
  }
  const limit = options.count !== undefined ? Number(options.count) : Number.POSITIVE_INFINITY;
  if (!(limit > 0)) throw new XlError(`--count ${options.count}: expected a positive number`);
  const seconds = options.seconds !== undefined ? Number(options.seconds) : undefined;
  if (seconds !== undefined && !(seconds > 0))
    throw new XlError(`--seconds ${options.seconds}: expected a positive number`);
  const domains: number[] = [];
  for (const d of (options.domain ?? []).flatMap((x) => x.split(",")))
    domains.push(await resolveDomain(base, d.trim()));

  const q = new URLSearchParams();
  if (kinds) q.set("kind", kinds);
  if (domains.length > 0) q.set("domain", domains.join(","));
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  if (seconds !== undefined) setTimeout(stop, seconds * 1000).unref();
  let res: Response;
  try {
    res = await fetch(`${base}/trace${q.size > 0 ? `?${q}` : ""}`, {
      headers: authHeaders(),
      signal: abort.signal,
    });
  } catch (e) {
    if (abort.signal.aborted) return;
    throw new XlError(
      `cannot reach the toolstack at ${base} (${(e as Error).cause ?? (e as Error).message}).\n` +
        "Start a host with `npx xensim up` (or `npm start`) in this directory, or point --api or " +
        "XENSIM_API at a running toolstack (docker compose publishes it on http://127.0.0.1:9080).",
    );
  }
  if (!res.ok || !res.body) {
    const text = await res.text().catch(() => "");
    let msg = `HTTP ${res.status}`;
    try {
      msg = String((JSON.parse(text) as { error?: string }).error ?? msg);
    } catch {
      // not JSON
    }
    throw new XlError(`trace: ${msg}`);
  }
  process.stderr.write(
    `tracing ${res.headers.get("x-xensim-trace-kinds") ?? "all kinds"}` +
      `${domains.length > 0 ? ` of domain ${domains.join(", ")}` : ""} on ${base} (Ctrl-C stops)\n`,
  );
  let seen = 0;
  let rest = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      rest += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        if (!line) continue;
        const ev = JSON.parse(line) as TraceEvent | { dropped: number };
        if ("dropped" in ev) {
          process.stderr.write(`… ${ev.dropped} events dropped (the reader or the services fell behind)\n`);
          continue;
        }
        process.stdout.write(options.json ? `${line}\n` : `${formatTraceEvent(ev)}\n`);
        if (++seen >= limit) {
          abort.abort();
          return;
        }
      }
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
