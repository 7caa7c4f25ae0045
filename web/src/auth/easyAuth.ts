// AUTH_MODE=easyauth: App Service Authentication signs the user in (a cookie on this origin) and adds
// the principal to every request itself, so the client sends no bearer token. /.auth/me tells who it is.
import type { AuthSession, SignedInUser } from "./AuthContext";

const OBJECT_ID = ["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"];
const NAME = ["name", "preferred_username", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"];

interface Claim {
  typ: string;
  val: string;
}

/** The user of an App Service `/.auth/me` answer: `[{user_id, user_claims: [{typ, val}]}]`. */
export function userOfMe(body: unknown): SignedInUser | null {
  const entry: unknown = Array.isArray(body) ? body[0] : null;
  if (typeof entry !== "object" || entry === null) return null;
  const { user_id: userId, user_claims: rawClaims } = entry as { user_id?: unknown; user_claims?: unknown };
  const claims = (Array.isArray(rawClaims) ? rawClaims : []).filter(
    (c): c is Claim => typeof (c as Claim).typ === "string" && typeof (c as Claim).val === "string",
  );
  const first = (types: string[]) => types.map((t) => claims.find((c) => c.typ === t)?.val).find(Boolean);
  const id = first(OBJECT_ID);
  if (id === undefined) return null;
  return { id, name: first(NAME) ?? (typeof userId === "string" ? userId : id) };
}

export function signInUrl(returnTo: string): string {
  return `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(returnTo)}`;
}

export async function startEasyAuth(): Promise<AuthSession> {
  let user: SignedInUser | null = null;
  try {
    const response = await fetch("/.auth/me", { credentials: "same-origin" });
    // 401: not signed in; 404: not behind App Service Authentication (then nobody is).
    if (response.ok) user = userOfMe(await response.json());
  } catch {
    user = null;
  }
  return {
    user,
    getToken: () => Promise.resolve(null),
    signIn: () => {
      window.location.assign(signInUrl(window.location.pathname + window.location.search));
      return Promise.resolve();
    },
    signOut: () => {
      window.location.assign("/.auth/logout?post_logout_redirect_uri=/");
      return Promise.resolve();
    },
  };
}
