// The Account object's outbox: events it decided on (usage thresholds, low credits) are written to its
// own storage in the same synchronous step that decided them, then sent to the webhook Queue in the
// background — never awaited by the call that made them, so the hot path gains no round trip. A send
// that fails leaves the rows for the next flush (the object's alarm retries), so every event is sent
// at least once; receivers deduplicate by its id (`webhook-id`).
import type { EventMessage } from "./events";

/** Messages per Queue sendBatch (the Queue's own limit is 100). */
const SEND_BATCH_MAX = 100;

export class Outbox {
  private flushing?: Promise<boolean>;
  /** Whether rows wait to be sent: read once when the object wakes, then kept as rows are added and sent. */
  private waiting?: boolean;

  constructor(
    private readonly sql: SqlStorage,
    private readonly queue: () => Queue | undefined,
  ) {}

  static createTables(sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at INTEGER NOT NULL)");
  }

  add(message: EventMessage, now: number) {
    this.sql.exec("INSERT OR IGNORE INTO outbox (id, body, created_at) VALUES (?, ?, ?)", message.event.id, JSON.stringify(message), now);
    this.waiting = true;
  }

  /** Rows wait to be sent (asked after every charge: answered from memory). */
  get pending(): boolean {
    this.waiting ??= this.sql.exec("SELECT 1 FROM outbox LIMIT 1").toArray().length > 0;
    return this.waiting;
  }

  /** Send everything waiting; resolves false when a send failed (the rows stay for the next try). */
  flush(): Promise<boolean> {
    this.flushing ??= this.send().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async send(): Promise<boolean> {
    const queue = this.queue();
    if (!queue) {
      // No webhook Queue bound (a deployment without webhooks): nothing could ever send these.
      this.sql.exec("DELETE FROM outbox");
      this.waiting = false;
      return true;
    }
    for (;;) {
      const rows = this.sql
        .exec<{ id: string; body: string }>("SELECT id, body FROM outbox ORDER BY created_at LIMIT ?", SEND_BATCH_MAX)
        .toArray();
      if (rows.length === 0) {
        this.waiting = false;
        return true;
      }
      try {
        await queue.sendBatch(rows.map((r) => ({ body: JSON.parse(r.body) as EventMessage, contentType: "json" as const })));
      } catch (e) {
        console.error(`outbox: sending ${rows.length} event(s) failed, kept for the next try: ${String(e)}`);
        return false;
      }
      for (const r of rows) this.sql.exec("DELETE FROM outbox WHERE id = ?", r.id);
    }
  }
}
