// A small mutex on one Int32 word of shared memory (0 free, 1 held, 2 held with waiters), the
// classic futex scheme. It stands in for Xen's spinlocks (active entry, maptrack, event_lock):
// critical sections are a handful of loads and stores, so a short spin nearly always wins and
// Atomics.wait is only the fallback. A thread that dies while holding a lock leaves it held, as a
// CPU that dies inside a Xen spinlock would; teardown of a worker mid-hypercall is not modelled.

const SPINS = 64;

/** Acquire the lock word `i32[index]`. */
export function lockWord(i32: Int32Array, index: number): void {
  if (Atomics.compareExchange(i32, index, 0, 1) === 0) return;
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(i32, index) === 0 && Atomics.compareExchange(i32, index, 0, 1) === 0) return;
  }
  let c = Atomics.exchange(i32, index, 2);
  while (c !== 0) {
    Atomics.wait(i32, index, 2);
    c = Atomics.exchange(i32, index, 2);
  }
}

/** Release the lock word `i32[index]`, waking one waiter if any. */
export function unlockWord(i32: Int32Array, index: number): void {
  if (Atomics.exchange(i32, index, 0) === 2) Atomics.notify(i32, index, 1);
}
