// Signature V3 (ACS3-HMAC-SHA256) in the browser, with Web Crypto: the same algorithm the
// official SDKs use, so the console calls the same RPC API as they do.
//
//   CanonicalRequest = METHOD \n / \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n
//                      hex(SHA-256(body))
//   Signature        = hex(HMAC-SHA256(secret, "ACS3-HMAC-SHA256\n" + hex(SHA-256(request))))

const ALGORITHM = "ACS3-HMAC-SHA256";
const encoder = new TextEncoder();
const UNRESERVED = /^[A-Za-z0-9\-_.~]$/;

/** RFC 3986 percent-encoding of the UTF-8 bytes: A-Z a-z 0-9 - _ . ~ stay, the rest %XX. */
export function percentEncode(text) {
  let out = "";
  for (const byte of encoder.encode(String(text))) {
    const char = String.fromCharCode(byte);
    out += UNRESERVED.test(char)
      ? char
      : "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** `k=v&…` with keys and values percent-encoded, sorted by key then value. `params` is an
 * object or a list of [key, value] pairs. */
export function canonicalQuery(params) {
  return (Array.isArray(params) ? params : Object.entries(params))
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => [percentEncode(key), percentEncode(value)])
    .sort(([k1, v1], [k2, v2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function subtle() {
  if (!globalThis.crypto || !globalThis.crypto.subtle) {
    throw new Error(
      "This browser offers no Web Crypto here: open the console over https, or on " +
        "localhost or 127.0.0.1.",
    );
  }
  return globalThis.crypto.subtle;
}

export async function sha256Hex(text) {
  return hex(await subtle().digest("SHA-256", encoder.encode(text)));
}

export async function hmacSha256Hex(secret, text) {
  const key = await subtle().importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return hex(await subtle().sign("HMAC", key, encoder.encode(text)));
}

/** `yyyy-MM-ddTHH:mm:ssZ` in UTC, as x-acs-date wants it. */
export function acsDate(date = new Date()) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function nonce() {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return hex(bytes.buffer);
}

/**
 * The V3 signature of a request: `headers` are the signed headers (any case), `params` the
 * query parameters, decoded. Returns the SignedHeaders list and the hex signature.
 */
export async function signature({ method = "POST", path = "/", params, headers, bodyHash, secret }) {
  const lower = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value).trim()]),
  );
  const names = Object.keys(lower).sort();
  const canonicalHeaders = names.map((name) => `${name}:${lower[name]}\n`).join("");
  const signedHeaders = names.join(";");
  const request = [method, path, canonicalQuery(params), canonicalHeaders, signedHeaders, bodyHash];
  const stringToSign = `${ALGORITHM}\n${await sha256Hex(request.join("\n"))}`;
  return { signedHeaders, signature: await hmacSha256Hex(secret, stringToSign) };
}

/**
 * Signs a POST / with `params` in the query and an empty body. `host` is what the browser
 * will send as Host (location.host). Returns the query string and the headers to send;
 * `host` is signed but not returned, since browsers set it themselves.
 */
export async function signRequest({ host, action, version, params, accessKeyId, secret }) {
  const bodyHash = await sha256Hex("");
  const signed = {
    host,
    "x-acs-action": action,
    "x-acs-content-sha256": bodyHash,
    "x-acs-date": acsDate(),
    "x-acs-signature-nonce": nonce(),
    "x-acs-version": version,
  };
  const { signedHeaders, signature: hex } = await signature({ params, headers: signed, bodyHash, secret });
  const headers = { ...signed };
  delete headers.host;
  headers.authorization = `${ALGORITHM} Credential=${accessKeyId},SignedHeaders=${signedHeaders},Signature=${hex}`;
  headers.accept = "application/json";
  return { query: canonicalQuery(params), headers };
}
