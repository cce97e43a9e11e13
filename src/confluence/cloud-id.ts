import { ConfluenceConfigError, ConfluenceUnavailableError } from './errors.ts';
import { DEFAULT_TIMEOUT_MS } from './resolve.ts';

/** A cloud id: a UUID. */
export const CLOUD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads a Cloud site's cloud id from `{site}/_edge/tenant_info` (public, no credentials). A
 * network failure or a 5xx may pass and is retried; any other answer means the setting is wrong.
 * Either way the message is one line naming CONFLUENCE_CLOUD_ID.
 */
export async function discoverCloudId(
  siteUrl: string,
  options: { timeoutMs?: number; onRequest?: () => void } = {},
): Promise<string> {
  const where = `${siteUrl}/_edge/tenant_info`;
  const fix = 'set CONFLUENCE_CLOUD_ID';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transient = (why: string, cause?: unknown) =>
    new ConfluenceUnavailableError(
      'CONFLUENCE_CLOUD_ID',
      `could not read the cloud id from ${where} (${why}); ${fix}`,
      { cause },
    );
  const final = (why: string) =>
    new ConfluenceConfigError(
      'CONFLUENCE_CLOUD_ID',
      `could not read the cloud id from ${where} (${why}); ${fix}`,
    );

  options.onRequest?.();
  let status: number;
  let text: string;
  try {
    const response = await fetch(where, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    const name = (error as Error).name;
    throw transient(
      name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (error as Error).message,
      error,
    );
  }
  if (status >= 500 || status === 429) throw transient(`HTTP ${status}`);
  if (status !== 200) throw final(`HTTP ${status}: is CONFLUENCE_URL an Atlassian Cloud site?`);
  let cloudId: unknown;
  try {
    cloudId = (JSON.parse(text) as { cloudId?: unknown }).cloudId;
  } catch {
    throw final('the answer is not JSON');
  }
  if (typeof cloudId !== 'string' || !CLOUD_ID.test(cloudId)) throw final('the answer has no cloudId');
  return cloudId;
}

/**
 * Runs `work` once and keeps its answer (a cloud id, the clients built on it, resolved page ids);
 * a failure is not kept, so a later call tries again.
 */
export function onceUntilFailure<T>(work: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => {
    pending ??= work().catch((error: unknown) => {
      pending = null;
      throw error;
    });
    return pending;
  };
}
