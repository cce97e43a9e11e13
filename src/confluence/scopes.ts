/**
 * What a scoped API token (Atlassian Cloud service accounts) must hold for each call the Cloud
 * reader makes, as Atlassian documents them; README, "Confluence flavours", shows the same table.
 */
export const CALL_SCOPES = {
  /** GET /wiki/api/v2/pages/{id}?body-format=storage, GET /wiki/api/v2/pages?id=… */
  pages: 'read:page:confluence',
  /** GET /wiki/rest/api/content/search (classic scope: search:confluence) */
  search: 'read:content-details:confluence',
  /** POST /wiki/api/v2/users-bulk: editors' names (without it the change log shows account ids) */
  users: 'read:user:confluence',
  /** GET /wiki/api/v2/spaces?keys=… (only to list every page of a space) */
  spaces: 'read:space:confluence',
} as const;

/** The scopes the service needs: pages and their versions, CQL and title links, editors' names. */
export const SERVICE_SCOPES = [CALL_SCOPES.pages, CALL_SCOPES.search, CALL_SCOPES.users] as const;
