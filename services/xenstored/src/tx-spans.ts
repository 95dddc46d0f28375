// xenstore transactions as OpenTelemetry spans: one span from XS_TRANSACTION_START to its
// XS_TRANSACTION_END (commit, abort, or EAGAIN on a conflict), a child of whatever span the START
// came in (a gRPC session's call carries its caller's trace context); each request inside it is an
// event on the span. Only installed when spans are exported.
import { XsType, xsTypeName } from "@xensim/abi";
import { type Span, SpanStatusCode, startSpan } from "@xensim/runtime";
import type { XsMessage } from "@xensim/xenstore";

/** Transactions open at once that get a span; beyond this they are not traced (a guest may open many). */
const MAX_OPEN = 4096;
const dec = new TextDecoder();

const text = (m: XsMessage) => dec.decode(m.payload).replace(/\0$/, "");

export class TransactionSpans {
  private readonly open = new Map<string, Span>();

  constructor(private readonly domidOf: (conn: number) => number | undefined) {}

  onRequest(conn: number, req: XsMessage, reply: XsMessage | null): void {
    if (req.type === XsType.TRANSACTION_START) {
      if (!reply || reply.type !== XsType.TRANSACTION_START || this.open.size >= MAX_OPEN) return;
      const txId = Number(text(reply));
      const span = startSpan("xenstore transaction", {
        "xen.domid": this.domidOf(conn) ?? -1,
        "xenstore.tx_id": txId,
      });
      if (span) this.open.set(`${conn}:${txId}`, span);
      return;
    }
    if (req.txId === 0) return;
    const key = `${conn}:${req.txId}`;
    const span = this.open.get(key);
    if (!span) return;
    if (req.type !== XsType.TRANSACTION_END) {
      span.addEvent(xsTypeName(req.type) ?? `type${req.type}`, {
        path: text(req).split("\0")[0] ?? "",
        ...(reply?.type === XsType.ERROR ? { error: text(reply) } : {}),
      });
      return;
    }
    this.open.delete(key);
    const commit = text(req) === "T";
    const error = reply?.type === XsType.ERROR ? text(reply) : undefined;
    span.setAttribute("xenstore.outcome", error ?? (commit ? "committed" : "aborted"));
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    span.end();
  }

  /** Ends the spans of a connection that went away (its transactions are gone with it). */
  closed(conn: number): void {
    for (const [key, span] of this.open)
      if (key.startsWith(`${conn}:`)) {
        span.setAttribute("xenstore.outcome", "connection closed");
        span.end();
        this.open.delete(key);
      }
  }
}
