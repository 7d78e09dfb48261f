// The web console in a real browser (Debian's Chromium, driven by playwright-core): sign-in
// with a wrong secret and a right one, editing a callback configuration, filtering records,
// a record's detail view and the chart, each checked against the API.
//
// Run: node --test tests/console/console.test.mjs (after cargo build; LIVENOTIFY_BIN may
// name the binary).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { chromium } from "playwright-core";

import { CHROMIUM_ARGS, screenshotDir, startLivenotify, utc } from "./support.mjs";

const DOMAIN = "push.example1.com";
const OTHER = "push.example2.com";

function record(n, overrides) {
  return {
    NotifyType: n % 2 ? "publish_done" : "publish",
    Description: "success",
    StreamName: `cam${n % 3}`,
    NotifyTime: utc(60 * n + 30),
    DomainName: DOMAIN,
    NotifyContent: JSON.stringify({ action: "publish", id: `cam${n % 3}`, appname: "live", n }),
    NotifyUrl: "http://127.0.0.1:9/callbacks",
    NotifyResult: "success",
    AppName: n % 4 === 0 ? "studio" : "live",
    NotifyResponse: '{"code":0}',
    NotifyHeader: `Host: 127.0.0.1:9\nUser-Agent: livenotify/test\nALI-LIVE-TIMESTAMP: ${1700000000 + n}`,
    EventId: `event-${n}`,
    Attempt: 1,
    HttpStatus: 200,
    LatencyMs: 10 + n,
    ...overrides,
  };
}

const FAILED = record(7, {
  NotifyResult: "failed",
  Description: "HTTP 503",
  NotifyResponse: "upstream overloaded",
  HttpStatus: 503,
  LatencyMs: 4321,
  Attempt: 3,
  AppName: "live",
  StreamName: "cam-failed",
});
const RECORDS = [...Array.from({ length: 12 }, (_, n) => record(n)), FAILED];

let service;
let browser;
let page;
let profile;

before(async () => {
  service = await startLivenotify([DOMAIN, OTHER], RECORDS);
  profile = mkdtempSync(join(tmpdir(), "livenotify-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 1400 },
  });
  page = browser.pages()[0] || (await browser.newPage());
  // Nothing may leave for another host: fail any request that is not to livenotify.
  await page.route("**/*", (route) =>
    new URL(route.request().url()).host === service.host ? route.continue() : route.abort(),
  );
});

