// Who speaks on each channel of an unmixed recording (ACS's unmixed audio: one participant a channel).
// The UI counts channels from 1, the API from 0; channels left to "(nobody)" are not sent.

/** ACS delivers up to five channels; the API accepts as many. */
export const MAX_CHANNELS = 5;

export interface ChannelSpeaker {
  channel: number;
  userId: string;
}

export interface Participant {
  userId: string;
  displayName?: string | null;
  role: string;
}

/** The API's `channels` for the choices of the UI (index i = channel i + 1; null = nobody). */
export function channelsOf(choices: readonly (string | null)[]): ChannelSpeaker[] {
  return choices.flatMap((userId, channel) =>
    userId === null || userId === "" ? [] : [{ channel, userId }],
  );
}

/** A participant as the options name them: "Display Name (id)", or the id alone. */
export function participantLabel(p: Participant): string {
  return p.displayName ? `${p.displayName} (${p.userId})` : p.userId;
}

/** The same person on two channels is a mistake the user should fix before uploading. */
export function duplicateSpeaker(choices: readonly (string | null)[]): string | null {
  const seen = new Set<string>();
  for (const userId of choices) {
    if (userId === null || userId === "") continue;
    if (seen.has(userId)) return userId;
    seen.add(userId);
  }
  return null;
}
