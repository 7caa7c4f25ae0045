import { createContext, useContext } from "react";

import type { ClientConfig } from "../api/config";

export interface SignedInUser {
  /** The user id the API knows the caller by (dev mode: what they typed; Entra: the token's oid). */
  id: string;
  name: string;
}

export interface AuthState {
  config: ClientConfig;
  user: SignedInUser | null;
  signIn: (userId?: string) => Promise<void>;
  signOut: () => Promise<void>;
}

export const AuthContext = createContext<AuthState | null>(null);

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (state === null) throw new Error("useAuth outside AuthProvider");
  return state;
}
