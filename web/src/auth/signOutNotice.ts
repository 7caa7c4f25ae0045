// A message for the sign-in page after the app signed the user out on its own (their data erased): the
// page they were on is gone once they are signed out, so the message waits here for the sign-in page.
// Per tab (sessionStorage), as the dev sign-in is, and it outlives an Entra or Easy Auth sign-out redirect.
const KEY = "video-signaling.signOutNotice";

export interface SignOutNotice {
  title: string;
  lines: string[];
}

export function leaveSignOutNotice(notice: SignOutNotice): void {
  sessionStorage.setItem(KEY, JSON.stringify(notice));
}

/** The notice left for the sign-in page (it stays until `dropSignOutNotice`). */
export function peekSignOutNotice(): SignOutNotice | null {
  const text = sessionStorage.getItem(KEY);
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<SignOutNotice>;
    if (typeof value.title !== "string" || !Array.isArray(value.lines)) return null;
    return { title: value.title, lines: value.lines.filter((l): l is string => typeof l === "string") };
  } catch {
    return null;
  }
}

/** Shown: not again at the next sign-out. (Apart from reading it: StrictMode renders twice.) */
export function dropSignOutNotice(): void {
  sessionStorage.removeItem(KEY);
}
