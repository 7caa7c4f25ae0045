// auth-redirect.html, the redirect URI registered for the web client (MSAL Browser v5's redirect bridge):
// Entra sends the browser here after sign-in, and this hands the answer to the app (the page that started
// the sign-in, or the hidden frame of a silent renewal). Its own small entry: no React, no app code.
// It must be served without a Cross-Origin-Opener-Policy header, or the hand-over cannot reach the app.
import { broadcastResponseToMainFrame } from "@azure/msal-browser/redirect-bridge";

broadcastResponseToMainFrame().catch((error: unknown) => {
  document.body.textContent = `Sign-in could not finish: ${error instanceof Error ? error.message : String(error)}`;
});
