// Time for the modelled stores, injected (pure): a real clock for services, a virtual one for tests.

/** Milliseconds, monotonic, and one-shot timers. */
export interface Clock {
  now(): number;
  /** Calls `fn` once, no earlier than `delayMs` from now; returns a canceller. */
  setTimer(delayMs: number, fn: () => void): () => void;
}

/** performance.now() and setTimeout (a pending I/O keeps the process alive, as a real disk's would). */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    return () => clearTimeout(t);
  },
};

/** A binary min-heap of (time, seq) keyed items; seq keeps equal times in insertion order. */
export class TimeHeap<T> {
  private times: number[] = [];
  private seqs: number[] = [];
  private items: T[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }
  peekTime(): number {
    return this.times.length > 0 ? (this.times[0] as number) : Infinity;
  }
  push(time: number, item: T): void {
    let i = this.items.length;
    const s = this.seq++;
    this.times.push(time);
    this.seqs.push(s);
    this.items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(time, s, this.times[p] as number, this.seqs[p] as number)) break;
      this.move(p, i);
      i = p;
    }
    this.set(i, time, s, item);
  }
  pop(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const top = this.items[0] as T;
    const lt = this.times.pop() as number;
    const ls = this.seqs.pop() as number;
    const li = this.items.pop() as T;
    if (n > 1) {
      const m = n - 1;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= m) break;
        let c = l;
        const r = l + 1;
        if (
          r < m &&
          this.less(
            this.times[r] as number,
            this.seqs[r] as number,
            this.times[l] as number,
            this.seqs[l] as number,
          )
        )
          c = r;
        if (!this.less(this.times[c] as number, this.seqs[c] as number, lt, ls)) break;
        this.move(c, i);
        i = c;
      }
      this.set(i, lt, ls, li);
    }
    return top;
  }
  private less(t1: number, s1: number, t2: number, s2: number): boolean {
    return t1 < t2 || (t1 === t2 && s1 < s2);
  }
  private move(from: number, to: number): void {
    this.times[to] = this.times[from] as number;
    this.seqs[to] = this.seqs[from] as number;
    this.items[to] = this.items[from] as T;
  }
  private set(i: number, t: number, s: number, item: T): void {
    this.times[i] = t;
    this.seqs[i] = s;
    this.items[i] = item;
  }
}

/**
 * One timer driving a time-ordered queue of callbacks: at most one clock timer is armed (for the
 * earliest entry), and when it fires every entry that is due runs, in time order. This is how the
 * modelled array completes thousands of I/Os per second without a setTimeout per I/O.
 */
export class EventQueue {
  private readonly heap = new TimeHeap<() => void>();
  private armedFor = Infinity;
  private cancel: (() => void) | undefined;

  /**
   * `slackMs`: entries due within this much of now run when a timer fires. Timers fire late by up
   * to their granularity (~1 ms for node's); a slack of about half of it centres delivery on the
   * model's time instead of always after it. 0 (exact) for virtual clocks.
   */
  constructor(
    readonly clock: Clock,
    private readonly slackMs = 0,
  ) {}

  get pending(): number {
    return this.heap.size;
  }

  /** Runs `fn` at absolute clock time `at` (ms). */
  at(at: number, fn: () => void): void {
    this.heap.push(at, fn);
    if (at < this.armedFor) this.arm();
  }

  private arm(): void {
    this.cancel?.();
    this.cancel = undefined;
    const t = this.heap.peekTime();
    this.armedFor = t;
    if (t === Infinity) return;
    this.cancel = this.clock.setTimer(t - this.slackMs - this.clock.now(), () => {
      this.cancel = undefined;
      this.armedFor = Infinity;
      this.run();
    });
  }

  private run(): void {
    const now = this.clock.now() + this.slackMs;
    while (this.heap.peekTime() <= now) (this.heap.pop() as () => void)();
    if (this.armedFor === Infinity) this.arm();
  }

  /** Drops every pending entry and disarms the timer. */
  clear(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.armedFor = Infinity;
    while (this.heap.size > 0) this.heap.pop();
  }
}

/**
 * A virtual clock for tests and simulations: time moves only through advance()/runUntilIdle(),
 * which fire due timers in time order.
 */
export class VirtualClock implements Clock {
  private t = 0;
  private readonly timers = new TimeHeap<{ fn: () => void; live: boolean }>();

  now(): number {
    return this.t;
  }
  setTimer(delayMs: number, fn: () => void): () => void {
    const entry = { fn, live: true };
    this.timers.push(this.t + Math.max(0, delayMs), entry);
    return () => {
      entry.live = false;
    };
  }
  /** Advances time by `ms`, firing every timer due on the way (at its own time). */
  advance(ms: number): void {
    this.runTo(this.t + ms);
  }
  /** Advances to absolute time `t`. */
  runTo(t: number): void {
    for (;;) {
      const next = this.timers.peekTime();
      if (next > t) break;
      const e = this.timers.pop() as { fn: () => void; live: boolean };
      if (next > this.t) this.t = next;
      if (e.live) e.fn();
    }
    if (t > this.t) this.t = t;
  }
  /** Fires timers until none is left (bounded by `limitMs` of virtual time). */
  runUntilIdle(limitMs = 3_600_000): void {
    const end = this.t + limitMs;
    while (this.timers.size > 0 && this.timers.peekTime() <= end) this.runTo(this.timers.peekTime());
  }
}
