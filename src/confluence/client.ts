import type { Config } from '../config.ts';
import type { PageVersion } from '../domain/index.ts';
import { createCloudReader } from './cloud.ts';
import { createDataCenterReader } from './datacenter.ts';
import type { PageRef } from './page-ref.ts';

export {
  ConfluenceAuthError,
  ConfluenceConfigError,
  ConfluenceError,
  ConfluenceNotFoundError,
  ConfluenceRateLimitError,
  ConfluenceUnavailableError,
} from './errors.ts';

/** A page as the sync needs it. */
export interface ConfluencePage {
  id: string;
  title: string;
  version: number;
  /**
   * Who saved this version: Cloud, their display name (their account id if the name cannot be
   * looked up); Data Center, their display name, else their username.
   */
  editedBy: string | null;
  editedAt: string | null;
  /** The page as people open it, on CONFLUENCE_URL (never the API gateway). */
  url: string | null;
  /** Storage format (XHTML with ac:/ri: elements). */
  storage: string;
}

/**
 * The narrow interface the activities and the CLI depend on, whichever Confluence answers (Cloud
 * on confluence.js, Data Center on our own client): the same calls, the same typed errors.
 */
export interface ConfluenceReader {
  /** Any link form of the contract, or a bare id. */
  resolvePageId(ref: string | PageRef): Promise<string>;
  getPage(id: string): Promise<ConfluencePage>;
  /** Current versions of many pages, bodies not included; pages that are gone are absent. */
  getPageVersions(ids: readonly string[]): Promise<Map<string, PageVersion>>;
  /** Every page the CQL matches (all result pages followed). */
  cqlSearch(cql: string, options?: { expand?: string[]; limit?: number }): Promise<PageVersion[]>;
  /** Ids of every page in a space (ids only, for deletion detection in large spaces). */
  getSpacePageIds(spaceKey: string): Promise<string[]>;
}

interface CommonSettings {
  /** Cloud: the site URL (no `/wiki`). Data Center: the base URL with its context path. */
  url: string;
  /** Per request; a request that takes longer is a ConfluenceUnavailableError. */
  timeoutMs?: number;
  /** Called once per HTTP request sent (for the requests-by-purpose metric). */
  onRequest?: () => void;
}

/** The cloud id, or how to get it (discovered once, then cached by whoever provides it). */
export type CloudIdSource = string | (() => Promise<string>);

export interface CloudSettings extends CommonSettings {
  deployment?: 'cloud';
  /** The account e-mail (basic auth, e-mail and API token). */
  username: string;
  apiToken: string;
  /** A scoped API token: every API call goes through the gateway; links stay on the site. */
  scoped?: { gatewayUrl: string; cloudId: CloudIdSource | null };
}

export interface DataCenterSettings extends CommonSettings {
  deployment: 'datacenter';
  /** Null: the token is a personal access token, sent as a bearer token; else basic auth. */
  username: string | null;
  /** A personal access token, or the user's password. */
  apiToken: string;
}

export type ConfluenceSettings = CloudSettings | DataCenterSettings;

export function createConfluenceReader(settings: ConfluenceSettings): ConfluenceReader {
  return settings.deployment === 'datacenter'
    ? createDataCenterReader(settings)
    : createCloudReader(settings);
}

/** The reader settings the configuration names (the cloud id source is the caller's, to be shared). */
export function confluenceSettings(
  confluence: Config['confluence'],
  options: { cloudId?: CloudIdSource | null } = {},
): ConfluenceSettings {
  const { url, username, apiToken } = confluence;
  if (url === null || apiToken === null || (confluence.deployment === 'cloud' && username === null)) {
    throw new Error('Confluence settings are incomplete (loadConfig should have said so)');
  }
  if (confluence.deployment === 'datacenter') return { deployment: 'datacenter', url, username, apiToken };
  return {
    deployment: 'cloud',
    url,
    username: username!,
    apiToken,
    ...(confluence.scopedToken
      ? {
          scoped: {
            gatewayUrl: confluence.apiGatewayUrl,
            cloudId: confluence.cloudId ?? options.cloudId ?? null,
          },
        }
      : {}),
  };
}
