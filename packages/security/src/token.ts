// The toolstack API's bearer token: compared in constant time.
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** True when an `Authorization` header carries `Bearer <token>` (constant-time in the token). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || token === "") return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  return timingSafeEqual(digest(m[1] as string), digest(token));
}
