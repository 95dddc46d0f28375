// Service-time distributions of the store models, drawn with an injected Rng (@xensim/random).
import type { Rng } from "@xensim/random";

/** Service-time distributions, in milliseconds. `cv` is the coefficient of variation (σ / mean). */
export type Distribution =
  | { readonly kind: "fixed"; readonly mean: number }
  | { readonly kind: "exponential"; readonly mean: number }
  | { readonly kind: "lognormal"; readonly mean: number; readonly cv: number };

/** Returns a sampler drawing from `d` with `rng`. */
export function sampler(d: Distribution, rng: Rng): () => number {
  if (!(d.mean >= 0) || !Number.isFinite(d.mean))
    throw new RangeError(`distribution mean ${d.mean} is not >= 0`);
  switch (d.kind) {
    case "fixed":
      return () => d.mean;
    case "exponential":
      return () => -d.mean * Math.log(1 - rng.next());
    case "lognormal": {
      if (!(d.cv >= 0)) throw new RangeError(`lognormal cv ${d.cv} is not >= 0`);
      const s2 = Math.log(1 + d.cv * d.cv);
      const sigma = Math.sqrt(s2);
      const mu = Math.log(d.mean) - s2 / 2;
      return () => {
        // Box–Muller; 1 - u keeps the log argument in (0, 1].
        const z = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
        return Math.exp(mu + sigma * z);
      };
    }
  }
}
