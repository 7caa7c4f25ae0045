// AUTH_MODE=dev: the user types an id and every request carries `Bearer dev:<id>`. Kept per tab
// (sessionStorage) so two tabs can be two people, as the local walkthrough does.
const KEY = "video-signaling.devUser";
export const DEV_USER_ID = /^[A-Za-z0-9.@_+-]{1,128}$/;

export function storedDevUser(): string | null {
  const id = sessionStorage.getItem(KEY);
  return id !== null && DEV_USER_ID.test(id) ? id : null;
}

export function storeDevUser(id: string | null): void {
  if (id === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, id);
}
