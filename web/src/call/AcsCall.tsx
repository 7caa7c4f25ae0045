// The call itself, with the ACS UI library's CallComposite on the meeting's room. Loaded lazily from the
// call page, and only when the deployment has a real ACS resource (client-config `calling: "acs"`), so
// the library lands in its own chunk that no other page downloads.
import { AzureCommunicationTokenCredential } from "@azure/communication-common";
import { CallComposite, useAzureCommunicationCallAdapter } from "@azure/communication-react";
import { Spinner } from "@fluentui/react-components";
import { useEffect, useMemo, useState } from "react";

import { ErrorMessage } from "../components/ErrorMessage";

import type { JoinInfo } from "../meetings/api";

export interface AcsCallProps {
  /** The answer of the join the page made: identity, room, first token. */
  joined: JoinInfo;
  displayName: string;
  /** The credential's tokenRefresher: joins the meeting again (createTokenRefresher). */
  refresher: () => Promise<{ token: string; expiresOnTimestamp: number }>;
}

export default function AcsCall({ joined, displayName, refresher }: AcsCallProps) {
  const [credential, setCredential] = useState<AzureCommunicationTokenCredential | null>(null);

  // Made in an effect so that leaving the page disposes it (and its proactive refresh timer).
  useEffect(() => {
    const made = new AzureCommunicationTokenCredential({
      tokenRefresher: refresher,
      token: joined.token,
      refreshProactively: true,
    });
    let live = true;
    void Promise.resolve().then(() => {
      if (live) setCredential(made);
    });
    return () => {
      live = false;
      made.dispose();
    };
  }, [joined.token, refresher]);

  const args = useMemo(
    () =>
      credential === null
        ? {}
        : {
            userId: { communicationUserId: joined.acsUserId },
            displayName,
            credential,
            locator: { roomId: joined.roomId },
          },
    [credential, joined.acsUserId, joined.roomId, displayName],
  );
  const adapter = useAzureCommunicationCallAdapter(args);

  // The hook creates the adapter in a promise of its own and does not report its failure (a token ACS
  // refuses, a network that blocks ACS): while connecting, an unhandled rejection is that failure.
  const [failure, setFailure] = useState<unknown>(null);
  useEffect(() => {
    if (adapter !== undefined) return;
    const onRejection = (event: PromiseRejectionEvent) => {
      setFailure(event.reason);
    };
    window.addEventListener("unhandledrejection", onRejection);
    return () => {
      window.removeEventListener("unhandledrejection", onRejection);
    };
  }, [adapter]);

  if (!callableOrigin(window.location)) {
    return (
      <ErrorMessage
        error={
          new Error(
            "The ACS calling library works only on https (or http://localhost): open this page at an https address.",
          )
        }
      />
    );
  }
  if (failure !== null && adapter === undefined) {
    return (
      <ErrorMessage
        error={
          new Error(
            `The call could not start: ${failure instanceof Error ? failure.message : JSON.stringify(failure)}`,
          )
        }
        onRetry={() => {
          window.location.reload();
        }}
      />
    );
  }
  if (adapter === undefined) return <Spinner label="Connecting to the call" />;
  return (
    <div style={{ height: "70vh", minHeight: "480px", position: "relative" }}>
      <CallComposite adapter={adapter} />
    </div>
  );
}

/** Where ACS's calling SDK agrees to run: https, file:, or localhost (its own check, not isSecureContext). */
function callableOrigin(location: Location): boolean {
  return location.protocol === "https:" || location.protocol === "file:" || location.hostname === "localhost";
}
