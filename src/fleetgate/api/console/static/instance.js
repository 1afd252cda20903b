// One instance's page. Its token comes from the partner's list (Z-API GET /instances, searched
// by id); the instance's own GREEN-API methods do the work. One event stream brings the state,
// the QR as it rotates and the queue counts; the journals are read again when they change.
"use strict";

const { el, api, badge, say } = window.fleetgate;
const ID = document.getElementById("instance").dataset.id;
const READ_ONLY = new Set(["wid", "countryInstance", "typeAccount", "sharedSession", "proxyInstance"]);
let token = null;
let settings = {};
let stopStream = null;
let lastCounts = null;

let inflight = 0;
let idle = null;
let rotation = null;

// A call of the instance's GREEN-API methods with its current token. While the token rotates,
// new calls wait and the rotation waits for the calls in flight (they carry the old token).
async function call(verb, name, { query = "", body } = {}) {
  while (rotation) await rotation;
  inflight += 1;
  try {
    return await api(verb, `/waInstance${ID}/${name}/${token}${query}`, { body });
  } finally {
    inflight -= 1;
    if (!inflight && idle) idle();
  }
}

function untilIdle() {
  return inflight ? new Promise((resolve) => (idle = resolve)) : Promise.resolve();
}

function time(seconds) {
  return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19);
}

function fill(list, items, line) {
  list.replaceChildren(...items.map((item) => el("li", {}, ...line(item))));
}

async function findToken() {
  const params = new URLSearchParams({ page: "1", pageSize: "10", query: ID });
  const found = await api("GET", "/instances?" + params, { partner: true });
  const mine = found.content.find((item) => item.id === ID);
  if (!mine) throw new Error(`Instance ${ID} is not one of yours (or it was deleted).`);
  document.getElementById("name").textContent = mine.name;
  return mine.token;
}

async function start() {
  try {
    token = await findToken();
  } catch (err) {
    if (err.status !== 401) say(err.message, true);
    return;
  }
  if (stopStream) stopStream();
  stopStream = window.fleetgate.stream(`/console/api/instances/${ID}/events`, {
    state: onState,
    qr: onQr,
    queues: onQueues,
    failed: (status) => say(`The live updates stopped (${status}).`, true),
  });
  await Promise.all([loadSettings(), loadJournals(), loadDeadLetters()]);
}

function onState(data) {
  badge(document.getElementById("state"), data.state);
  document.getElementById("phone").textContent = data.phone ? "linked to +" + data.phone : "";
  document.getElementById("pairing").hidden = data.state !== "notAuthorized";
  loadStateHistory();
}

function onQr(data) {
  const img = document.getElementById("qr");
  if (data.image) {
    img.src = "data:image/png;base64," + data.image;
    img.hidden = false;
  } else {
    img.removeAttribute("src");
    img.hidden = true;
  }
}

function onQueues(data) {
  document.getElementById("notificationCount").textContent = String(data.notifications);
  document.getElementById("sendCount").textContent = String(data.sends);
  // A count changed: something was sent or received, so the journals have news.
  if (lastCounts !== null) loadJournals();
  lastCounts = data;
}

async function loadStateHistory() {
  const changes = await call("GET", "getStateInstanceHistory", { query: "?count=10" });
  fill(document.getElementById("stateHistory"), changes, (c) => [
    `${time(c.timestamp)} ${c.stateInstance}`,
    c.phoneNumber ? ` (${c.phoneNumber})` : "",
  ]);
}

async function loadSettings() {
  settings = await call("GET", "getSettings");
  const form = document.getElementById("settingsForm");
  form.replaceChildren();
  for (const [key, value] of Object.entries(settings)) {
    if (READ_ONLY.has(key)) continue;
    const id = "setting-" + key;
    let input;
    if (value === "yes" || value === "no") {
      input = el("select", { id }, el("option", { value: "yes", text: "yes" }), el("option", { value: "no", text: "no" }));
      input.value = value;
    } else {
      input = el("input", { id, value: String(value) });
    }
    input.dataset.field = key;
    form.append(
      el("label", { htmlFor: id, text: key }),
      input,
      el("span", { className: "field-error", dataset: { errorFor: key } }),
    );
  }
}

function showFieldErrors(form, message) {
  let placed = false;
  for (const span of form.querySelectorAll(".field-error")) {
    const field = span.dataset.errorFor;
    const mine = message !== "" && new RegExp("(^|[^A-Za-z])" + field + "([^A-Za-z]|$)").test(message);
    span.textContent = mine ? message : "";
    placed = placed || mine;
  }
  return placed;
}

async function saveSettings() {
  const form = document.getElementById("settingsForm");
  const status = document.getElementById("settingsStatus");
  showFieldErrors(form, "");
  const changed = {};
  for (const input of form.querySelectorAll("[data-field]")) {
    const key = input.dataset.field;
    if (input.value === String(settings[key])) continue;
    const numeric = typeof settings[key] === "number" && /^-?\d+$/.test(input.value);
    changed[key] = numeric ? Number(input.value) : input.value;
  }
  if (!Object.keys(changed).length) {
    status.textContent = "Nothing changed.";
    return;
  }
  try {
    await call("POST", "setSettings", { body: changed });
  } catch (err) {
    status.textContent = "";
    if (!showFieldErrors(form, err.message)) say(err.message, true);
    return;
  }
  status.textContent = "Saved.";
  await loadSettings();
}

