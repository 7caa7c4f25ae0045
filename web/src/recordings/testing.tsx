// Test helpers for the recording components: a signed-in user with a client-config, a router, Fluent.
import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

import type { ClientConfig } from "../api/config";
import { AuthContext, type AuthState } from "../auth/AuthContext";
import type { Recording } from "./recordingApi";

// jsdom lacks what Fluent's MessageBar (ResizeObserver) and tabster (NodeFilter) reach for.
class NoResizeObserver {
  observe(): void {
    // Nothing resizes in jsdom.
  }
  unobserve(): void {
    // Nothing to stop.
  }
  disconnect(): void {
    // Nothing to stop.
  }
}
if (!("ResizeObserver" in globalThis)) Object.assign(globalThis, { ResizeObserver: NoResizeObserver });
if (!("NodeFilter" in globalThis)) Object.assign(globalThis, { NodeFilter: window.NodeFilter });

// Vitest runs without globals here, so Testing Library cannot register its own cleanup.
afterEach(cleanup);

export const testConfig: ClientConfig = {
  authMode: "dev",
  entra: null,
  calling: "local",
  acsEndpoint: null,
  maxUploadBytes: 4 * 1024 ** 3,
  uploadContentTypes: [],
  version: "test",
};

export function Providers({
  children,
  userId = "alice",
  path = "/",
  route = "/",
}: {
  children: ReactNode;
  userId?: string;
  path?: string;
  route?: string;
}) {
  const auth: AuthState = {
    config: testConfig,
    user: { id: userId, name: userId },
    signIn: () => Promise.resolve(),
    signOut: () => Promise.resolve(),
  };
  return (
    <FluentProvider theme={webLightTheme}>
      <AuthContext.Provider value={auth}>
        <MemoryRouter initialEntries={[path]}>
          <Routes>
            <Route path={route} element={children} />
          </Routes>
        </MemoryRouter>
      </AuthContext.Provider>
    </FluentProvider>
  );
}

export function recording(fields: Partial<Recording> = {}): Recording {
  return {
    id: "r1",
    meetingId: "m1",
    createdBy: "alice",
    fileName: "standup.wav",
    contentType: "audio/wav",
    sizeBytes: 1000,
    channels: [],
    language: null,
    status: "completed",
    stage: "summary",
    progress: 1,
    error: null,
    durationSeconds: 12,
    artifacts: [],
    usage: [],
    call: null,
    transcriptWrittenAt: null,
    sourceDeletedAt: null,
    live: null,
    createdAt: "2025-01-01T10:00:00Z",
    updatedAt: "2025-01-01T10:00:00Z",
    ...fields,
  };
}
