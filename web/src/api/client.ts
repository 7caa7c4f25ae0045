// The one API client: generated types (schema.d.ts, from the app's OpenAPI document) and openapi-fetch.
// Every request carries the signed-in user's bearer token; errors become ApiError with the problem+json.
import createClient, { type Middleware } from "openapi-fetch";

import type { paths } from "./schema";

/** Where the API lives: same origin (devhost, `npm run dev`'s proxy) unless the build says otherwise. */
export const apiBaseUrl = `${(import.meta.env.VITE_API_BASE_URL as string | undefined) ?? ""}/api`.replace(
  /^\/\//,
  "/",
);

type TokenSource = () => Promise<string | null>;
let tokenSource: TokenSource = () => Promise.resolve(null);

/** Set by the auth provider: where the bearer token of the signed-in user comes from. */
export function setTokenSource(source: TokenSource): void {
  tokenSource = source;
}

const auth: Middleware = {
  async onRequest({ request }) {
    const token = await tokenSource();
    if (token !== null && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${token}`);
    }
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: apiBaseUrl });
api.use(auth);

/** The bearer token for requests the generated client does not make (downloads, media). */
export async function authorizationHeader(): Promise<Record<string, string>> {
  const token = await tokenSource();
  return token === null ? {} : { Authorization: `Bearer ${token}` };
}
