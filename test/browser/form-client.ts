/**
 * A browser's HTTP side without a browser: a cookie jar, form posts and no redirect following, so
 * a test can look at every Set-Cookie and Location the dashboard sends.
 */
export interface FormResponse {
  status: number;
  location: string | null;
  setCookies: string[];
  headers: Headers;
  text: string;
}

export function formClient(baseUrl: string) {
  const jar = new Map<string, string>();

  async function request(
    method: 'GET' | 'POST',
    path: string,
    form?: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<FormResponse> {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(cookie === '' ? {} : { cookie }),
        ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
        ...headers,
      },
      ...(form === undefined ? {} : { body: new URLSearchParams(form).toString() }),
    });
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=.*1970/i.test(a));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return {
      status: response.status,
      location: response.headers.get('location'),
      setCookies,
      headers: response.headers,
      text: await response.text(),
    };
  }

  const hidden = (text: string, name: string) =>
    new RegExp(`name="${name}" value="([^"]*)"`).exec(text)?.[1] ?? null;

  return {
    jar,
    get: (path: string, headers?: Record<string, string>) => request('GET', path, undefined, headers),
    post: (path: string, form: Record<string, string>, headers?: Record<string, string>) =>
      request('POST', path, form, headers),
    /** The CSRF token of the form fields on the page at `path`. */
    async csrf(path = '/'): Promise<string> {
      const token = hidden((await request('GET', path)).text, 'csrf');
      if (token === null) throw new Error(`no csrf field on ${path}`);
      return token;
    },
    /** Signs in through the form, as a browser does (same-origin post with the form's token). */
    async signIn(token: string): Promise<FormResponse> {
      const page = await request('GET', '/sign-in');
      return request(
        'POST',
        '/sign-in',
        { csrf: hidden(page.text, 'csrf') ?? '', token },
        { origin: baseUrl },
      );
    },
  };
}

/** HTML with every run of whitespace made one space (the templates are formatted for reading). */
export const squash = (html: string) => html.replace(/\s+/g, ' ').replace(/\s+>/g, '>');

/** Roughly what a reader sees: tags dropped, a few entities decoded, whitespace collapsed. */
export const textOf = (html: string) =>
  html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<br\s*\/?>|<\/(p|div|li|tr|h\d)>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
