// The RPC API, called exactly as the SDKs call it: POST / with the parameters in the query,
// signed with V3. The AccessKey pair lives only in this tab's sessionStorage.

import { signRequest } from "./sign.js";

const VERSION = "2016-11-01";
const KEY_ID = "livenotify.accessKeyId";
const SECRET = "livenotify.accessKeySecret";

/** What went wrong, in words, with the API's code. */
export class ApiError extends Error {
  constructor(code, message, requestId, status) {
    super(message);
    this.code = code;
    this.requestId = requestId;
    this.status = status;
  }
}

const EXPLAINED = {
  SignatureDoesNotMatch: "The AccessKey secret is wrong.",
  "InvalidAccessKeyId.NotFound": "There is no AccessKey with this ID.",
  "InvalidAccessKeyId.Inactive": "This AccessKey is disabled.",
  IncompleteSignature: "The request was not signed completely.",
  "InvalidTimeStamp.Expired":
    "This computer's clock is more than 15 minutes away from the server's.",
  SignatureNonceUsed: "The request was sent twice; try again.",
  "InvalidSecurityToken.NotSupported": "Sign in with an AccessKey pair, not an STS token.",
  "Forbidden.RAM": "Your RAM user's policies do not allow this.",
  "Throttling.User": "Too many requests at once; wait a moment and try again.",
  "InvalidDomain.NotFound": "This account has no such domain.",
  MissingDomainName: "Enter a domain name.",
  MissingNotifyUrl: "Enter the callback URL (NotifyUrl).",
  "InvalidStartTime.Malformed": "The start time is not a valid date and time.",
  "InvalidEndTime.Malformed": "The end time is not a valid date and time.",
  "InvalidEndTime.Mismatch": "The end time must be after the start time.",
  "Duration.Exceed": "The start time is more than 7 days ago; records are kept for 7 days.",
  "InvalidAction.NotFound": "This server does not know the action; is it an older livenotify?",
  InternalError: "The server failed. Try again later; the operator can find the cause in its log.",
  ServiceUnavailable: "The server is busy; try again in a moment.",
  NetworkError: "Cannot reach livenotify. Is it running?",
};

/** A sentence a person understands, followed by the code: "… (SignatureDoesNotMatch)". */
export function explain(error) {
  if (!(error instanceof ApiError)) {
    return String(error && error.message ? error.message : error);
  }
  let text = EXPLAINED[error.code];
  if (!text && error.code === "InvalidParam") {
    text = error.message || "A value is not valid.";
  }
  return `${text || error.message || "The request failed."} (${error.code})`;
}

export function savedCredentials() {
  const accessKeyId = sessionStorage.getItem(KEY_ID);
  const secret = sessionStorage.getItem(SECRET);
  return accessKeyId && secret ? { accessKeyId, secret } : null;
}

export function saveCredentials({ accessKeyId, secret }) {
  sessionStorage.setItem(KEY_ID, accessKeyId);
  sessionStorage.setItem(SECRET, secret);
}

export function forgetCredentials() {
  sessionStorage.removeItem(KEY_ID);
  sessionStorage.removeItem(SECRET);
}

/** Calls `action` with `params` (empty values left out); resolves to the JSON body. */
export async function call(credentials, action, params = {}) {
  const kept = Object.fromEntries(
    Object.entries(params).filter(([, value]) => value !== undefined && value !== ""),
  );
  const { query, headers } = await signRequest({
    host: location.host,
    action,
    version: VERSION,
    params: kept,
    accessKeyId: credentials.accessKeyId,
    secret: credentials.secret,
  });
  let response;
  try {
    response = await fetch(query ? `/?${query}` : "/", {
      method: "POST",
      headers,
      cache: "no-store",
      credentials: "omit",
    });
  } catch (cause) {
    throw new ApiError("NetworkError", String(cause), "", 0);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError("InternalError", `HTTP ${response.status} without JSON`, "", response.status);
  }
  if (!response.ok) {
    throw new ApiError(body.Code || `HTTP${response.status}`, body.Message, body.RequestId, response.status);
  }
  return body;
}
