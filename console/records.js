// The Records page: DescribeLiveStreamsNotifyRecords with filters and paging (newest first,
// as the API answers), a detail view of one record, and the per-minute chart, drawn from up
// to CHART_CAP records of the same query.

import { call, explain } from "./api.js";
import { drawChart } from "./chart.js";

const $ = (id) => document.getElementById(id);
const CHART_CAP = 5000;
const CHART_PAGE = 500;

/** `yyyy-MM-dd HH:mm[:ss]` (UTC; a `T` or a final `Z` is fine too) → `yyyy-MM-ddTHH:mm:ssZ`.
 * Anything else is passed on as typed, and the API's answer says what is wrong with it. */
export function toApiTime(value) {
  const text = value.trim().replace(" ", "T").replace(/Z$/, "");
  return `${text.length === 16 ? `${text}:00` : text}Z`;
}

/** A Date → `yyyy-MM-dd HH:mm:ss` in UTC. */
function toInput(date) {
  return date.toISOString().slice(0, 19).replace("T", " ");
}

function message(text) {
  const element = $("records-message");
  element.hidden = !text;
  element.textContent = text || "";
}

export class RecordsPage {
  constructor(credentials) {
    this.credentials = credentials;
    this.page = 1;
    this.totalPages = 0;
    this.records = [];
    // Bumped by every page load and every chart; an answer to an older one is dropped.
    this.generation = 0;
    this.chartGeneration = 0;
    this.setRange(60);
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      this.search();
    });
    for (const button of document.querySelectorAll("[data-range]")) {
      button.addEventListener("click", () => {
        this.setRange(Number(button.dataset.range));
        this.search();
      });
    }
    $("prev-page").addEventListener("click", () => this.load(this.page - 1));
    $("next-page").addEventListener("click", () => this.load(this.page + 1));
    $("close-detail").addEventListener("click", () => ($("detail").hidden = true));
  }

  setRange(minutes) {
    const end = new Date(Date.now() + 1000);
    $("f-end").value = toInput(end);
    $("f-start").value = toInput(new Date(end.getTime() - minutes * 60000));
  }

  /** The query's parameters from the filter form. */
  params() {
    return {
      DomainName: $("f-domain").value.trim(),
      AppName: $("f-app").value.trim(),
      StreamName: $("f-stream").value.trim(),
      Status: $("f-status").value,
      StartTime: toApiTime($("f-start").value),
      EndTime: toApiTime($("f-end").value),
    };
  }

  /** Shows the first page and redraws the chart for the current filters. */
  async search() {
    $("detail").hidden = true;
    if (await this.load(1)) await this.chart();
  }

  async load(page) {
    message("");
    const generation = ++this.generation;
    const params = { ...this.params(), PageNumber: String(page), PageSize: $("f-page-size").value };
    let answer;
    try {
      answer = await call(this.credentials, "DescribeLiveStreamsNotifyRecords", params);
    } catch (error) {
      if (generation !== this.generation) return false;
      message(explain(error));
      this.show([], 0, 0, 1);
      return false;
    }
    if (generation !== this.generation) return false;
    const records = answer.NotifyRecordsInfo.LiveStreamNotifyRecordsInfo || [];
    this.show(records, answer.TotalNum, answer.TotalPage, answer.PageNum);
    return true;
  }

  show(records, total, totalPages, page) {
    this.records = records;
    this.page = page;
    this.totalPages = totalPages;
    const body = $("record-table").tBodies[0];
    body.replaceChildren();
    records.forEach((record, index) => body.append(this.row(record, index)));
    if (!records.length) {
      const cell = body.insertRow().insertCell();
      cell.colSpan = 8;
      cell.className = "empty";
      cell.textContent = "No records match.";
    }
    $("page-info").textContent = total
      ? `Page ${page} of ${totalPages} · ${total} record${total === 1 ? "" : "s"}`
      : "";
    $("prev-page").disabled = page <= 1;
    $("next-page").disabled = page >= totalPages;
  }

  row(record, index) {
    const row = document.createElement("tr");
    row.dataset.index = String(index);
    const cells = [
      record.NotifyTime,
      record.NotifyType,
      record.NotifyResult,
      record.AppName,
      record.StreamName,
      record.Description,
      record.Attempt ?? "",
      record.LatencyMs != null ? `${record.LatencyMs} ms` : "",
    ];
    for (const text of cells) row.insertCell().textContent = String(text);
    row.cells[2].className = `result-${record.NotifyResult}`;
    row.addEventListener("click", () => this.detail(index));
    return row;
  }

  /** The detail view of one record of the page. */
  detail(index) {
    const record = this.records[index];
    for (const row of $("record-table").tBodies[0].rows) {
      row.classList.toggle("selected", row.dataset.index === String(index));
    }
    const fields = $("detail-fields");
    fields.replaceChildren();
    const names = ["NotifyTime", "NotifyType", "NotifyResult", "Description", "DomainName",
      "AppName", "StreamName", "NotifyUrl", "EventId", "Attempt", "HttpStatus", "LatencyMs"];
    for (const name of names) {
      const term = document.createElement("dt");
      term.textContent = name === "LatencyMs" ? "Latency (ms)" : name;
      const value = document.createElement("dd");
      value.dataset.field = name;
      value.textContent = record[name] ?? "—";
      fields.append(term, value);
    }
    $("detail-content").textContent = pretty(record.NotifyContent);
    $("detail-headers").textContent = record.NotifyHeader || "";
    $("detail-response").textContent = record.NotifyResponse || "";
    $("detail").hidden = false;
    $("detail").scrollIntoView({ block: "nearest" });
  }

  /** Reads up to CHART_CAP records of the query and draws callbacks per minute. */
  async chart() {
    const generation = ++this.chartGeneration;
    const params = this.params();
    const collected = [];
    let total = 0;
    try {
      for (let page = 1; collected.length < CHART_CAP; page += 1) {
        const answer = await call(this.credentials, "DescribeLiveStreamsNotifyRecords", {
          ...params, PageNumber: String(page), PageSize: String(CHART_PAGE),
        });
        const records = answer.NotifyRecordsInfo.LiveStreamNotifyRecordsInfo || [];
        total = answer.TotalNum;
        collected.push(...records.slice(0, CHART_CAP - collected.length));
        if (!records.length || page >= answer.TotalPage) break;
      }
    } catch (error) {
      if (generation === this.chartGeneration) {
        $("chart-note").textContent = `The chart could not be drawn: ${explain(error)}`;
      }
      return;
    }
    if (generation !== this.chartGeneration) return;
    const start = Date.parse(params.StartTime);
    const end = Date.parse(params.EndTime);
    drawChart($("chart"), collected, start, end);
    $("chart-note").textContent = total > collected.length
      ? `Drawn from the newest ${collected.length} of ${total} records: the chart reads at most ${CHART_CAP.toLocaleString("en")}.`
      : `Drawn from all ${total} records of the range (the chart reads at most ${CHART_CAP.toLocaleString("en")}).`;
  }
}

function pretty(text) {
  if (!text) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
