// For tests: openapi-fetch keeps the `fetch` and `Request` it finds when the API client is created, so
// a test installs its fake before anything imports the client, in a hoisted block:
//   const fetchMock = await vi.hoisted(async () => (await import("../lib/fakeFetch")).installFakeFetch());
// Node's Request refuses the relative URLs a browser resolves against the page ("/api/..."): the
// installed Request resolves them against http://localhost, as the page's origin would be.
import { vi, type Mock } from "vitest";

export function installFakeFetch(): Mock {
  const fetchMock = vi.fn();
  globalThis.fetch = fetchMock;
  const NodeRequest = globalThis.Request;
  globalThis.Request = class extends NodeRequest {
    constructor(input: RequestInfo | URL, init?: RequestInit) {
      super(typeof input === "string" && input.startsWith("/") ? `http://localhost${input}` : input, init);
    }
  };
  return fetchMock;
}
