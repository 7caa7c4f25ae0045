// Test helpers (never imported by the app): the API answered by a fake fetch, pages rendered signed in.
//
// A test file installs the fake fetch first (fakeFetch.ts), then answers requests with
// `answerWith(fetchMock, routes)`.
import { cleanup, configure, render, screen } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, type Mock } from "vitest";

import type { ClientConfig } from "../api/config";
import { AuthContext, type AuthState } from "../auth/AuthContext";

// jsdom has no ResizeObserver; Fluent's MessageBar measures itself with one.
if ((globalThis as { ResizeObserver?: unknown }).ResizeObserver === undefined) {
  Object.assign(globalThis, {
    ResizeObserver: class {
      observe(): void {}
      unobserve(): void {}
      disconnect(): void {}
    },
  });
}

// Fluent's dialogs and the pages' requests take a while on a busy machine: wait up to 5 s, not 1 s.
configure({ asyncUtilTimeout: 5000 });

// Without vitest globals Testing Library cannot unmount by itself between tests.
afterEach(cleanup);

/**
 * The open dialog, and what is in it, found whether or not it is aria-hidden. Under jsdom, Tabster (Fluent's
 * focus manager, rebuilt for every test) can miss the focus moving into a dialog on a loaded machine, and then
 * marks the dialog's own surface aria-hidden, which a browser never does: the browser tests (web/e2e) check
 * dialogs with the page's accessibility tree. Query inside with `{ hidden: true }` too (`inDialog`).
 */
export function findDialog(): Promise<HTMLElement> {
  return screen.findByRole("dialog", { hidden: true });
}

export const inDialog = { hidden: true } as const;

export interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: unknown;
}

export type Route_ = (seen: Seen) => Response | Promise<Response> | undefined;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? "application/problem+json" : "application/json";
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": type, ...headers },
  });
}

export function problem(
  status: number,
  detail: string,
  errors?: { field: string; message: string }[],
): Response {
  return json({ type: "about:blank", title: "Problem", status, detail, errors: errors ?? null }, status);
}

/**
 * Answers each request with the first route that returns a Response; records what was asked in `seen`.
 * Unanswered requests fail the test loudly (404 with the route named).
 */
export function answerWith(fetchMock: Mock, routes: Route_[]): Seen[] {
  const seen: Seen[] = [];
  fetchMock.mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(String(input), init);
    const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    const url = new URL(request.url, "http://localhost");
    const entry: Seen = {
      method: request.method,
      path: url.pathname + url.search,
      headers: request.headers,
      body: text === "" ? undefined : (JSON.parse(text) as unknown),
    };
    seen.push(entry);
    for (const route of routes) {
      const answer = await route(entry);
      if (answer !== undefined) return answer;
    }
    return problem(404, `no fake for ${entry.method} ${entry.path}`);
  });
  return seen;
}

export const localConfig: ClientConfig = {
  authMode: "dev",
  entra: null,
  calling: "local",
  acsEndpoint: null,
  maxUploadBytes: 1 << 30,
  uploadContentTypes: ["audio/wav"],
  version: "test",
};

/** Renders `element` at `path` (matched against `pattern`), signed in as `userId`. */
export function renderPage(
  element: ReactElement,
  { path, pattern, userId = "alice" }: { path: string; pattern: string; userId?: string },
) {
  const auth: AuthState = {
    config: localConfig,
    user: { id: userId, name: userId },
    signIn: () => Promise.resolve(),
    signOut: () => Promise.resolve(),
  };
  return render(
    <AuthContext.Provider value={auth}>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path={pattern} element={element} />
          {pattern !== "/meetings/:meetingId" && (
            <Route path="/meetings/:meetingId" element={<p>Meeting page</p>} />
          )}
          <Route path="*" element={<p>Elsewhere</p>} />
        </Routes>
      </MemoryRouter>
    </AuthContext.Provider>,
  );
}
