// AUTH_MODE=entra: MSAL (redirect sign-in, silent tokens for the API's scope, interaction when needed).
// Only AuthProvider imports this module, and only with a dynamic import() in that mode: MSAL never
// reaches the first page's bundle, and dev or easyauth deployments never download it.
import {
  InteractionRequiredAuthError,
  PublicClientApplication,
  type AccountInfo,
  type IPublicClientApplication,
} from "@azure/msal-browser";

import type { EntraConfig } from "../api/config";
import type { AuthSession, SignedInUser } from "./AuthContext";

/** Where Entra sends the browser back: a small page (auth-redirect.html) that hands the answer on. */
export const REDIRECT_PATH = "/auth-redirect.html";

/** The user the API knows: the token's object id; shown by name (or the sign-in name). */
export function userOf(account: AccountInfo): SignedInUser {
  const oid = account.idTokenClaims?.oid;
  return {
    id: typeof oid === "string" && oid !== "" ? oid : account.localAccountId,
    name: account.name || account.username,
  };
}

/** Builds MSAL's client from the deployment's config (the seam tests replace). */
export async function createClient(entra: EntraConfig, origin: string): Promise<IPublicClientApplication> {
  if (!entra.clientId) {
    throw new Error("Sign-in is not configured on this deployment: the API reports no Entra client id.");
  }
  const app = new PublicClientApplication({
    auth: {
      clientId: entra.clientId,
      ...(entra.authority ? { authority: entra.authority } : {}),
      redirectUri: `${origin}${REDIRECT_PATH}`,
      postLogoutRedirectUri: origin,
    },
    cache: { cacheLocation: "sessionStorage" },
  });
  await app.initialize();
  return app;
}

/**
 * Starts MSAL: finishes a sign-in the browser is coming back from (handleRedirectPromise), then picks the
 * signed-in account. Tokens are asked silently per request (MSAL caches and renews them); when Entra
 * needs the user (consent, expired session, MFA) the browser is sent to sign in again.
 */
export async function startEntra(
  entra: EntraConfig,
  origin: string = window.location.origin,
  client?: IPublicClientApplication,
): Promise<AuthSession> {
  const app = client ?? (await createClient(entra, origin));
  const scopes = entra.scopes;
  const result = await app.handleRedirectPromise();
  const account = result?.account ?? app.getActiveAccount() ?? app.getAllAccounts()[0] ?? null;
  if (account !== null) app.setActiveAccount(account);

  const getToken = async (): Promise<string | null> => {
    const active = app.getActiveAccount();
    if (active === null) return null;
    try {
      const { accessToken } = await app.acquireTokenSilent({ scopes, account: active });
      return accessToken;
    } catch (error) {
      if (!(error instanceof InteractionRequiredAuthError)) throw error;
      await app.acquireTokenRedirect({ scopes, account: active, redirectStartPage: window.location.href });
      // The browser is leaving for Entra: the request waits rather than failing in front of the user.
      return new Promise<never>(() => undefined);
    }
  };

  return {
    user: account === null ? null : userOf(account),
    getToken,
    signIn: () => app.loginRedirect({ scopes, redirectStartPage: window.location.href }),
    signOut: () => app.logoutRedirect({ account: app.getActiveAccount() }),
  };
}
