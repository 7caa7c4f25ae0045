// The header's word on the live channel: "Live" while events arrive, otherwise what the pages do instead.
import { makeStyles, mergeClasses, Text, tokens } from "@fluentui/react-components";

import type { LiveStatus } from "./hub";
import { useLiveStatus } from "./LiveProvider";

export const LIVE_TEXT: Record<LiveStatus, string> = {
  connected: "Live",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  offline: "Offline — updates every few seconds",
};

const useStyles = makeStyles({
  status: {
    display: "inline-flex",
    alignItems: "center",
    gap: tokens.spacingHorizontalXS,
    color: tokens.colorNeutralForegroundOnBrand,
    fontSize: tokens.fontSizeBase200,
  },
  dot: {
    width: "8px",
    height: "8px",
    borderRadius: tokens.borderRadiusCircular,
    backgroundColor: tokens.colorNeutralBackground5,
    flexShrink: 0,
  },
  live: { backgroundColor: tokens.colorPaletteGreenBackground3 },
  waiting: { backgroundColor: tokens.colorPaletteYellowBackground3 },
});

export function LiveIndicator() {
  const styles = useStyles();
  const status = useLiveStatus();
  return (
    <Text role="status" className={styles.status} data-live-status={status}>
      <span
        aria-hidden="true"
        className={mergeClasses(
          styles.dot,
          status === "connected" && styles.live,
          (status === "connecting" || status === "reconnecting") && styles.waiting,
        )}
      />
      {LIVE_TEXT[status]}
    </Text>
  );
}
