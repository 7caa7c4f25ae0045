// GET /api/client-config: how this deployment signs users in and whether calls are real ACS.
// TODO(web helper): once the generated schema has ClientConfig (branch api1), use components["schemas"].
import { apiBaseUrl } from "./client";
import { ApiError } from "./errors";

export interface EntraConfig {
  clientId: string | null;
  authority: string | null;
  scopes: string[];
}

export interface ClientConfig {
  authMode: "dev" | "entra" | "easyauth";
  entra: EntraConfig | null;
  calling: "acs" | "local";
  acsEndpoint: string | null;
  maxUploadBytes: number;
  uploadContentTypes: string[];
  version: string;
}

export async function loadClientConfig(): Promise<ClientConfig> {
  let response: Response;
  try {
    response = await fetch(`${apiBaseUrl}/client-config`);
  } catch {
    throw new ApiError(0, null, true);
  }
  if (!response.ok) throw new ApiError(response.status, null);
  return (await response.json()) as ClientConfig;
}
