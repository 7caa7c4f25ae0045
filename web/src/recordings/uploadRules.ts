// What may be uploaded, checked before any request: the content types and size limit the deployment
// announces in client-config, with DESIGN's list as the fallback. Browsers often give no type (or an
// old alias) for .m4a, .flac or .webm files, so the extension decides then.
import { formatBytes } from "./format";

/** DESIGN "Recording create": used when client-config lists none. */
export const DEFAULT_CONTENT_TYPES: readonly string[] = [
  "audio/wav",
  "audio/x-wav",
  "audio/mpeg",
  "audio/mp4",
  "video/mp4",
  "audio/webm",
  "video/webm",
  "audio/ogg",
  "audio/flac",
];

/** 4 GiB: DESIGN's limit, used when client-config gives none. */
export const DEFAULT_MAX_UPLOAD_BYTES = 4 * 1024 ** 3;

/** Types browsers and operating systems report for the same formats. */
const ALIASES: Record<string, string> = {
  "audio/wave": "audio/wav",
  "audio/vnd.wave": "audio/wav",
  "audio/x-pn-wav": "audio/wav",
  "audio/mp3": "audio/mpeg",
  "audio/x-mp3": "audio/mpeg",
  "audio/x-mpeg": "audio/mpeg",
  "audio/mpeg3": "audio/mpeg",
  "audio/x-m4a": "audio/mp4",
  "audio/m4a": "audio/mp4",
  "audio/aac-mp4": "audio/mp4",
  "audio/x-flac": "audio/flac",
  "application/ogg": "audio/ogg",
  "audio/opus": "audio/ogg",
  "audio/vorbis": "audio/ogg",
};

const EXTENSIONS: Record<string, string> = {
  wav: "audio/wav",
  wave: "audio/wav",
  mp3: "audio/mpeg",
  mpga: "audio/mpeg",
  m4a: "audio/mp4",
  mp4: "video/mp4",
  m4v: "video/mp4",
  webm: "video/webm",
  weba: "audio/webm",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/ogg",
  flac: "audio/flac",
};

const LABELS: Record<string, string> = {
  "audio/wav": "WAV",
  "audio/x-wav": "WAV",
  "audio/mpeg": "MP3",
  "audio/mp4": "M4A",
  "video/mp4": "MP4",
  "audio/webm": "WebM",
  "video/webm": "WebM",
  "audio/ogg": "Ogg",
  "audio/flac": "FLAC",
};

export interface UploadRules {
  contentTypes: readonly string[];
  maxBytes: number;
}

/** The deployment's rules, falling back to DESIGN's where client-config is silent. */
export function uploadRules(config: {
  uploadContentTypes?: readonly string[] | null;
  maxUploadBytes?: number | null;
}): UploadRules {
  const types = config.uploadContentTypes?.filter((t) => t.trim() !== "") ?? [];
  const max = config.maxUploadBytes;
  return {
    contentTypes: types.length > 0 ? types.map((t) => t.toLowerCase()) : DEFAULT_CONTENT_TYPES,
    maxBytes: typeof max === "number" && max > 0 ? max : DEFAULT_MAX_UPLOAD_BYTES,
  };
}

export interface FileFacts {
  name: string;
  type: string;
  size: number;
}

export type Verdict = { ok: true; contentType: string } | { ok: false; message: string };

function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
}

/** The content type to declare for the file, or null when it is none the deployment takes. */
export function contentTypeFor(
  file: Pick<FileFacts, "name" | "type">,
  accepted: readonly string[],
): string | null {
  const given = (file.type.split(";")[0] ?? "").trim().toLowerCase();
  const candidates = [given, ALIASES[given], EXTENSIONS[extensionOf(file.name)]];
  // An audio-only WebM from the extension, when the deployment takes audio/webm but not video/webm.
  if (extensionOf(file.name) === "webm") candidates.push("audio/webm");
  for (const candidate of candidates) {
    if (candidate !== undefined && candidate !== "" && accepted.includes(candidate)) return candidate;
  }
  return null;
}

/** "WAV, MP3, M4A, MP4, WebM, Ogg or FLAC": the accepted formats as people know them. */
export function formatNames(accepted: readonly string[]): string {
  const names = [...new Set(accepted.map((t) => LABELS[t] ?? t))];
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} or ${names[names.length - 1] ?? ""}`;
}

/** What the file input offers: the types and the extensions that map to them. */
export function acceptAttribute(accepted: readonly string[]): string {
  const extensions = Object.entries(EXTENSIONS)
    .filter(([, type]) => accepted.includes(type))
    .map(([ext]) => `.${ext}`);
  return [...accepted, ...extensions].join(",");
}

/** Whether `file` may be uploaded, with the content type to declare, or a message naming file and rule. */
export function checkFile(file: FileFacts, rules: UploadRules): Verdict {
  const contentType = contentTypeFor(file, rules.contentTypes);
  if (contentType === null) {
    return {
      ok: false,
      message: `"${file.name}" is not a recording this app takes: choose an audio or video file (${formatNames(rules.contentTypes)}).`,
    };
  }
  if (file.size > rules.maxBytes) {
    const size = formatBytes(file.size);
    const limit = formatBytes(rules.maxBytes);
    // Just over the limit rounds to it: "is 4 GB: at most 4 GB" would read as a contradiction.
    const is = size === limit ? `is over ${limit}` : `is ${size}`;
    return { ok: false, message: `"${file.name}" ${is}: a recording can be at most ${limit}.` };
  }
  if (file.size === 0) {
    return { ok: false, message: `"${file.name}" is empty: choose the file with the recording in it.` };
  }
  return { ok: true, contentType };
}
