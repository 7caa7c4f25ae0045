import { useCallback, useEffect, useState } from "react";

export interface Loaded<T> {
  /** The last answer (kept while a reload runs, so the page does not flash). */
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  /** Replace the data with what a change answered, without asking again. */
  setData: (data: T) => void;
}

interface State<T> {
  attempt: number;
  load: unknown;
  data: T | undefined;
  error: unknown;
}

/**
 * Runs `load` (memoised by the caller: a new function loads again) and keeps its answer or its error.
 * An answer that arrives after the page moved on to another load is dropped.
 */
export function useLoad<T>(load: () => Promise<T>): Loaded<T> {
  const [attempt, setAttempt] = useState(0);
  const [state, setState] = useState<State<T>>({ attempt: -1, load: null, data: undefined, error: null });

  useEffect(() => {
    let current = true;
    load().then(
      (data) => {
        if (current) setState({ attempt, load, data, error: null });
      },
      (error: unknown) => {
        if (current) setState((previous) => ({ attempt, load, data: previous.data, error }));
      },
    );
    return () => {
      current = false;
    };
  }, [load, attempt]);

  const reload = useCallback(() => {
    setAttempt((n) => n + 1);
  }, []);
  const setData = useCallback((data: T) => {
    setState((previous) => ({ ...previous, data, error: null }));
  }, []);

  const settled = state.attempt === attempt && state.load === load;
  return {
    data: state.load === load ? state.data : undefined,
    error: settled ? state.error : null,
    loading: !settled,
    reload,
    setData,
  };
}
