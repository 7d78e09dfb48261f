// The Domains page: the account's ingest domains (DescribeLiveNotifyDomains, a livenotify
// extension) with their callback configuration, which can be viewed, edited and deleted
// (Describe/Set/DeleteLiveStreamsNotifyUrlConfig).

import { call, explain } from "./api.js";

const $ = (id) => document.getElementById(id);

function show(element, text, kind) {
  element.hidden = !text;
  element.textContent = text || "";
  element.className = kind || "";
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

export class DomainsPage {
  constructor(credentials, { onShowRecords, onDomains }) {
    this.credentials = credentials;
    this.onShowRecords = onShowRecords;
    this.onDomains = onDomains;
    this.current = null;
    $("open-domain").addEventListener("submit", (event) => {
      event.preventDefault();
      const name = $("open-domain-name").value.trim();
      if (name) this.open(name);
    });
    $("config-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    $("cfg-delete").addEventListener("click", () => this.remove());
    $("cfg-records").addEventListener("click", () => this.onShowRecords(this.current));
  }

  /** Lists the account's domains, each with its NotifyUrl. */
  async load() {
    show($("domains-message"), "");
    const body = $("domain-table").tBodies[0];
    body.replaceChildren();
    let domains;
    try {
      const answer = await call(this.credentials, "DescribeLiveNotifyDomains");
      domains = (answer.Domains && answer.Domains.Domain) || [];
    } catch (error) {
      show($("domains-message"), explain(error), "error");
      return;
    }
    this.onDomains(domains.map((d) => d.DomainName));
    if (!domains.length) {
      const row = body.insertRow();
      cell(row, "This account has no domains yet; an operator adds them with "
        + "`livenotify admin domain add`.", "empty").colSpan = 5;
    }
    for (const domain of domains) await this.addRow(body, domain);
  }

  async addRow(body, domain) {
    const row = body.insertRow();
    row.dataset.domain = domain.DomainName;
    cell(row, domain.DomainName);
    cell(row, domain.CreateTime);
    const url = cell(row, "…", "wrap");
    const signed = cell(row, "");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Edit";
    button.addEventListener("click", () => this.open(domain.DomainName));
    row.insertCell().append(button);
    try {
      const config = await this.describe(domain.DomainName);
      url.textContent = config.NotifyUrl || "not configured";
      signed.textContent = config.NotifyUrl ? config.NotifyReqAuth || "no" : "";
    } catch (error) {
      url.textContent = explain(error);
    }
  }

  async describe(name) {
    const answer = await call(this.credentials, "DescribeLiveStreamsNotifyUrlConfig", { DomainName: name });
    return answer.LiveStreamsNotifyConfig || {};
  }

  /** Opens the configuration form of `name`. */
  async open(name) {
    show($("config-message"), "");
    let config;
    try {
      config = await this.describe(name);
    } catch (error) {
      $("config-card").hidden = true;
      show($("domains-message"), `${name}: ${explain(error)}`, "error");
      return;
    }
    show($("domains-message"), "");
    this.current = name;
    $("config-domain").textContent = name;
    $("cfg-notify-url").value = config.NotifyUrl || "";
    $("cfg-req-auth").checked = config.NotifyReqAuth === "yes";
    $("cfg-auth-key").value = config.NotifyAuthKey || "";
    $("cfg-exception-url").value = config.ExceptionNotifyUrl || "";
    $("cfg-switch-url").value = config.SwitchNotifyUrl || "";
    $("config-card").hidden = false;
    if (!config.NotifyUrl) show($("config-message"), "No callback is configured for this domain yet.", "hint");
  }

  async save() {
    const params = {
      DomainName: this.current,
      NotifyUrl: $("cfg-notify-url").value.trim(),
      NotifyReqAuth: $("cfg-req-auth").checked ? "yes" : "no",
      NotifyAuthKey: $("cfg-auth-key").value.trim(),
      ExceptionNotifyUrl: $("cfg-exception-url").value.trim(),
      SwitchNotifyUrl: $("cfg-switch-url").value.trim(),
    };
    try {
      await call(this.credentials, "SetLiveStreamsNotifyUrlConfig", params);
      show($("config-message"), `Saved the callback configuration of ${this.current}.`, "ok");
      await this.load();
    } catch (error) {
      show($("config-message"), explain(error), "error");
    }
  }

  async remove() {
    if (!window.confirm(`Delete the callback configuration of ${this.current}?`)) return;
    try {
      await call(this.credentials, "DeleteLiveStreamsNotifyUrlConfig", { DomainName: this.current });
      await this.open(this.current);
      show($("config-message"), `Deleted the callback configuration of ${this.current}.`, "ok");
      await this.load();
    } catch (error) {
      show($("config-message"), explain(error), "error");
    }
  }
}
