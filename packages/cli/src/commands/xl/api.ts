// How the xl commands reach the toolstack's HTTP API (the host `xensim up` runs).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DomainSummary } from "@xensim/toolstack";
import type { Command } from "commander";

/** The API token: $XENSIM_API_TOKEN, $XENSIM_KEYS/api-token, or the one `xensim up` keeps in its state dir. */
export function toolstackToken(stateDir = ".xensim"): string | undefined {
  if (process.env.XENSIM_API_TOKEN) return process.env.XENSIM_API_TOKEN.trim();
  for (const f of [
    ...(process.env.XENSIM_KEYS ? [join(process.env.XENSIM_KEYS, "api-token")] : []),
    join(stateDir, "api-token"),
  ])
    try {
      return readFileSync(f, "utf8").trim();
    } catch {
      // next
    }
  return undefined;
}

let apiToken: string | undefined;

/** The Authorization header for the toolstack API (empty when no token was found). */
export function authHeaders(): Record<string, string> {
  return apiToken ? { authorization: `Bearer ${apiToken}` } : {};
}

/** The toolstack's address: --api, $XENSIM_API, the file `xensim up` writes, or the default port. */
export function toolstackUrl(api: string | undefined, stateDir = ".xensim"): string {
  apiToken = toolstackToken(stateDir);
  if (api) return api.replace(/\/$/, "");
  if (process.env.XENSIM_API) return process.env.XENSIM_API.replace(/\/$/, "");
  try {
    return readFileSync(join(stateDir, "toolstack.url"), "utf8").trim();
  } catch {
    return "http://127.0.0.1:9080";
  }
}

export class XlError extends Error {
  override readonly name = "XlError";
  readonly code = "XL_FAILED";
}

export async function api<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    const auth = authHeaders();
    res = await fetch(`${base}${path}`, {
      method,
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { "content-type": "application/json", ...auth } }
        : { headers: auth }),
    });
  } catch (e) {
    throw new XlError(
      `cannot reach the toolstack at ${base} (${(e as Error).cause ?? (e as Error).message}).\n` +
        "Start a host with `npx xensim up` (or `npm start`) in this directory, or point --api or " +
        "XENSIM_API at a running toolstack (docker compose publishes it on http://127.0.0.1:9080).",
    );
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!res.ok) {
    const messages = Array.isArray(json.messages) ? (json.messages as string[]) : [];
    throw new XlError([String(json.error ?? `HTTP ${res.status}`), ...messages].join("\n"));
  }
  return json as T;
}

/** A domain by id or name, as xl takes it. */
export async function resolveDomain(base: string, d: string): Promise<number> {
  if (/^\d+$/.test(d)) return Number(d);
  const { domains } = await api<{ domains: DomainSummary[] }>(base, "GET", "/domains");
  const m = domains.find((x) => x.name === d);
  if (!m) throw new XlError(`${d} is an invalid domain identifier`);
  return m.id;
}

/** The toolstack address for a subcommand of `xl` (its --api and --state-dir options). */
export function apiBase(xl: Command): string {
  const o = xl.opts<{ api?: string; stateDir: string }>();
  return toolstackUrl(o.api, o.stateDir);
}

/** Runs an xl action: an XlError is printed as xl prints its errors, and the exit status is 1. */
export const run = (fn: () => Promise<void>) => async (): Promise<void> => {
  try {
    await fn();
  } catch (e) {
    process.stderr.write(`${e instanceof XlError ? e.message : String(e)}\n`);
    process.exit(1);
  }
};
