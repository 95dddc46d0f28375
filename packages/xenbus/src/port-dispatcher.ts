// Event-channel port → handler: a domain has one event receiver (its vCPU's upcall), and each
// device's ring subscribes the port it bound. `xc.waitForEvents(self, (p) => dispatcher.dispatch(p))`
// in every placement.
export class PortDispatcher {
  private readonly handlers = new Map<number, () => void>();

  /** Calls `handler` on every event of `port` until the returned function is called. */
  on(port: number, handler: () => void): () => void {
    this.handlers.set(port, handler);
    return () => {
      if (this.handlers.get(port) === handler) this.handlers.delete(port);
    };
  }

  /** Drops the port's handler, whoever set it. */
  off(port: number): void {
    this.handlers.delete(port);
  }

  /** Runs the port's handler; false when nobody listens on it. */
  dispatch(port: number): boolean {
    const h = this.handlers.get(port);
    if (!h) return false;
    h();
    return true;
  }

  clear(): void {
    this.handlers.clear();
  }

  get ports(): number[] {
    return [...this.handlers.keys()];
  }
}
