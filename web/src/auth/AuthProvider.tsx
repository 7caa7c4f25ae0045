import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";

import { setTokenSource } from "../api/client";
import type { ClientConfig } from "../api/config";
import { AuthContext, type AuthState, type SignedInUser } from "./AuthContext";
import { storeDevUser, storedDevUser } from "./devAuth";

/**
 * Who the user is and how their requests are signed. Dev mode: `Bearer dev:<id>`.
 * Entra: MSAL (loaded only in that mode, so dev and the first page never download it).
 */
export function AuthProvider({ config, children }: { config: ClientConfig; children: ReactNode }) {
  const [user, setUser] = useState<SignedInUser | null>(() => {
    if (config.authMode !== "dev") return null;
    const id = storedDevUser();
    return id === null ? null : { id, name: id };
  });

  useEffect(() => {
    if (config.authMode === "dev") {
      setTokenSource(() => Promise.resolve(user === null ? null : `dev:${user.id}`));
    }
  }, [config.authMode, user]);

  const signIn = useCallback(
    (userId?: string) => {
      if (config.authMode === "dev" && userId !== undefined) {
        storeDevUser(userId);
        setUser({ id: userId, name: userId });
      }
      return Promise.resolve();
    },
    [config.authMode],
  );

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
