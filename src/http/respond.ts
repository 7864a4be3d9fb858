// Rendering an error in the product's shape (API.md §8), with the request id.
import type { Ctx } from "../context";
import { type ApiError, errorBody } from "./errors";

export function errorResponse(c: Ctx, err: ApiError): Response {
  const res = c.json(errorBody(err.code, err.message, c.get("requestId") ?? "", err.details), err.status);
  if (c.get("requestId")) res.headers.set("x-request-id", c.get("requestId"));
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.headers.set(k, v);
  return res;
}
