// The xenstore surface the xenbus core needs, as structural interfaces: @xensim/xenstore-client's
// XenstoreClient satisfies XenbusStore as it is (and XsTransaction satisfies XenbusStoreOps), so
// this protocol package never imports the client.

/** One watch event: the path that changed and the watch's token. */
export interface XenbusWatchEvent {
  readonly path: string;
  readonly token: string;
}

/** A registered watch: iterate it for events; `close()` unwatches and ends the iteration. */
export interface XenbusWatch extends AsyncIterable<XenbusWatchEvent> {
  close(): Promise<void>;
}

/** The operations available both outside and inside a transaction. */
export interface XenbusStoreOps {
  /** The value; rejects (code "ENOENT", ...) when the node is absent. */
  read(path: string): Promise<string>;
  /** The value, or undefined when the node is absent. */
  tryRead(path: string): Promise<string | undefined>;
  write(path: string, value: string): Promise<void>;
  /** Child names; rejects with code "ENOENT" when the node is absent. */
  ls(path: string): Promise<string[]>;
  mkdir(path: string): Promise<void>;
  rm(path: string): Promise<void>;
  setPerms(path: string, perms: readonly string[]): Promise<void>;
}

/** A xenstore connection: the operations, watches and transactions. */
export interface XenbusStore extends XenbusStoreOps {
  watch(path: string, token?: string): Promise<XenbusWatch>;
  /** Runs fn in a transaction and commits; rejects with code "EAGAIN" on a conflict it gave up on. */
  transaction<T>(fn: (tx: XenbusStoreOps) => Promise<T>): Promise<T>;
}

/** The xenstore errno name carried by an error (XenstoreError.code), if any. */
export function xsErrorCode(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null || !("code" in e)) return undefined;
  const code = (e as { code: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

export interface RetryOptions {
  /** EAGAIN retries before giving up (the last EAGAIN is rethrown). Default 16. */
  maxRetries?: number;
}

/**
 * Runs `fn` in a transaction of `store`, running it again while the commit (or anything inside)
 * fails with EAGAIN, at most `maxRetries` extra times — the "again:" loop of every Linux xenbus
 * driver. The store's own retries (XenstoreClient retries too) happen inside each attempt.
 */
export async function retryTransaction<T>(
  store: XenbusStore,
  fn: (tx: XenbusStoreOps) => Promise<T>,
  opts: RetryOptions = {},
): Promise<T> {
  const max = opts.maxRetries ?? 16;
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.transaction(fn);
    } catch (e) {
      if (xsErrorCode(e) === "EAGAIN" && attempt < max) continue;
      throw e;
    }
  }
}

/** Whether a node exists (a directory node reads as its value, usually ""). */
export async function nodeExists(ops: XenbusStoreOps, path: string): Promise<boolean> {
  return (await ops.tryRead(path)) !== undefined;
}

/** Children of a node, or [] when it is absent. */
export async function lsOrEmpty(ops: XenbusStoreOps, path: string): Promise<string[]> {
  try {
    return await ops.ls(path);
  } catch (e) {
    if (xsErrorCode(e) === "ENOENT") return [];
    throw e;
  }
}
