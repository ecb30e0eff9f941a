import { Client } from "pg";

// PostgreSQL LISTEN/NOTIFY for signals every process must hear at once (a session was cancelled).
// Notifications are a fast path only: a listener that was disconnected misses what was sent meanwhile,
// so whatever it drives must also be found by polling (for cancels: the journal lease renewal).

export interface NotificationListener {
  /** Stops listening and closes the connection. */
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Channels to LISTEN on: lower-case identifiers. */
  channels: readonly string[];
  onNotification: (channel: string, payload: string) => void;
  /** Told about connection problems (the listener reconnects by itself). */
  onError?: (error: Error) => void;
  /** Delay before reconnecting after the connection was lost. @default 1000 */
  reconnectDelayMs?: number;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Listens on `channels` over one dedicated connection to `databaseUrl`, reconnecting after a lost
 * connection until `close()`.
 */
export async function listen(databaseUrl: string, options: ListenOptions): Promise<NotificationListener> {
  for (const channel of options.channels) {
    if (!CHANNEL.test(channel)) throw new TypeError(`not a channel name: ${JSON.stringify(channel)}`);
  }
  let closed = false;
  let client: Client | null = null;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const next = new Client({ connectionString: databaseUrl, application_name: "foundry-listener" });
    next.on("notification", (message) => {
      options.onNotification(message.channel, message.payload ?? "");
    });
    next.on("error", (error) => {
      options.onError?.(error);
      reconnect(next);
    });
    next.on("end", () => reconnect(next));
    await next.connect();
    for (const channel of options.channels) await next.query(`LISTEN ${channel}`);
    if (closed) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
  };

  const reconnect = (broken: Client) => {
    if (closed || client !== broken) return;
    client = null;
    broken.end().catch(() => {});
    schedule();
  };

  const schedule = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect().catch((error: Error) => {
        options.onError?.(error);
        schedule();
      });
    }, options.reconnectDelayMs ?? 1_000);
    timer.unref();
  };

  await connect();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      const current = client;
      client = null;
      await current?.end().catch(() => {});
    },
  };
}
