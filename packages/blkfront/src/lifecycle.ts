// Where a Blkfront is in its life, beside the xenbus handshake state of its reducer: the one
// answer to "may I/O be accepted, issued, reissued?" (Linux keeps this in info->connected:
// BLKIF_STATE_DISCONNECTED / CONNECTED / SUSPENDED / ERROR).

export enum BlkfrontLifecycle {
  /** Waiting for the backend (the first handshake, or after it went away): I/O queues. */
  Connecting = "connecting",
  /** Rings granted and the backend Connected: I/O is issued. */
  Connected = "connected",
  /** close() while connected: what was submitted finishes; nothing new is accepted. */
  Draining = "draining",
  /** close() past the drain: queued and unanswered I/O fails with -EIO; the rings go. */
  Closing = "closing",
  /** The backend misbehaved: the rings are abandoned and every I/O fails, until close(). */
  Failed = "failed",
  /** close() finished: the device is Closed and no longer watched. */
  Closed = "closed",
}

/** Submits are accepted (queued until connected). */
export function acceptsIo(life: BlkfrontLifecycle): boolean {
  return life === BlkfrontLifecycle.Connecting || life === BlkfrontLifecycle.Connected;
}

/** Requests may be put on the rings. */
export function issuesIo(life: BlkfrontLifecycle): boolean {
  return life === BlkfrontLifecycle.Connected || life === BlkfrontLifecycle.Draining;
}

/**
 * The device outlives a disconnect: requests left without a response are issued again on the next
 * rings, and a backend that comes back gets a fresh handshake.
 */
export function survivesDisconnect(life: BlkfrontLifecycle): boolean {
  return life === BlkfrontLifecycle.Connecting || life === BlkfrontLifecycle.Connected;
}
