// GET /api/client-config: how this deployment signs users in and whether calls are real ACS.
import { api } from "./client";
import { call } from "./errors";
import type { components } from "./schema";

export type ClientConfig = components["schemas"]["ClientConfig"];
export type EntraConfig = components["schemas"]["EntraClientConfig"];

export async function loadClientConfig(): Promise<ClientConfig> {
  const { data } = await call(api.GET("/client-config"));
  return data;
}
