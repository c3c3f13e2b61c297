// Host sign-in: Cognito InitiateAuth (USER_PASSWORD_AUTH) straight from the browser; the ID token
// is the bearer token of host routes and lives only for this tab (sessionStorage).
import { loadConfig } from "./config.js";

const ID_TOKEN_KEY = "speedrun.host.idToken";

export class SignInError extends Error {}

function cognitoEndpoint(config) {
  return config.cognito_endpoint || `https://cognito-idp.${config.region}.amazonaws.com/`;
}

export async function signIn(username, password) {
  const config = await loadConfig();
  let response;
  try {
    response = await fetch(cognitoEndpoint(config), {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
      },
      body: JSON.stringify({
        AuthFlow: "USER_PASSWORD_AUTH",
        ClientId: config.user_pool_client_id,
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    });
  } catch {
    throw new SignInError("The sign-in service could not be reached.");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const kind = String(body.__type || "").split("#").pop();
    if (kind === "NotAuthorizedException" || kind === "UserNotFoundException") {
      throw new SignInError("Wrong user name or password.");
    }
    throw new SignInError(body.message || body.Message || `Sign-in failed (HTTP ${response.status}).`);
  }
  if (body.ChallengeName) {
    // A new password or MFA challenge needs the hosted UI or an admin; not handled in this client.
    throw new SignInError(`This account needs the "${body.ChallengeName}" step first; ask your administrator.`);
  }
  const idToken = body.AuthenticationResult && body.AuthenticationResult.IdToken;
  if (!idToken) throw new SignInError("Sign-in returned no token.");
  sessionStorage.setItem(ID_TOKEN_KEY, idToken);
  return idToken;
}

function tokenClaims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "=")));
  } catch {
    return {};
  }
}

/** The stored ID token when it is still valid for at least a minute, else null. */
export function currentIdToken() {
  const token = sessionStorage.getItem(ID_TOKEN_KEY);
  if (!token) return null;
  const { exp } = tokenClaims(token);
  if (typeof exp === "number" && exp * 1000 < Date.now() + 60_000) {
    sessionStorage.removeItem(ID_TOKEN_KEY);
    return null;
  }
  return token;
}

export function currentUserName() {
  const token = currentIdToken();
  if (!token) return "";
  const claims = tokenClaims(token);
  return claims["cognito:username"] || claims.email || claims.username || "";
}

export function signOut() {
  sessionStorage.removeItem(ID_TOKEN_KEY);
}
