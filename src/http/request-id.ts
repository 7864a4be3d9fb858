// X-Request-Id: echo a well-formed incoming id, else generate one.
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(incoming: string | null | undefined): string {
  return incoming && WELL_FORMED.test(incoming) ? incoming : `req_${crypto.randomUUID().replaceAll("-", "")}`;
}
