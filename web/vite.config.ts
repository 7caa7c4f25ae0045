/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// `npm run dev` serves the client with hot reload on :5173 and proxies the API (and devhost's upload and
// media routes) to `make run` on :7071, so the browser sees one origin as in production behind devhost.
const devhost = process.env.DEVHOST_URL ?? "http://127.0.0.1:7071";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": devhost,
      "/_devhost": devhost,
    },
  },
  build: {
    // The first page must stay small: the call (ACS UI library) and MSAL load only when needed.
    // The ACS UI library is one ~7.8 MB chunk loaded only by a real ACS call: expected, not a warning.
    chunkSizeWarningLimit: 8192,
    sourcemap: false,
    rolldownOptions: {
      // auth-redirect.html: the Entra redirect URI, MSAL's redirect bridge (src/auth/redirectBridge.ts).
      input: {
        index: fileURLToPath(new URL("index.html", import.meta.url)),
        authRedirect: fileURLToPath(new URL("auth-redirect.html", import.meta.url)),
      },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
    // Generous for the same reason as asyncUtilTimeout in src/test/setup.ts; a hung test still fails.
    testTimeout: 30_000,
  },
});
