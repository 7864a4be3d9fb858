// The storage bindings a request uses (D1, KV, the Account object). With DEBUG_STORAGE_COUNTS the
// bindings are wrapped so each request counts its blocking round trips (tests and the benchmark read
// them from the X-Voxgate-Storage header); otherwise the raw bindings are used, at no cost.
import type { Account } from "./account/account";
import type { Env } from "./env";

export interface StorageCounts {
  d1: number;
  durableObject: number;
  kvRead: number;
  kvWrite: number;
}

export interface Bindings {
  db: D1Database;
  kv: KVNamespace;
  account(userId: string): DurableObjectStub<Account>;
  counts?: StorageCounts;
}

export function bindingsFor(env: Env, counting: boolean): Bindings {
  if (!counting) {
    return { db: env.DB, kv: env.USAGE, account: (userId) => env.ACCOUNT.getByName(userId) };
  }
  const counts: StorageCounts = { d1: 0, durableObject: 0, kvRead: 0, kvWrite: 0 };
  return {
    db: countingD1(env.DB, counts),
    kv: countingKv(env.USAGE, counts),
    account: (userId) => countingCalls(env.ACCOUNT.getByName(userId), () => counts.durableObject++),
    counts,
  };
}

export function formatCounts(c: StorageCounts): string {
  return `d1=${c.d1}, do=${c.durableObject}, kv_read=${c.kvRead}, kv_write=${c.kvWrite}`;
}

function countingCalls<T extends object>(target: T, onCall: () => void): T {
  return new Proxy(target, {
    get(t, prop) {
      const v = Reflect.get(t, prop);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        onCall();
        // RPC methods are callable properties: call them as they are (no `this` rebinding).
        return (v as (...a: unknown[]) => unknown)(...args);
      };
    },
  });
}

function countingStatement(stmt: D1PreparedStatement, counts: StorageCounts): D1PreparedStatement {
  return new Proxy(stmt, {
    get(t, prop) {
      const v = Reflect.get(t, prop);
      if (prop === "bind") return (...args: unknown[]) => countingStatement(t.bind(...args), counts);
      if (typeof v === "function" && (prop === "first" || prop === "all" || prop === "run" || prop === "raw")) {
        return (...args: unknown[]) => {
          counts.d1++;
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      }
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}

function countingD1(db: D1Database, counts: StorageCounts): D1Database {
  return new Proxy(db, {
    get(t, prop) {
      const v = Reflect.get(t, prop);
      if (prop === "prepare") return (q: string) => countingStatement(t.prepare(q), counts);
      if (prop === "batch") {
        // One batch is one round trip; unwrap our statement proxies for the binding.
        return (stmts: D1PreparedStatement[]) => {
          counts.d1++;
          return t.batch(stmts);
        };
      }
      if (prop === "exec") {
        return (q: string) => {
          counts.d1++;
          return t.exec(q);
        };
      }
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}

function countingKv(kv: KVNamespace, counts: StorageCounts): KVNamespace {
  return new Proxy(kv, {
    get(t, prop) {
      const v = Reflect.get(t, prop);
      if (typeof v !== "function") return v;
      const isWrite = prop === "put" || prop === "delete";
      return (...args: unknown[]) => {
        if (isWrite) counts.kvWrite++;
        else counts.kvRead++;
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}
