// Callbacks per minute by result, drawn as an SVG bar chart from the records the console
// read: success stacked under failed, one bar per minute of the selected range.

const SVG = "http://www.w3.org/2000/svg"; // the SVG namespace name, not a request
const WIDTH = 960;
const HEIGHT = 220;
const PAD = { left: 44, right: 12, top: 12, bottom: 34 };
const MINUTE = 60000;

function node(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Counts records per minute: Map(minuteStartMs → {success, failed}). */
export function perMinute(records) {
  const counts = new Map();
  for (const record of records) {
    const at = Date.parse(record.NotifyTime);
    if (Number.isNaN(at)) continue;
    const minute = Math.floor(at / MINUTE) * MINUTE;
    const bucket = counts.get(minute) || { success: 0, failed: 0 };
    if (record.NotifyResult === "success") bucket.success += 1;
    else bucket.failed += 1;
    counts.set(minute, bucket);
  }
  return counts;
}

function label(ms) {
  return new Date(ms).toISOString().slice(5, 16).replace("T", " ");
}

function axes(svg, peak, firstMinute, lastMinute) {
  const bottom = HEIGHT - PAD.bottom;
  svg.append(node("line", { class: "axis", x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: bottom }));
  svg.append(node("line", { class: "axis", x1: PAD.left, y1: bottom, x2: WIDTH - PAD.right, y2: bottom }));
  svg.append(node("text", { x: PAD.left - 6, y: PAD.top + 10, "text-anchor": "end" }, String(peak)));
  svg.append(node("text", { x: PAD.left - 6, y: bottom, "text-anchor": "end" }, "0"));
  svg.append(node("text", { x: PAD.left, y: HEIGHT - 14 }, `${label(firstMinute)} UTC`));
  svg.append(node("text", { x: WIDTH - PAD.right, y: HEIGHT - 14, "text-anchor": "end" }, `${label(lastMinute)} UTC`));
  svg.append(node("rect", { class: "success", x: WIDTH - 190, y: HEIGHT - 11, width: 10, height: 10 }));
  svg.append(node("text", { x: WIDTH - 176, y: HEIGHT - 2 }, "success"));
  svg.append(node("rect", { class: "failed", x: WIDTH - 110, y: HEIGHT - 11, width: 10, height: 10 }));
  svg.append(node("text", { x: WIDTH - 96, y: HEIGHT - 2 }, "failed"));
}

/** Replaces `container`'s content with the chart of `records` over [startMs, endMs]. */
export function drawChart(container, records, startMs, endMs) {
  container.replaceChildren();
  const counts = perMinute(records);
  const firstMinute = Math.floor(startMs / MINUTE) * MINUTE;
  const lastMinute = Math.floor(endMs / MINUTE) * MINUTE;
  const minutes = Math.max(1, (lastMinute - firstMinute) / MINUTE + 1);
  let peak = 1;
  for (const { success, failed } of counts.values()) peak = Math.max(peak, success + failed);

  const svg = node("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-label": "Callbacks per minute by result",
  });
  axes(svg, peak, firstMinute, lastMinute);
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const barWidth = plotWidth / minutes;
  for (const [minute, { success, failed }] of counts) {
    if (minute < firstMinute || minute > lastMinute) continue;
    const x = PAD.left + ((minute - firstMinute) / MINUTE) * barWidth;
    const width = Math.max(1, barWidth * 0.8);
    const hSuccess = (success / peak) * plotHeight;
    const hFailed = (failed / peak) * plotHeight;
    const base = HEIGHT - PAD.bottom;
    const title = `${label(minute)} UTC: ${success} success, ${failed} failed`;
    const group = node("g", { "data-minute": new Date(minute).toISOString() });
    group.append(node("title", {}, title));
    if (success) group.append(node("rect", { class: "success", x, y: base - hSuccess, width, height: hSuccess }));
    if (failed) group.append(node("rect", { class: "failed", x, y: base - hSuccess - hFailed, width, height: hFailed }));
    svg.append(group);
  }
  container.append(svg);
}
