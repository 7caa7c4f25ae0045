// Who speaks each line: the transcript's own name for the speaker, else the meeting's name for that user,
// else the user id, else a friendly label by order of appearance ("Speaker A", "Speaker B", ...).
import type { Speaker } from "./recordingApi";

function friendlyLabel(index: number): string {
  return index < 26 ? `Speaker ${String.fromCharCode(65 + index)}` : `Speaker ${index + 1}`;
}

/**
 * Speaker id -> name shown. `knownNames` maps user ids to the meeting's display names, for speakers the
 * transcript knew only by id (named after the transcript was written).
 */
export function speakerNames(
  speakers: readonly Speaker[],
  knownNames: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const names = new Map<string, string>();
  let unnamed = 0;
  for (const speaker of speakers) {
    const fromTranscript = speaker.displayName?.trim();
    const fromMeeting = speaker.userId != null ? knownNames.get(speaker.userId) : undefined;
    let name = fromTranscript || fromMeeting || speaker.userId?.trim();
    if (!name) {
      name = friendlyLabel(unnamed);
      unnamed += 1;
    }
    names.set(speaker.id, name);
  }
  return names;
}
