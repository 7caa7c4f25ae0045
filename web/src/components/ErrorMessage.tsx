import {
  Button,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
} from "@fluentui/react-components";

import { ApiError, errorMessage } from "../api/errors";

/** An error where the user is: what happened, and a retry when the connection was lost. */
export function ErrorMessage({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const lost = error instanceof ApiError && error.network;
  return (
    <MessageBar intent="error" role="alert">
      <MessageBarBody>
        {lost && <MessageBarTitle>Connection lost</MessageBarTitle>}
        {errorMessage(error)}
      </MessageBarBody>
      {onRetry !== undefined && (
        <MessageBarActions>
          <Button onClick={onRetry}>Retry</Button>
        </MessageBarActions>
      )}
    </MessageBar>
  );
}
