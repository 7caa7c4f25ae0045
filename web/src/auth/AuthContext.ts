import { createContext, useContext } from "react";

import type { ClientConfig } from "../api/config";

export interface SignedInUser {
  /** The user id the API knows the caller by (dev mode: what they typed; Entra: the token's oid). */
  id: string;
  /** For display: the account's name (or sign-in name) under Entra, the id in dev mode. */
  name: string;
}

/** How a sign-in mode other than dev works: who is signed in, their API token, the ways in and out. */
export interface AuthSession {
  user: SignedInUser | null;
  /** The bearer token for the next request; null when the platform adds the principal (easyauth). */
  getToken: () => Promise<string | null>;
  signIn: () => Promise<void>;
  signOut: () => Promise<void>;
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
