// What a fuzz target is: a parser entry point that must never fail on any input, plus the inputs to
// start from. Register a new target with one line in targets/index.ts.

export interface FuzzTarget {
  /** Command-line name, e.g. "xs-wire". */
  readonly name: string;
  readonly description: string;
  /**
   * Where crashers are saved as regression cases, relative to the repository root (the package of
   * the parser: "packages/<pkg>/src/fuzz-corpus/<target>").
   */
  readonly corpusDir: string;
  /** Valid inputs to mutate: the protocol's golden packets. */
  seeds(): readonly Uint8Array[];
  /** Largest input worth trying. */
  readonly maxLength: number;
  /**
   * Runs one input. Returns normally however bad the input is (a protocol error is an answer, not
   * a failure); throws only for a bug: an exception escaping the parser or a broken invariant.
   */
  run(input: Uint8Array): void;
}
