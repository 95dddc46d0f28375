// The toolstack API's check, applied to the whole fastify app (every route, the OpenAPI document
// and the dashboard alike): a request must carry the API token as `Authorization: Bearer <token>`
// (or, for a browser page, the cookie `xensim-api-token=<token>`). Anything else is 401 with
// WWW-Authenticate, counted, and never reaches a route. A browser gets the cookie once from
// `GET /dashboard/?token=<token>`: HttpOnly, SameSite=Strict, then a redirect that drops the query.
import { bearerMatches } from "@xensim/security";
import type { FastifyInstance } from "fastify";

export const API_TOKEN_COOKIE = "xensim-api-token";

export interface ApiAuth {
  /** The bearer token (`xensim keys init` writes it to DIR/api-token; `xensim up` to its state dir). */
  token: string;
  /** Each refused request (for a metric). */
  onRefused?: (why: "missing" | "wrong") => void;
}

function cookieToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === API_TOKEN_COOKIE) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Registers the check as an onRequest hook of the root app, before any route. */
export function requireApiToken(app: FastifyInstance, auth: ApiAuth): void {
  app.addHook("onRequest", async (req, reply) => {
    const q = req.url.indexOf("?");
    const path = q < 0 ? req.url : req.url.slice(0, q);
    if (req.method === "GET" && (path === "/dashboard/" || path === "/dashboard") && q >= 0) {
      const given = new URLSearchParams(req.url.slice(q + 1)).get("token");
      if (given !== null && bearerMatches(`Bearer ${given}`, auth.token))
        return reply
          .code(302)
          .header(
            "set-cookie",
            `${API_TOKEN_COOKIE}=${encodeURIComponent(auth.token)}; Path=/; HttpOnly; SameSite=Strict`,
          )
          .header("location", "/dashboard/")
          .send();
    }
    const header = req.headers.authorization;
    const cookie = cookieToken(req.headers.cookie);
    if (
      bearerMatches(header, auth.token) ||
      (cookie !== undefined && bearerMatches(`Bearer ${cookie}`, auth.token))
    )
      return;
    const why = header === undefined && cookie === undefined ? "missing" : "wrong";
    auth.onRefused?.(why);
    return reply
      .code(401)
      .header("www-authenticate", 'Bearer realm="xensim toolstack"')
      .send({
        error:
          why === "missing"
            ? "the toolstack API needs its token: Authorization: Bearer <token> (xensim keys init / the state directory's api-token)"
            : "wrong API token",
      });
  });
}
