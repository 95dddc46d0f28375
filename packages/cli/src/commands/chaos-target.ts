// What a chaos schedule plays on: an embedded or distributed host this process started
// (chaos-host.ts) or a compose deployment that is already up (chaos-compose.ts).
import type { LeakEvidence, XsHistoryEvent } from "@xensim/chaos";
import type { GuestStatusJson } from "@xensim/proto";

export interface ChaosTarget {
  /** The xensim services whose fault records the report reads. */
  readonly services: readonly string[];
  /** Where a person reaches the host while the run goes (a state directory, a compose project). */
  readonly stateDir: string;
  /** After a job ends, how long to wait for its last status (the one with the ledger), ms. */
  readonly settleMs?: number;
  /** The toolstack's HTTP API. */
  call<T>(method: string, path: string, body?: unknown, text?: string): Promise<{ status: number; json: T }>;
  /** Every guest status from now until the returned function is called. */
  onStatus(l: (g: GuestStatusJson) => void): () => void;
  /** xenstored's transaction history: start recording, or take what was recorded. */
  observeHistory(action: "start" | "take"): Promise<XsHistoryEvent[] | undefined>;
  /** Starts the history; answers why it could not (undefined: recording). */
  startHistory(signal?: AbortSignal): Promise<string | undefined>;
  /** What destroyed domains left behind (hypervisor tables, xenstore nodes and watches). */
  auditLeaks(domains: Array<{ guest: string; domid: number }>): Promise<LeakEvidence[]>;
  /** Removes a schedule's file disk from the backend's image directory. */
  removeDisk(file: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One call to a toolstack's HTTP API with its bearer token: a JSON body or a text body (an xl.cfg),
 * the reply parsed as JSON (a reply that is not JSON comes back as `{error}` with its start).
 */
export async function callToolstack<T>(
  api: string,
  token: string,
  request: { method: string; path: string; body?: unknown; text?: string; timeoutMs?: number },
): Promise<{ status: number; json: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let payload: string | undefined;
  if (request.text !== undefined) {
    headers["content-type"] = "text/plain";
    payload = request.text;
  } else if (request.body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(request.body);
  }
  const res = await fetch(`${api}${request.path}`, {
    method: request.method,
    headers,
    ...(payload !== undefined ? { body: payload } : {}),
    ...(request.timeoutMs !== undefined ? { signal: AbortSignal.timeout(request.timeoutMs) } : {}),
  });
  const t = await res.text();
  try {
    return { status: res.status, json: (t ? JSON.parse(t) : {}) as T };
  } catch {
    return { status: res.status, json: { error: t.slice(0, 500) } as T };
  }
}
