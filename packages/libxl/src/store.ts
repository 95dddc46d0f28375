// The xenstore operations libxl's layouts are written with: a subset of @xensim/xenbus's
// XenbusStoreOps (a transaction or a client both fit), so this package needs no store client.

export interface LibxlStoreOps {
  mkdir(path: string): Promise<void>;
  setPerms(path: string, perms: readonly string[]): Promise<void>;
  write(path: string, value: string): Promise<void>;
}
