// The xenstore operations libxl's layouts are written with: a subset of @xensim/xenbus's
// XenbusStoreOps (a transaction or a client both fit), so this package needs no store client.

export interface LibxlStoreOps {
  mkdir(path: string): Promise<void>;
  setPerms(path: string, perms: readonly string[]): Promise<void>;
  write(path: string, value: string): Promise<void>;
}

export type LibxlStoreOp =
  /** Create the directory, and set its permissions when given (children created after it inherit them). */
  | { readonly kind: "mkdir"; readonly path: string; readonly perms?: readonly string[] }
  | { readonly kind: "write"; readonly path: string; readonly value: string };

/** Runs the operations in order (inside a transaction when `store` is one). */
export async function applyLibxlOps(store: LibxlStoreOps, ops: readonly LibxlStoreOp[]): Promise<void> {
  for (const op of ops) {
    if (op.kind === "mkdir") {
      await store.mkdir(op.path);
      if (op.perms !== undefined) await store.setPerms(op.path, op.perms);
    } else await store.write(op.path, op.value);
  }
}
