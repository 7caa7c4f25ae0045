// The player: <audio> or <video> by content type, fed a short-lived signed URL (GET .../media) that is
// renewed before it expires, or at once when the element fails (an expired URL fails the next Range
// request). Swapping the URL keeps the position and whether it was playing.
import {
  Button,
  makeStyles,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
} from "@fluentui/react-components";
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from "react";

import { errorMessage } from "../api/errors";
import { getMedia, type Media } from "./recordingApi";

/** Renew this long before the URL expires: a seek needs a valid URL for its next Range request. */
const RENEW_BEFORE_MS = 60_000;
/** An element error within this long after a renewal is not the URL's fault: the file is unplayable. */
const RENEW_GRACE_MS = 15_000;

/** Milliseconds until the URL should be renewed: a minute before expiry, half-way for short ones. */
export function renewDelay(expiresOn: string, now: number): number {
  const left = Date.parse(expiresOn) - now;
  if (!Number.isFinite(left)) return RENEW_BEFORE_MS;
  return Math.max(5_000, left > 2 * RENEW_BEFORE_MS ? left - RENEW_BEFORE_MS : left / 2);
}

export function useMediaUrl(meetingId: string, recordingId: string, enabled: boolean) {
  const [media, setMedia] = useState<Media | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);
  const lastRenewal = useRef(0);

  useEffect(() => {
    if (!enabled) return;
    let live = true;
    lastRenewal.current = Date.now();
    getMedia(meetingId, recordingId).then(
      (answer) => {
        if (!live) return;
        setMedia(answer);
        setError(null);
      },
      (failure: unknown) => {
        if (live) setError(failure);
      },
    );
    return () => {
      live = false;
    };
  }, [meetingId, recordingId, enabled, generation]);

  useEffect(() => {
    if (media === null) return;
    const timer = setTimeout(
      () => {
        setGeneration((n) => n + 1);
      },
      renewDelay(media.expiresOn, Date.now()),
    );
    return () => {
      clearTimeout(timer);
    };
  }, [media]);

  /** A new URL now; false when one was just had (then the element's failure is the file's, not the URL's). */
  const renew = useCallback((force = false): boolean => {
    if (!force && Date.now() - lastRenewal.current < RENEW_GRACE_MS) return false;
    setGeneration((n) => n + 1);
    return true;
  }, []);

  return { media, error, renew };
}

const useStyles = makeStyles({
  video: { width: "100%", maxHeight: "60vh", backgroundColor: "black", borderRadius: "4px" },
  audio: { width: "100%" },
});

interface PlayerProps {
  meetingId: string;
  recordingId: string;
  contentType: string;
  mediaRef: RefObject<HTMLMediaElement | null>;
  onTime: (seconds: number) => void;
  onPlayingChange: (playing: boolean) => void;
  /** The element knows its duration (loadedmetadata): it can seek now. */
  onReady?: (element: HTMLMediaElement) => void;
}

export function RecordingPlayer({
  meetingId,
  recordingId,
  contentType,
  mediaRef,
  onTime,
  onPlayingChange,
  onReady,
}: PlayerProps) {
  const styles = useStyles();
  const { media, error, renew } = useMediaUrl(meetingId, recordingId, true);
  const [broken, setBroken] = useState(false);
  const url = media?.url ?? null;

  useLayoutEffect(() => {
    const element = mediaRef.current;
    if (element === null || url === null || element.getAttribute("src") === url) return;
    const resumeAt = element.currentTime;
    const playing = !element.paused && !element.ended;
    element.src = url;
    if (resumeAt > 0) {
      element.addEventListener(
        "loadedmetadata",
        () => {
          element.currentTime = resumeAt;
          if (playing) element.play().catch(() => undefined);
        },
        { once: true },
      );
    }
  }, [url, mediaRef]);

  const onError = () => {
    if (!renew()) setBroken(true);
  };
  const report = (event: { currentTarget: HTMLMediaElement }) => {
    onTime(event.currentTarget.currentTime);
  };
  const common = {
    controls: true,
    preload: "metadata" as const,
    "aria-label": "Recording player",
    onError,
    onTimeUpdate: report,
    onSeeked: report,
    onLoadedMetadata: (event: { currentTarget: HTMLMediaElement }) => {
      onReady?.(event.currentTarget);
    },
    onCanPlay: () => {
      setBroken(false);
    },
    onPlay: () => {
      onPlayingChange(true);
    },
    onPause: () => {
      onPlayingChange(false);
    },
    onEnded: () => {
      onPlayingChange(false);
    },
  };

  return (
    <div>
      {contentType.startsWith("video/") ? (
        <video ref={mediaRef as RefObject<HTMLVideoElement>} className={styles.video} {...common} />
      ) : (
        <audio ref={mediaRef as RefObject<HTMLAudioElement>} className={styles.audio} {...common} />
      )}
      {(error !== null || broken) && (
        <MessageBar intent="error" role="alert">
          <MessageBarBody>
            {error !== null
              ? `The recording cannot be played: ${errorMessage(error)}`
              : "The recording cannot be played in this browser: its format may not be supported here."}
          </MessageBarBody>
          <MessageBarActions>
            <Button
              onClick={() => {
                setBroken(false);
                renew(true);
              }}
            >
              Retry
            </Button>
          </MessageBarActions>
        </MessageBar>
      )}
    </div>
  );
}
