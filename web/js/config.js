// Where everything is: read once from /config.json (served next to the web client), so the same
// files work unchanged from S3/CloudFront and from the local stack.
import { serverClock } from "./clock.js";

let configPromise = null;

/** The client configuration: {api_url, ws_url, region, user_pool_id, user_pool_client_id, cognito_endpoint}. */
export function loadConfig() {
  if (!configPromise) {
    configPromise = (async () => {
      const response = await fetch(new URL("config.json", document.baseURI), { cache: "no-store" });
      if (!response.ok) {
        throw new Error(`config.json could not be loaded (HTTP ${response.status})`);
      }
      serverClock.observeHttpDate(response.headers.get("Date"));
      return response.json();
    })();
  }
  return configPromise;
}

/**
 * True when the site answers over HTTP. A socket that keeps failing while this holds means the
 * handshake refuses our token (kicked, or the run is over), not that the network is down.
 */
export async function serverReachable() {
  try {
    const response = await fetch(new URL("config.json", document.baseURI), { cache: "no-store" });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * The absolute URL of an API path such as "/api/question-sets".
 * `api_url` may be the site origin or end in "/api"; both spell the same API.
 */
export function apiUrl(config, path) {
  const base = (config.api_url || window.location.origin).replace(/\/+$/, "").replace(/\/api$/, "");
  return new URL(base + path, window.location.href).toString();
}

/** The WebSocket URL for a run-scoped token: `<ws_url>?token=<token>` (ws_url may be relative, e.g. "/ws"). */
export function socketUrl(wsUrl, token) {
  const url = new URL(wsUrl, window.location.href);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  url.searchParams.set("token", token);
  return url.toString();
}
