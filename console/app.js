// The console's entry point: sign-in (the key is checked by a signed call before it is
// kept), the two pages, and sign-out.

import { call, explain, forgetCredentials, saveCredentials, savedCredentials } from "./api.js";
import { DomainsPage } from "./domains.js";
import { RecordsPage } from "./records.js";

const $ = (id) => document.getElementById(id);
let pages = null;

function showTab(name) {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.classList.toggle("active", tab.dataset.tab === name);
  }
  for (const page of document.querySelectorAll(".page")) page.hidden = page.id !== name;
}

function fillDomainList(names) {
  const list = $("domain-names");
  list.replaceChildren(...names.map((name) => Object.assign(document.createElement("option"), { value: name })));
  if (!$("f-domain").value && names.length) $("f-domain").value = names[0];
}

function start(credentials) {
  $("sign-in").hidden = true;
  $("tabs").hidden = false;
  $("who").hidden = false;
  $("who-key").textContent = credentials.accessKeyId;
  const records = new RecordsPage(credentials);
  const domains = new DomainsPage(credentials, {
    onDomains: fillDomainList,
    onShowRecords: (name) => {
      $("f-domain").value = name;
      showTab("records");
      records.search();
    },
  });
  pages = { records, domains };
  showTab("domains");
  domains.load();
}

async function signIn(event) {
  event.preventDefault();
  const error = $("sign-in-error");
  error.hidden = true;
  const credentials = {
    accessKeyId: $("access-key-id").value.trim(),
    secret: $("access-key-secret").value,
  };
  const button = event.submitter || $("sign-in-form").querySelector("button");
  button.disabled = true;
  try {
    await call(credentials, "DescribeLiveNotifyDomains");
    saveCredentials(credentials);
    $("access-key-secret").value = "";
    start(credentials);
  } catch (failure) {
    error.textContent = `Cannot sign in: ${explain(failure)}`;
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

function init() {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => {
    forgetCredentials();
    location.reload();
  });
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => {
      showTab(tab.dataset.tab);
      if (tab.dataset.tab === "records" && pages && $("f-domain").value) pages.records.search();
    });
  }
  const saved = savedCredentials();
  if (saved) start(saved);
}

init();
