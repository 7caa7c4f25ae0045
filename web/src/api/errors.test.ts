import { describe, expect, it } from "vitest";

import { ApiError, call } from "./errors";

function answer(
  status: number,
  body: unknown,
): Promise<{ data?: unknown; error?: unknown; response: Response }> {
  const response = new Response(JSON.stringify(body), { status, headers: { ETag: '"v2"' } });
  return Promise.resolve(status < 400 ? { data: body, response } : { error: body, response });
}

describe("call", () => {
  it("returns the data of a success", async () => {
    const { data } = await call(answer(200, { id: "m1" }));
    expect(data).toEqual({ id: "m1" });
  });

  it("turns a problem into an ApiError with its detail and field errors", async () => {
    const problem = {
      status: 400,
      title: "Bad Request",
      detail: "title is too long",
      errors: [{ field: "title", message: "at most 200 characters" }],
    };
    const error = await call(answer(400, problem)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(400);
    expect(apiError.message).toBe("Title is too long");
    expect(apiError.fieldMessage("title")).toBe("at most 200 characters");
    expect(apiError.etag).toBe('"v2"');
  });

  it("reports a request that never got an answer as a lost connection", async () => {
    const error = await call(Promise.reject(new TypeError("Failed to fetch"))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).network).toBe(true);
    expect((error as ApiError).message).toMatch(/Cannot reach the server/);
  });
});
