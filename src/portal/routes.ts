// The developer portal (API.md §7): the page at GET /portal and phone-OTP sign-in under /portal/auth/*
// (sign-in.ts). Its JSON API under /portal/api/* is the API's own routes mounted with the session
// (app.ts).
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { bytesToBase64 } from "../encoding/base64";
import { PROVIDERS } from "../providers/registry";
import { portalPage } from "./page";
import { registerSignIn } from "./sign-in";

export function registerPortal(app: OpenAPIHono<AppEnv>) {
  registerSignIn(app);
  const providers = PROVIDERS.map((p) => ({ id: p.id, name: p.name }));
  app.get("/portal", (c) => {
    const nonce = randomNonce();
    const res = c.html(portalPage({ nonce, providers }));
    res.headers.set(
      "content-security-policy",
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; ` +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    res.headers.set("referrer-policy", "no-referrer");
    res.headers.set("x-content-type-options", "nosniff");
    res.headers.set("cache-control", "no-store");
    return res;
  });
  app.get("/portal/", (c) => c.redirect("/portal", 301));
}

function randomNonce(): string {
  return bytesToBase64(crypto.getRandomValues(new Uint8Array(16)));
}
