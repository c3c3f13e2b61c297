// HTTP API calls: JSON in and out, errors normalised from `{"error": {code, message, details}}`.
import { apiUrl, loadConfig } from "./config.js";
import { serverClock } from "./clock.js";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = (body && body.error) || {};
  return new ApiError(
    response.status,
    error.code || `http_${response.status}`,
    error.message || response.statusText || `HTTP ${response.status}`,
    error.details,
  );
}

/**
 * Calls an API path; returns the Response when it is 2xx, throws ApiError otherwise.
 * `json` is sent as a JSON body, `form` as multipart; `token` as `Authorization: Bearer`.
 */
export async function apiFetch(path, { method = "GET", token, json, form, accept } = {}) {
  const config = await loadConfig();
  const headers = {};
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // the browser sets the multipart boundary itself
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  if (accept) headers.Accept = accept;
  let response;
  try {
    response = await fetch(apiUrl(config, path), { method, headers, body });
  } catch {
    throw new ApiError(0, "network", "The server could not be reached. Check your connection and try again.");
  }
  serverClock.observeHttpDate(response.headers.get("Date"));
  if (!response.ok) throw await errorFrom(response);
  return response;
}

export async function apiJson(path, options) {
  const response = await apiFetch(path, options);
  return response.status === 204 ? null : response.json();
}