async function pair(event) {
  event.preventDefault();
  const phone = document.getElementById("pairPhone").value.trim();
  document.getElementById("pairError").textContent = "";
  try {
    const answer = await call("POST", "getAuthorizationCode", {
      body: { phoneNumber: /^\d+$/.test(phone) ? Number(phone) : phone },
    });
    document.getElementById("pairCode").textContent = answer.code;
  } catch (err) {
    document.getElementById("pairError").textContent = err.message;
  }
}

async function send(event) {
  event.preventDefault();
  const to = document.getElementById("sendTo").value.trim();
  const text = document.getElementById("sendText").value;
  const status = document.getElementById("sendStatus");
  try {
    const answer = await call("POST", "sendMessage", {
      body: { chatId: to + "@c.us", message: text },
    });
    status.textContent = "Sent: " + answer.idMessage;
    document.getElementById("sendText").value = "";
    document.getElementById("chatWith").value = to;
    await Promise.all([showChat(), loadJournals()]);
  } catch (err) {
    status.textContent = err.message;
  }
}

function messageLine(m) {
  const text = m.textMessage ?? (m.extendedTextMessage && m.extendedTextMessage.text) ?? m.typeMessage;
  return [`${time(m.timestamp)} `, el("b", { text: m.type === "incoming" ? "←" : "→" }), ` ${m.chatId}: `, el("span", { className: "text", text })];
}

async function showChat(event) {
  if (event) event.preventDefault();
  const who = document.getElementById("chatWith").value.trim();
  if (!who) return;
  try {
    const messages = await call("POST", "getChatHistory", {
      body: { chatId: who + "@c.us", count: 50 },
    });
    fill(document.getElementById("chat"), messages, messageLine);
  } catch (err) {
    say(err.message, true);
  }
}

async function loadJournals() {
  const [incoming, outgoing] = await Promise.all([
    call("GET", "lastIncomingMessages", { query: "?minutes=1440" }),
    call("GET", "lastOutgoingMessages", { query: "?minutes=1440" }),
  ]);
  fill(document.getElementById("incoming"), incoming.slice(0, 50), messageLine);
  fill(document.getElementById("outgoing"), outgoing.slice(0, 50), messageLine);
  if (document.getElementById("chatWith").value.trim()) await showChat();
}

async function clearNotifications() {
  const answer = await call("DELETE", "clearWebhooksQueue");
  document.getElementById("notificationsStatus").textContent = answer.isCleared
    ? "Cleared."
    : `Not now (${answer.reason}); try again in ${answer.leftTime} s.`;
}

async function showSends() {
  const waiting = await call("GET", "showMessagesQueue");
  fill(document.getElementById("sendQueue"), waiting, (item) => [
    `${item.messageID || (item.messagesIDs || []).join(", ")} ${item.type} `,
    el("code", { text: JSON.stringify(item.body) }),
  ]);
}

async function clearSends() {
  await call("GET", "clearMessagesQueue");
  document.getElementById("sendQueue").replaceChildren();
}

async function loadDeadLetters() {
  const found = await api("GET", "/admin/dead-letters?idInstance=" + ID, { partner: true });
  const body = document.querySelector("#deadLetters tbody");
  body.replaceChildren(
    ...found.deadLetters.map((d) =>
      el(
        "tr",
        {},
        el("td", {}, el("input", { type: "checkbox", value: String(d.id), className: "pick" })),
        el("td", { text: String(d.id) }),
        el("td", { text: d.typeWebhook }),
        el("td", { text: String(d.attempts) }),
        el("td", { className: "last-error", text: d.lastError }),
      ),
    ),
  );
}

async function replay() {
  const ids = [...document.querySelectorAll("#deadLetters .pick:checked")].map((c) => Number(c.value));
  const status = document.getElementById("replayStatus");
  if (!ids.length) {
    status.textContent = "Pick the dead letters to replay first.";
    return;
  }
  try {
    const answer = await api("POST", "/admin/dead-letters/replay", { body: { ids }, partner: true });
    status.textContent = `Queued again: ${answer.replayed.length}.`;
  } catch (err) {
    status.textContent = err.message;
  }
  await loadDeadLetters();
}

async function rotate() {
  if (!window.confirm("Rotate the token? The current one stops working at once.")) return;
  rotation = (async () => {
    await untilIdle();
    const answer = await api("GET", `/waInstance${ID}/updateApiToken/${token}`);
    token = answer.apiTokenInstance;
  })();
  try {
    await rotation;
  } finally {
    rotation = null;
  }
  document.getElementById("newToken").textContent = token;
  document.getElementById("rotated").hidden = false;
}

function guarded(action) {
  return async (event) => {
    try {
      await action(event);
    } catch (err) {
      if (err.status !== 401) say(err.message, true);
    }
  };
}

window.fleetgate.onSignedIn = start;
window.fleetgate.stopAll = () => {
  if (stopStream) stopStream();
  stopStream = null;
};

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("saveSettings").addEventListener("click", guarded(saveSettings));
  document.getElementById("pairForm").addEventListener("submit", guarded(pair));
  document.getElementById("sendForm").addEventListener("submit", guarded(send));
  document.getElementById("chatForm").addEventListener("submit", guarded(showChat));
  document.getElementById("clearNotifications").addEventListener("click", guarded(clearNotifications));
  document.getElementById("showSends").addEventListener("click", guarded(showSends));
  document.getElementById("clearSends").addEventListener("click", guarded(clearSends));
  document.getElementById("refreshDeadLetters").addEventListener("click", guarded(loadDeadLetters));
  document.getElementById("replay").addEventListener("click", guarded(replay));
  document.getElementById("rotate").addEventListener("click", guarded(rotate));
});
