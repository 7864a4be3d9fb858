// Benchmark users: JWTs signed with the test key the worker trusts, each user on the "scale" plan
// (1,000 requests/min per API key and per user) with plenty of credits, each with a few API keys, so
// that spreading the load round-robin keeps every rate-limit bucket far from its limit.
import { importJWK, SignJWT } from "jose";

const JWT_ISSUER = "https://auth.voxgate.test/";
const JWT_AUDIENCE = "voxgate-api";
/** Long enough for the longest full run. */
const JWT_TTL = "3h";
/** Bounded parallelism while creating users: setup is not what is measured. */
const SETUP_PARALLEL = 8;

export async function jwtSigner(privateJwk) {
  const key = await importJWK(JSON.parse(privateJwk), "ES256");
  return (sub, role) =>
    new SignJWT(role ? { role } : {})
      .setProtectedHeader({ alg: "ES256", kid: "test-es256" })
      .setSubject(sub)
      .setIssuer(JWT_ISSUER)
      .setAudience(JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(JWT_TTL)
      .sign(key);
}

async function call(base, path, { method = "GET", token, json } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (json !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(base + path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
  return body;
}

/**
 * Create `users` users with `keysPerUser` API keys each on the Voxgate at `base`.
 * Returns { keys: string[], jwts: string[] } (keys interleaved across users).
 */
export async function createBenchAccounts(base, sign, { users, keysPerUser, tag }) {
  const admin = await sign(`bench-admin-${tag}`, "admin");
  const made = new Array(users);
  let next = 0;
  const worker = async () => {
    while (next < users) {
      const i = next++;
      const jwt = await sign(`bench-${tag}-user-${i}`);
      const me = await call(base, "/v1/me", { token: jwt });
      await call(base, `/api/admin/users/${me.user.id}`, {
        method: "PATCH",
        token: admin,
        json: { plan: "scale", paygCredits: 1_000_000 },
      });
      const keys = [];
      for (let k = 0; k < keysPerUser; k++) {
        const created = await call(base, "/v1/keys", { method: "POST", token: jwt, json: { name: `bench-${k}` } });
        keys.push(created.key);
      }
      made[i] = { userId: me.user.id, jwt, keys };
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETUP_PARALLEL, users) }, worker));
  const keys = [];
  for (let k = 0; k < keysPerUser; k++) for (const u of made) keys.push(u.keys[k]);
  return { keys, jwts: made.map((u) => u.jwt), userIds: made.map((u) => u.userId) };
}
