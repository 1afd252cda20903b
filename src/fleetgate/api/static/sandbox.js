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

// A file goes as a multipart form (the browser writes its Content-Type and boundary); the text
// box, if filled, is its caption.
async function sendFile() {
  const file = $("file").files[0];
  if (!file) {
    fail("Pick a file to send first.");
    return;
  }
  const form = new FormData();
  form.append("chatId", $("toPhone").value.trim() + "@c.us");
  if ($("text").value) form.append("caption", $("text").value);
  form.append("file", file);
  try {
    await json(`/sandbox/phones/${seg($("fromPhone").value.trim())}/messages`, {
      method: "POST",
      headers: auth(),
      body: form,
    });
    $("text").value = "";
    $("file").value = "";
    watched = $("fromPhone").value.trim();
  } catch (e) {
    fail("Send failed: " + e.message);
  }
}

// A link the page may show: an http(s) address (never javascript: or data:); null otherwise.
function webLink(url) {
  try {
    const parsed = new URL(String(url), location.href);
    return /^https?:$/.test(parsed.protocol) ? parsed : null;
  } catch {
    return null;
  }
}

// A received file: its name as the text of a download link, and its caption. A picture of this
// origin also shows small: an <img> loads it (img-src 'self'; the download route's headers,
// attachment, nosniff and a policy that runs nothing, stay as they are).
function fileLine(m) {
  const data = m.messageData.fileMessageData;
  const name = String(data.fileName || "file");
  const link = webLink(data.downloadUrl);
  const parts = [el("b", {}, String(m.chatId)), ": "];
  parts.push(link ? el("a", { href: link.href, download: name, rel: "noopener" }, name) : name);
  if (data.caption) parts.push(" " + String(data.caption));
  const picture = m.typeMessage === "imageMessage" && /^image\//.test(String(data.mimeType));
  if (link && picture && link.origin === location.origin) {
    parts.push(el("img", { class: "preview", alt: name, src: link.href }));
  }
  return el("div", { class: "file" }, ...parts);
}

function inboxLine(m) {
  if (m.messageData && m.messageData.fileMessageData) return fileLine(m);
  return el("div", {}, el("b", {}, String(m.chatId)), ": " + String(m.text));
}

// The inbox follows a number once it is entered (change: blur or Enter), never each partial
// number typed: reading a phone's inbox takes a free number for the partner.
let watched = "";
let shown = "";

async function inbox() {
  const phone = watched;
  if (!phone || !token()) return;
  const got = await json(`/sandbox/phones/${seg(phone)}/messages?limit=20`, { headers: auth() })
    .catch(() => null);
  if (!got) return;
  // Drawn again only when it changed: a link under the pointer stays put, a preview loads once.
  const drawn = phone + " " + got.messages.map((m) => m.idMessage).join(" ");
  if (drawn === shown) return;
  shown = drawn;
  const lines = got.messages.map(inboxLine);
  $("inbox").replaceChildren(...(lines.length ? lines : ["–"]));
}

$("fromPhone").addEventListener("change", () => {
  watched = $("fromPhone").value.trim();
  inbox();
});
$("load").addEventListener("click", load);
$("scan").addEventListener("click", scan);
$("send").addEventListener("click", send);
$("sendFile").addEventListener("click", sendFile);
$("anyFile").addEventListener("change", () => {
  $("file").accept = $("anyFile").checked ? "" : "image/*";
});
$("instances").addEventListener("click", (e) => {
  const b = e.target.closest("button");
  if (b) pick(b.dataset.id, b.dataset.token);
});
setInterval(inbox, 2000);
