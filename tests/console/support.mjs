// The console test's world: a livenotify binary on a random loopback port over a fresh data
// directory, an account with a key and two domains, imported records, a signed API client
// (the console's own signer, checked by the server), and Debian's Chromium.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

import { signRequest } from "../../console/sign.js";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const binary = process.env.LIVENOTIFY_BIN || join(repoRoot, "target/debug/livenotify");
export const shots = join(repoRoot, "target/console-test");

/** Flags that keep Chromium from talking to anything but the page under test. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Runs a livenotify command on the data directory; its stdout. */
function run(dataDir, ...args) {
  return execFileSync(binary, ["--data", dataDir, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LIVENOTIFY_LOG: "warn" },
  });
}

function admin(dataDir, ...args) {
  return JSON.parse(run(dataDir, ...args));
}

/** `yyyy-MM-ddTHH:mm:ssZ`, `secondsAgo` before now. */
export function utc(secondsAgo) {
  return new Date(Date.now() - secondsAgo * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Starts livenotify with one account, its key, two domains and `records` imported. */
export async function startLivenotify(domains, records) {
  const dataDir = mkdtempSync(join(tmpdir(), "livenotify-console-"));
  const { AccountId } = admin(dataDir, "admin", "account", "create");
  const key = admin(dataDir, "admin", "key", "create", "--account", AccountId);
  for (const domain of domains) run(dataDir, "admin", "domain", "add", domain, "--account", AccountId);
  const file = join(dataDir, "records.jsonl");
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  run(dataDir, "records", "import", file);

  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const child = spawn(binary, ["--data", dataDir, "serve", "--listen", host], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, LIVENOTIFY_LOG: "warn" },
  });
  let log = "";
  child.stderr.on("data", (chunk) => (log += chunk));
  await waitReady(`http://${host}/readyz`, () => log);
  return {
    host,
    url: `http://${host}`,
    key: { accessKeyId: key.AccessKeyId, secret: key.AccessKeySecret },
    call: (action, params) => callApi(host, key, action, params),
    stop() {
      child.kill("SIGTERM");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitReady(url, log) {
  for (let i = 0; i < 200; i += 1) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`livenotify did not become ready: ${log()}`);
}

/** A signed API call from the test, checked by the server like any other. */
export async function callApi(host, key, action, params = {}) {
  const { query, headers } = await signRequest({
    host,
    action,
    version: "2016-11-01",
    params,
    accessKeyId: key.AccessKeyId,
    secret: key.AccessKeySecret,
  });
  const response = await fetch(`http://${host}/?${query}`, { method: "POST", headers });
  const body = await response.json();
  if (!response.ok) throw new Error(`${action}: ${body.Code} ${body.Message}`);
  return body;
}

export function screenshotDir() {
  mkdirSync(shots, { recursive: true });
  return shots;
}
