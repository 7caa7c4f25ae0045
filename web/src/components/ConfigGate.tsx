import { useEffect, useState, type ReactNode } from "react";

import { loadClientConfig, type ClientConfig } from "../api/config";
import { AuthProvider } from "../auth/AuthProvider";
import { ErrorMessage } from "./ErrorMessage";
import { Loading } from "./Loading";

/** Loads the deployment's client config, then provides auth; a clear message and a retry if it cannot. */
export function ConfigGate({ children }: { children: ReactNode }) {
  const [config, setConfig] = useState<ClientConfig | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    loadClientConfig().then(setConfig, setError);
  }, [attempt]);

  if (error !== null) {
    const retry = () => {
      setError(null);
      setAttempt((n) => n + 1);
    };
    return (
      <main style={{ padding: "2rem" }}>
        <ErrorMessage error={error} onRetry={retry} />
      </main>
    );
  }
  if (config === null) return <Loading label="Starting" />;
  return <AuthProvider config={config}>{children}</AuthProvider>;
}
