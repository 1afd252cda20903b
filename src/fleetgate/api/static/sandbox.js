// The /sandbox page's script. Everything that comes from the server (instance names, messages,
// error texts) reaches the page as text nodes only: an instance name is set by whoever holds
// one instance token, and must never run in the partner's page. The page's Content-Security-Policy
// allows scripts from this origin only, so this file is the page's only code.
"use strict";

const $ = (id) => document.getElementById(id);
let picked = null;
const token = () => $("token").value.trim();
const auth = () => ({ Authorization: "Bearer " + token() });
const seg = encodeURIComponent;

function fail(text) {
  $("status").textContent = text;
}

// An element with optional class and children (strings become text nodes, never markup).
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.dataset[key.slice(5)] = value;
    else node[key] = value;
  }
  node.append(...children.map((c) => (typeof c === "string" ? document.createTextNode(c) : c)));
  return node;
}

function placeholderRow(text) {
  return el("tr", {}, el("td", { colSpan: 4, class: "muted" }, text));
}

async function json(url, opts = {}) {
  const r = await fetch(url, opts);
  const body = await r.json().catch(() => null);
  if (!r.ok || (body && body.code === 401)) {
    throw new Error(String((body && (body.error || body.description)) || r.status));
  }
  return body;
}

async function load() {
  fail("");
  try {
    const list = await json(`/partner/getInstances/${seg(token())}`);
    const rows = [];
    for (const i of list.filter((i) => !i.deleted)) {
      const id = String(i.idInstance);
      const state = await json(`/waInstance${seg(id)}/getStateInstance/${seg(i.apiTokenInstance)}`)
        .catch(() => ({}));
      const pickButton = el("button", { "data-id": id, "data-token": String(i.apiTokenInstance) }, "pick");
      rows.push(el("tr", {},
        el("td", {}, id),
        el("td", {}, String(i.name ?? "")),
        el("td", {}, String(state.stateInstance || "?")),
        el("td", {}, pickButton)));
    }
    $("instances").replaceChildren(...(rows.length ? rows : [placeholderRow("no instances")]));
  } catch (e) {
    fail("Could not list instances: " + e.message);
  }
}

async function pick(id, instanceToken) {
  picked = { id, token: instanceToken };
  const qr = await json(`/waInstance${seg(id)}/qr/${seg(instanceToken)}`)
    .catch((e) => ({ type: "error", message: e.message }));
  if (qr.type === "qrCode") {
    $("qr").replaceChildren(el("img", { alt: `QR of ${id}`, src: "data:image/png;base64," + qr.message }));
  } else {
    $("qr").replaceChildren(el("span", { class: "muted" }, String(qr.message)));
  }
  $("scan").disabled = qr.type !== "qrCode";
}

async function scan() {
  try {
    const qr = await json(`/sandbox/instances/${seg(picked.id)}/qr`, { headers: auth() });
    const phone = $("linkPhone").value.trim();
    await json(`/sandbox/phones/${seg(phone)}/scan`, {
      method: "POST",
      headers: { ...auth(), "Content-Type": "application/json" },
      body: JSON.stringify({ qr: qr.qr }),
    });
    $("toPhone").value = phone;
    setTimeout(load, 500);
  } catch (e) {
    fail("Scan failed: " + e.message);
  }
}

async function send() {
  try {
    await json(`/sandbox/phones/${seg($("fromPhone").value.trim())}/messages`, {
      method: "POST",
      headers: { ...auth(), "Content-Type": "application/json" },
      body: JSON.stringify({ chatId: $("toPhone").value.trim() + "@c.us", message: $("text").value }),
    });
    $("text").value = "";
    watched = $("fromPhone").value.trim();
  } catch (e) {
    fail("Send failed: " + e.message);
  }
}

// The inbox follows a number once it is entered (change: blur or Enter), never each partial
// number typed: reading a phone's inbox takes a free number for the partner.
let watched = "";

async function inbox() {
  const phone = watched;
  if (!phone || !token()) return;
  const got = await json(`/sandbox/phones/${seg(phone)}/messages?limit=20`, { headers: auth() })
    .catch(() => null);
  if (!got) return;
  const lines = got.messages.map((m) => el("div", {}, el("b", {}, String(m.chatId)), ": " + String(m.text)));
  $("inbox").replaceChildren(...(lines.length ? lines : ["–"]));
}

$("fromPhone").addEventListener("change", () => {
  watched = $("fromPhone").value.trim();
  inbox();
});
$("load").addEventListener("click", load);
$("scan").addEventListener("click", scan);
$("send").addEventListener("click", send);
$("instances").addEventListener("click", (e) => {
  const b = e.target.closest("button");
  if (b) pick(b.dataset.id, b.dataset.token);
});
setInterval(inbox, 2000);
