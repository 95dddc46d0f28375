/** A seed when none is given: from the clock and a counter (not from Math.random). */
let seedCounter = 0;
export function defaultSeed(): number {
  return (Date.now() * 1000 + process.pid * 7919 + ++seedCounter * 104729) >>> 0;
}
