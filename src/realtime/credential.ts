// Who opens a realtime session, and until when their credential holds. The authentication middleware
// has already checked a header credential; an upgrade carrying an API key in OpenAI's key subprotocol
// (the official SDK's browser client: client-token.ts) is checked here, exactly as a header key is — the
// same 401s, the same principal. A JWT's exp (verified by the middleware) is handed to the Account object, which judges
// every session's credential at each check interval (src/account/sessions.ts): the JWT itself never reaches it.
// So is the id of a portal session that mints a client token (never its cookie): the object reads whether that
// session still holds (auth_session in D1) at each check of the token's session.
import { principalFor } from "../auth/authenticate";
import type { Ctx, Principal } from "../context";
import { CLIENT_TOKEN_PREFIX, openAiSubprotocolCredential } from "./client-token";

/** The principal of a realtime upgrade: by its header, or by an API key in OpenAI's key subprotocol; none for a client token. */
export async function upgradePrincipal(c: Ctx): Promise<Principal | undefined> {
  const principal = c.get("principal") as Principal | undefined;
  if (principal) return principal;
  const credential = openAiSubprotocolCredential(c);
  if (credential === undefined || credential.startsWith(CLIENT_TOKEN_PREFIX)) return undefined;
  const byKey = await principalFor(c, credential);
  c.set("principal", byKey); // the request log and the headers see it as they see a header key
  return byKey;
}

/** When the request's JWT expires (ms); undefined for other credentials (an API key's expiry is in its state at the Account object). */
export function jwtExpiresAt(c: Ctx): number | undefined {
  const principal = c.get("principal") as Principal | undefined;
  return principal?.kind === "jwt" ? principal.expiresAt : undefined;
}

/** The portal session a client token is minted with (its id and expiry, ms); undefined for an API key or a JWT. */
export function portalSessionOf(c: Ctx): { id: string; expiresAt: number } | undefined {
  const principal = c.get("principal") as Principal | undefined;
  if (principal?.kind !== "session" || principal.portalSessionId === undefined) return undefined;
  return { id: principal.portalSessionId, expiresAt: principal.expiresAt ?? Number.POSITIVE_INFINITY };
}
