import { useCallback, useEffect, useLayoutEffect, useMemo, useState, type ReactNode } from "react";

import { setTokenSource } from "../api/client";
import type { ClientConfig } from "../api/config";
import { ErrorMessage } from "../components/ErrorMessage";
import { Loading } from "../components/Loading";
import { AuthContext, type AuthSession, type AuthState, type SignedInUser } from "./AuthContext";
import { storeDevUser, storedDevUser } from "./devAuth";
import { startEasyAuth } from "./easyAuth";

/** Starts the session of a mode other than dev. Entra's MSAL is imported here, lazily, and only here. */
export async function startSession(config: ClientConfig): Promise<AuthSession> {
  if (config.authMode === "entra") {
    if (config.entra === null) {
      // AUTH_CLIENT_ID and AUTH_API_SCOPE are not both set on the API: say so rather than fail in MSAL.
      throw new Error("Sign-in is not configured on this deployment: the API reports no Entra client id.");
    }
    const { startEntra } = await import("./entra");
    return startEntra(config.entra);
  }
  return startEasyAuth();
}

/**
 * Who the user is and how their requests are signed. Dev mode: `Bearer dev:<id>`. Entra: MSAL's access
 * token for the API's scope. Easy Auth: nothing (App Service adds the principal).
 */
export function AuthProvider({ config, children }: { config: ClientConfig; children: ReactNode }) {
  if (config.authMode === "dev") return <DevAuth config={config}>{children}</DevAuth>;
  return <SessionAuth config={config}>{children}</SessionAuth>;
}

function DevAuth({ config, children }: { config: ClientConfig; children: ReactNode }) {
  const [user, setUser] = useState<SignedInUser | null>(() => {
    const id = storedDevUser();
    return id === null ? null : { id, name: id };
  });

  // A layout effect: it runs before the pages' effects, so their first requests already carry the token.
  useLayoutEffect(() => {
    setTokenSource(() => Promise.resolve(user === null ? null : `dev:${user.id}`));
  }, [user]);

  const signIn = useCallback((userId?: string) => {
    if (userId !== undefined) {
      storeDevUser(userId);
      setUser({ id: userId, name: userId });
    }
    return Promise.resolve();
  }, []);

  const signOut = useCallback(() => {
    storeDevUser(null);
    setUser(null);
    return Promise.resolve();
  }, []);

  const state = useMemo<AuthState>(
    () => ({ config, user, signIn, signOut }),
    [config, user, signIn, signOut],
  );
  return <AuthContext.Provider value={state}>{children}</AuthContext.Provider>;
}

function SessionAuth({ config, children }: { config: ClientConfig; children: ReactNode }) {
  const [session, setSession] = useState<AuthSession | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let current = true;
    startSession(config).then(
      (started) => {
        if (!current) return;
        setTokenSource(started.getToken);
        setSession(started);
      },
      (e: unknown) => {
        if (current) setError(e);
      },
    );
    return () => {
      current = false;
    };
  }, [config, attempt]);

  const state = useMemo<AuthState | null>(
    () =>
      session === null
        ? null
        : { config, user: session.user, signIn: () => session.signIn(), signOut: () => session.signOut() },
    [config, session],
  );

  if (error !== null) {
    return (
      <main style={{ padding: "2rem" }}>
        <ErrorMessage
          error={error}
          onRetry={() => {
            setError(null);
            setAttempt((n) => n + 1);
          }}
        />
      </main>
    );
  }
  if (state === null) return <Loading label="Signing in" />;
  return <AuthContext.Provider value={state}>{children}</AuthContext.Provider>;
}
