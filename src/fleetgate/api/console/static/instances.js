// The instances page: a paged, searchable list (Z-API GET /instances), live state badges from
// one event stream for the rows shown, create (console API, then GREEN-API setSettings) and
// delete (console API) with a confirmation.
"use strict";

const { el, api, badge, say } = window.fleetgate;
const PAGE_SIZE = 20;
let page = 1;
let query = "";
let deleted = false;
let stopStream = null;
let rows = new Map();

function due(ms) {
  return ms ? new Date(ms).toISOString().slice(0, 10) : "";
}

function pager(found) {
  const pages = Math.max(found.totalPage, 1);
  document.getElementById("pageInfo").textContent = `page ${found.page} of ${pages} (${found.total} instances)`;
  document.getElementById("prev").disabled = page <= 1;
  document.getElementById("next").disabled = page >= pages;
}

async function load() {
  const params = new URLSearchParams({ page: String(page), pageSize: String(PAGE_SIZE) });
  if (query && !deleted) params.set("query", query);
  let found;
  try {
    found = deleted
      ? await api("GET", "/console/api/instances/deleted?" + params, { partner: true })
      : await api("GET", "/instances?" + params, { partner: true });
  } catch (err) {
    if (err.status !== 401) say(err.message, true);
    return;
  }
  const body = document.querySelector("#instances tbody");
  body.replaceChildren();
  rows = new Map();
  for (const item of found.content) body.append(deleted ? deletedRow(item) : liveRow(item));
  pager(found);
  watch();
}

function liveRow(item) {
  const state = el("span", { className: "badge", text: "…" });
  const remove = el("button", { type: "button", className: "delete", text: "Delete" });
  remove.addEventListener("click", () => removeInstance(item));
  const link = el("a", { href: "/console/instances/" + encodeURIComponent(item.id), text: item.id });
  rows.set(item.id, state);
  return el(
    "tr",
    { dataset: { id: item.id } },
    el("td", {}, link),
    el("td", { className: "name", text: item.name }),
    el("td", {}, state),
    el("td", { text: item.paymentStatus }),
    el("td", { text: due(item.due) }),
    el("td", {}, remove),
  );
}

// A deleted instance: no page of its own, no live state; when it was deleted.
function deletedRow(item) {
  const state = el("span", {});
  badge(state, null);
  return el(
    "tr",
    { dataset: { id: item.id }, className: "deleted" },
    el("td", { text: item.id }),
    el("td", { className: "name", text: item.name }),
    el("td", {}, state),
    el("td", { text: "deleted " + due(item.deletedMs) }),
    el("td", { text: "" }),
    el("td", { text: "" }),
  );
}

// One stream for the rows on screen: their states now, then each change as it happens.
function watch() {
  if (stopStream) stopStream();
  stopStream = null;
  if (!rows.size) return;
  const ids = [...rows.keys()].join(",");
  stopStream = window.fleetgate.stream("/console/api/events?ids=" + ids, {
    state(data) {
      const node = rows.get(String(data.id));
      if (node) badge(node, data.state);
    },
  });
}

async function removeInstance(item) {
  if (!window.confirm(`Delete instance ${item.id} (${item.name})? This cannot be undone.`)) return;
  try {
    await api("DELETE", `/console/api/instances/${encodeURIComponent(item.id)}`, { partner: true });
    say(`Instance ${item.id} deleted.`);
  } catch (err) {
    say(err.message, true);
  }
  await load();
}

function showFieldErrors(form, message) {
  let placed = false;
  for (const span of form.querySelectorAll(".field-error")) {
    const field = span.dataset.errorFor;
    const mine = new RegExp("(^|[^A-Za-z])" + field + "([^A-Za-z]|$)").test(message);
    span.textContent = mine ? message : "";
    placed = placed || mine;
  }
  return placed;
}

async function create(event) {
  event.preventDefault();
  const form = event.target;
  showFieldErrors(form, "");
  document.getElementById("created").hidden = true;
  const values = {};
  for (const input of form.querySelectorAll("[data-field]")) {
    if (input.value !== "") values[input.dataset.field] = input.value;
  }
  const { name, ...settings } = values;
  if ("delaySendMessagesMilliseconds" in settings && /^\d+$/.test(settings.delaySendMessagesMilliseconds)) {
    settings.delaySendMessagesMilliseconds = Number(settings.delaySendMessagesMilliseconds);
  }
  let made;
  try {
    made = await api("POST", "/console/api/instances", { body: name ? { name } : {}, partner: true });
  } catch (err) {
    if (!showFieldErrors(form, err.message)) say(err.message, true);
    return;
  }
  const id = String(made.idInstance);
  document.getElementById("createdLink").textContent = id;
  document.getElementById("createdLink").href = "/console/instances/" + id;
  document.getElementById("createdToken").textContent = made.apiTokenInstance;
  document.getElementById("created").hidden = false;
  if (Object.keys(settings).length) {
    try {
      await api("POST", `/waInstance${id}/setSettings/${made.apiTokenInstance}`, { body: settings });
    } catch (err) {
      showFieldErrors(form, err.message);
      say(`Instance ${id} was created, but its settings were not saved: ${err.message}. ` +
          "Correct them on its page.", true);
      await load();
      return;
    }
  }
  say(`Instance ${id} created.`);
  form.reset();
  await load();
}

async function loadPartner() {
  const me = await api("GET", "/console/api/partner", { partner: true });
  document.getElementById("partnerName").textContent = me.name;
  document.getElementById("clientTokenState").textContent = me.clientToken ? "yes" : "no";
}

async function clientToken(on) {
  const shown = document.getElementById("clientTokenShown");
  shown.hidden = true;
  if (on) {
    const answer = await api("POST", "/admin/client-token", { partner: true });
    document.getElementById("clientToken").textContent = answer.clientToken;
    shown.hidden = false;
  } else {
    if (!window.confirm("Stop requiring a Client-Token? The current one stops working.")) return;
    await api("DELETE", "/admin/client-token", { partner: true });
  }
  await loadPartner();
}

function guarded(action) {
  return async () => {
    try {
      await action();
    } catch (err) {
      if (err.status !== 401) say(err.message, true);
    }
  };
}

window.fleetgate.onSignedIn = () => {
  page = 1;
  load();
  guarded(loadPartner)();
};
window.fleetgate.stopAll = () => {
  if (stopStream) stopStream();
  stopStream = null;
};

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("searchForm").addEventListener("submit", (event) => {
    event.preventDefault();
    query = document.getElementById("query").value.trim();
    page = 1;
    load();
  });
  document.getElementById("showDeleted").addEventListener("change", (event) => {
    deleted = event.target.checked;
    // The search covers live instances only (the Z-API list's index).
    document.getElementById("query").disabled = deleted;
    page = 1;
    load();
  });
  document.getElementById("prev").addEventListener("click", () => { page -= 1; load(); });
  document.getElementById("next").addEventListener("click", () => { page += 1; load(); });
  document.getElementById("createForm").addEventListener("submit", create);
  document.getElementById("clientTokenOn").addEventListener("click", guarded(() => clientToken(true)));
  document.getElementById("clientTokenOff").addEventListener("click", guarded(() => clientToken(false)));
});