after(async () => {
  await browser?.close();
  service?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test("a wrong secret shows a clear sign-in error", async () => {
  await page.goto(`${service.url}/console`);
  await page.fill("#access-key-id", service.key.accessKeyId);
  await page.fill("#access-key-secret", "not-the-secret");
  await page.click("#sign-in-form button[type=submit]");
  const error = page.locator("#sign-in-error");
  await error.waitFor({ state: "visible" });
  const text = await error.textContent();
  assert.match(text, /The AccessKey secret is wrong/);
  assert.match(text, /SignatureDoesNotMatch/);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, "a refused key is not kept");
  await page.screenshot({ path: join(screenshotDir(), "sign-in-error.png") });
});

test("signing in lists the account's domains", async () => {
  await page.fill("#access-key-secret", service.key.secret);
  await page.click("#sign-in-form button[type=submit]");
  await page.locator(`#domain-table tr[data-domain="${OTHER}"]`).waitFor();
  const listed = await page.locator("#domain-table tbody tr").evaluateAll((rows) =>
    rows.map((row) => row.dataset.domain),
  );
  const api = await service.call("DescribeLiveNotifyDomains");
  assert.deepEqual(listed.sort(), api.Domains.Domain.map((d) => d.DomainName).sort());
  const stored = await page.evaluate(() => sessionStorage.getItem("livenotify.accessKeyId"));
  assert.equal(stored, service.key.accessKeyId);
});

test("a callback configuration edited in the console is what the API returns", async () => {
  await page.click(`#domain-table tr[data-domain="${DOMAIN}"] button`);
  await page.locator("#config-card").waitFor({ state: "visible" });
  await page.fill("#cfg-notify-url", "http://127.0.0.1:9/new-callbacks?tenant=7");
  await page.check("#cfg-req-auth");
  await page.fill("#cfg-auth-key", "Ab12345678901234Cd");
  await page.click("#config-form button[type=submit]");
  await page.locator("#config-message.ok").waitFor();

  const api = await service.call("DescribeLiveStreamsNotifyUrlConfig", { DomainName: DOMAIN });
  assert.equal(api.LiveStreamsNotifyConfig.NotifyUrl, "http://127.0.0.1:9/new-callbacks?tenant=7");
  assert.equal(api.LiveStreamsNotifyConfig.NotifyReqAuth, "yes");
  assert.equal(api.LiveStreamsNotifyConfig.NotifyAuthKey, "Ab12345678901234Cd");
  const row = page.locator(`#domain-table tr[data-domain="${DOMAIN}"]`);
  await assert.doesNotReject(row.getByText("new-callbacks?tenant=7").waitFor());
  await page.screenshot({ path: join(screenshotDir(), "domains.png"), fullPage: true });

  await page.fill("#cfg-auth-key", "short");
  await page.click("#config-form button[type=submit]");
  const refused = await page.locator("#config-message.error").textContent();
  assert.match(refused, /NotifyAuthKey must be 16 to 64 letters and digits.*\(InvalidParam\)/);
});

test("filtered records are the ones the API returns, newest first", async () => {
  await page.click('.tab[data-tab="records"]');
  await page.fill("#f-domain", DOMAIN);
  await page.fill("#f-app", "live");
  await page.selectOption("#f-status", "");
  await page.click("#filters button[type=submit]");
  const live = RECORDS.filter((r) => r.AppName === "live");
  await page.locator("#page-info").getByText(`· ${live.length} records`).waitFor();

  const shown = await page.locator("#record-table tbody tr").evaluateAll((rows) =>
    rows.map((row) => [...row.cells].map((cell) => cell.textContent)),
  );
  const api = await service.call("DescribeLiveStreamsNotifyRecords", {
    DomainName: DOMAIN,
    AppName: "live",
    StartTime: utc(3600),
    EndTime: utc(-5),
    PageSize: "20",
  });
  const expected = api.NotifyRecordsInfo.LiveStreamNotifyRecordsInfo;
  assert.equal(shown.length, expected.length);
  assert.equal(expected.length, RECORDS.filter((r) => r.AppName === "live").length);
  shown.forEach((cells, i) => {
    assert.deepEqual(cells.slice(0, 6), [
      expected[i].NotifyTime, expected[i].NotifyType, expected[i].NotifyResult,
      expected[i].AppName, expected[i].StreamName, expected[i].Description,
    ]);
  });
  const newest = RECORDS.filter((r) => r.AppName === "live").map((r) => r.NotifyTime).sort().at(-1);
  assert.equal(shown[0][0], newest, "newest first");

  await page.selectOption("#f-status", "failed");
  await page.click("#filters button[type=submit]");
  await page.locator("#page-info").getByText(/· 1 record$/).waitFor();
  assert.equal(await page.locator("#record-table tbody tr").count(), 1);
});

test("a record's detail view shows its content, headers, response, latency and attempt", async () => {
  await page.click("#record-table tbody tr >> nth=0");
  await page.locator("#detail").waitFor({ state: "visible" });
  const field = (name) => page.locator(`#detail-fields dd[data-field="${name}"]`).textContent();
  assert.equal(await field("LatencyMs"), String(FAILED.LatencyMs));
  assert.equal(await field("Attempt"), String(FAILED.Attempt));
  assert.equal(await field("HttpStatus"), String(FAILED.HttpStatus));
  assert.equal(await field("EventId"), FAILED.EventId);
  assert.equal(await field("Description"), FAILED.Description);
  assert.equal(await page.locator("#detail-headers").textContent(), FAILED.NotifyHeader);
  assert.equal(await page.locator("#detail-response").textContent(), FAILED.NotifyResponse);
  const content = JSON.parse(await page.locator("#detail-content").textContent());
  assert.deepEqual(content, JSON.parse(FAILED.NotifyContent));
});

test("the chart counts callbacks per minute by result", async () => {
  await page.fill("#f-app", "");
  await page.selectOption("#f-status", "");
  await page.click("#filters button[type=submit]");
  await page.locator("#chart-note").getByText(`all ${RECORDS.length} records`).waitFor();
  const bars = await page.locator("#chart svg g[data-minute]").count();
  const minutes = new Set(RECORDS.map((r) => r.NotifyTime.slice(0, 16))).size;
  assert.equal(bars, minutes);
  assert.equal(await page.locator("#chart svg rect.failed").count(), 1 + 1, "one bar and the legend");
  await page.click("#record-table tbody tr >> nth=1");
  await page.screenshot({ path: join(screenshotDir(), "records.png"), fullPage: true });
});
