import { Button, Spinner } from "@fluentui/react-components";

import { ErrorMessage } from "./ErrorMessage";

/** The end of a paged list: why the next page failed (with a retry), and "Load more" while there is one. */
export function LoadMore({
  hasMore,
  loading,
  error,
  onMore,
}: {
  hasMore: boolean;
  loading: boolean;
  error: unknown;
  onMore: () => void;
}) {
  return (
    <>
      {error !== null && <ErrorMessage error={error} onRetry={onMore} />}
      {hasMore && (
        <Button onClick={onMore} disabled={loading} icon={loading ? <Spinner size="tiny" /> : undefined}>
          Load more
        </Button>
      )}
    </>
  );
}
