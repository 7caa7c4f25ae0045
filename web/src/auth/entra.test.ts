import {
  InteractionRequiredAuthError,
  type AccountInfo,
  type IPublicClientApplication,
} from "@azure/msal-browser";
import { describe, expect, it, vi } from "vitest";

import { userOfMe } from "./easyAuth";
import { startEntra, userOf } from "./entra";

const ENTRA = {
  clientId: "client-1",
  authority: "https://login.microsoftonline.com/tenant-1",
  scopes: ["api://vs/user"],
};

const account: AccountInfo = {
  homeAccountId: "oid-1.tenant-1",
  environment: "login.microsoftonline.com",
  tenantId: "tenant-1",
  username: "ada@contoso.com",
  localAccountId: "oid-1",
  name: "Ada Lovelace",
  idTokenClaims: { oid: "oid-1" },
};

function fakeMsal(overrides: Partial<Record<keyof IPublicClientApplication, unknown>> = {}) {
  let active: AccountInfo | null = null;
  const app = {
    handleRedirectPromise: vi.fn(() => Promise.resolve(null)),
    getActiveAccount: vi.fn(() => active),
    setActiveAccount: vi.fn((a: AccountInfo | null) => {
      active = a;
    }),
    getAllAccounts: vi.fn(() => [account]),
    acquireTokenSilent: vi.fn(() => Promise.resolve({ accessToken: "at-1" })),
    acquireTokenRedirect: vi.fn(() => Promise.resolve()),
    loginRedirect: vi.fn(() => Promise.resolve()),
    logoutRedirect: vi.fn(() => Promise.resolve()),
    ...overrides,
  };
  return app;
}

/** The fake, as what startEntra takes. */
const msal = (app: ReturnType<typeof fakeMsal>) => app as unknown as IPublicClientApplication;

describe("startEntra", () => {
  it("finishes a redirect sign-in first and signs in its account", async () => {
    const app = fakeMsal({
      handleRedirectPromise: vi.fn(() => Promise.resolve({ account })),
      getAllAccounts: vi.fn(() => []),
    });
    const session = await startEntra(ENTRA, "https://app.example", msal(app));
    expect(app.handleRedirectPromise).toHaveBeenCalledTimes(1);
    expect(app.setActiveAccount).toHaveBeenCalledWith(account);
    expect(session.user).toEqual({ id: "oid-1", name: "Ada Lovelace" });
  });

  it("has nobody signed in without an account, and then sends no token", async () => {
    const app = fakeMsal({ getAllAccounts: vi.fn(() => []) });
    const session = await startEntra(ENTRA, "https://app.example", msal(app));
    expect(session.user).toBeNull();
    expect(await session.getToken()).toBeNull();
    expect(app.acquireTokenSilent).not.toHaveBeenCalled();
  });

  it("asks a token silently for the API's scopes on each request", async () => {
    const app = fakeMsal();
    const session = await startEntra(ENTRA, "https://app.example", msal(app));
    expect(await session.getToken()).toBe("at-1");
    expect(app.acquireTokenSilent).toHaveBeenCalledWith({ scopes: ["api://vs/user"], account });
  });

  it("sends the user to Entra when the silent request needs interaction", async () => {
    const app = fakeMsal({
      acquireTokenSilent: vi.fn(() =>
        Promise.reject(new InteractionRequiredAuthError("consent_required", "AADSTS65001")),
      ),
    });
    const session = await startEntra(ENTRA, "https://app.example", msal(app));
    const pending = session.getToken();
    await vi.waitFor(() => {
      expect(app.acquireTokenRedirect).toHaveBeenCalledWith(
        expect.objectContaining({ scopes: ["api://vs/user"], account }),
      );
    });
    // The request waits for the navigation instead of failing in front of the user.
    const settled = await Promise.race([pending.then(() => "settled"), Promise.resolve("waiting")]);
    expect(settled).toBe("waiting");
  });

  it("passes other failures on", async () => {
    const app = fakeMsal({ acquireTokenSilent: vi.fn(() => Promise.reject(new Error("network down"))) });
    const session = await startEntra(ENTRA, "https://app.example", msal(app));
    await expect(session.getToken()).rejects.toThrow("network down");
    expect(app.acquireTokenRedirect).not.toHaveBeenCalled();
  });

  it("signs in and out by redirect", async () => {
    const app = fakeMsal();
    const session = await startEntra(ENTRA, "https://app.example", msal(app));
    await session.signIn();
    expect(app.loginRedirect).toHaveBeenCalledWith(expect.objectContaining({ scopes: ["api://vs/user"] }));
    await session.signOut();
    expect(app.logoutRedirect).toHaveBeenCalledWith({ account });
  });
});

describe("who the user is", () => {
  it("is the token's object id, shown by name or else sign-in name", () => {
    expect(userOf(account)).toEqual({ id: "oid-1", name: "Ada Lovelace" });
    expect(userOf({ ...account, name: undefined, idTokenClaims: {} })).toEqual({
      id: "oid-1",
      name: "ada@contoso.com",
    });
  });

  it("reads App Service's /.auth/me under Easy Auth", () => {
    const me = [
      {
        provider_name: "aad",
        user_id: "ada@contoso.com",
        user_claims: [
          { typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: "oid-1" },
          { typ: "name", val: "Ada Lovelace" },
        ],
      },
    ];
    expect(userOfMe(me)).toEqual({ id: "oid-1", name: "Ada Lovelace" });
    expect(userOfMe([])).toBeNull();
    expect(userOfMe({ clientPrincipal: null })).toBeNull();
  });
});
