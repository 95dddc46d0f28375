// What a fuzz target throws when an input broke one of its invariants (as opposed to an input the
// codec refused with its own error, which is expected).
export class InvariantBroken extends Error {
  override readonly name = "InvariantBroken";
  readonly code = "INVARIANT_BROKEN";
}

/** Throws InvariantBroken(`what`) unless `ok`. */
export function must(ok: boolean, what: string): void {
  if (!ok) throw new InvariantBroken(what);
}
