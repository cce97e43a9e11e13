import pg from 'pg';
import type { ListChangeFeed } from '../stores/types.ts';
import type { Db } from './run-store.ts';

/** The Postgres channel a committed apply notifies. */
const LIST_CHANGED_CHANNEL = 'restricted_list_changed';
const RECONNECT_DELAY_MS = 1_000;

/** Sent inside the apply transaction, so listeners hear of it exactly when it commits. */
export async function notifyListChanged(trx: Db, listVersion: number): Promise<void> {
  await trx.raw('SELECT pg_notify(?, ?)', [LIST_CHANGED_CHANNEL, String(listVersion)]);
}

/**
 * LISTEN on a connection of its own (a pooled one would be handed back), reconnecting after a
 * loss; every (re)connection counts as a possible change, since a notification may have been missed.
 */
export function createListChangeFeed(databaseUrl: string): ListChangeFeed {
  return {
    async subscribe(onChange, onError) {
      let closed = false;
      let client: pg.Client | null = null;
      let timer: NodeJS.Timeout | null = null;
      const retry = () => {
        if (closed) return;
        timer = setTimeout(() => {
          timer = null;
          void listen().catch((error: unknown) => {
            onError(`reconnecting the list-change listener: ${(error as Error).message}`);
            retry();
          });
        }, RECONNECT_DELAY_MS);
        timer.unref();
      };
      const listen = async () => {
        const next = new pg.Client({
          connectionString: databaseUrl,
          application_name: 'restricted-list-sync-index',
        });
        next.on('notification', () => onChange());
        next.on('error', (error) => {
          onError(`the list-change listener lost its connection: ${error.message}`);
          if (client === next) client = null;
          void next.end().catch(() => undefined);
          retry();
        });
        try {
          await next.connect();
          await next.query(`LISTEN ${LIST_CHANGED_CHANNEL}`);
        } catch (error) {
          void next.end().catch(() => undefined);
          throw error;
        }
        if (closed) {
          await next.end().catch(() => undefined);
          return;
        }
        client = next;
        onChange();
      };
      try {
        await listen();
      } catch (error) {
        onError(`listening for list changes (the periodic check still runs): ${(error as Error).message}`);
        retry();
      }
      return {
        async close() {
          closed = true;
          if (timer) clearTimeout(timer);
          await client?.end().catch(() => undefined);
          client = null;
        },
      };
    },
  };
}
