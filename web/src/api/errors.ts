// Problem+json (RFC 9457) errors as the app answers them, and lost connections, as one error type the
// pages can show where the user is: a message, and the field errors beside their fields.

export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string | null;
  errors?: FieldError[] | null;
  [key: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;
  readonly fieldErrors: FieldError[];
  /** True when the request never got an answer (offline, server down): the page offers a retry. */
  readonly network: boolean;
  readonly etag: string | null;

  constructor(status: number, problem: Problem | null, network = false, etag: string | null = null) {
    super(ApiError.describe(status, problem, network));
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.network = network;
    this.etag = etag;
    this.fieldErrors = Array.isArray(problem?.errors) ? problem.errors : [];
  }

  private static describe(status: number, problem: Problem | null, network: boolean): string {
    if (network) return "Cannot reach the server. Check your connection and try again.";
    if (problem?.detail) return capitalise(problem.detail);
    if (problem?.title) return problem.title;
    return `The server answered ${status}.`;
  }

  /** The message for one form field, matched on its name (the API reports `body.title` or `title`). */
  fieldMessage(field: string): string | undefined {
    return this.fieldErrors.find((e) => e.field === field || e.field.endsWith(`.${field}`))?.message;
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null;
}

/**
 * The data of an openapi-fetch result, or an ApiError for its problem. Network failures (fetch throws)
 * become ApiError with `network` set, so every caller handles one kind of error.
 */
export async function call<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<{ data: T; response: Response }> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await request;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(0, null, true);
  }
  const { data, error, response } = result;
  if (!response.ok) {
    throw new ApiError(response.status, isProblem(error) ? error : null, false, response.headers.get("ETag"));
  }
  return { data: data as T, response };
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
