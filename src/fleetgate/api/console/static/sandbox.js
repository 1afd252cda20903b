// The console's sandbox page's script, its entry module: the partner's instances, linking a
// phone, and writing as that phone. The page's Content-Security-Policy allows scripts from this
// origin only, so console.js (the sign-in, the token, the status line), this file and the modules
// it imports are the page's only code; the others:
//   sandbox-lib.js      shared helpers (elements from text, the one call to the server)
//   sandbox-chat.js     the phone's conversation and what it does to messages
//   sandbox-groups.js   the phone's groups
//   sandbox-more.js     calls, blocks and statuses
import { $, attempt, auth, chat, el, fail, json, me, note, seg, withJson } from "./sandbox-lib.js";
import { conversation, watch } from "./sandbox-chat.js";
import { groups } from "./sandbox-groups.js";
import { statuses } from "./sandbox-more.js";

let picked = null;
// The instance an instance page of the console sent the person here to link (?instance=id),
// picked once the list first shows it.
let preselect = new URLSearchParams(location.search).get("instance");

function placeholderRow(text) {
  return el("tr", {}, el("td", { colSpan: 4, class: "muted" }, text));
}

// The partner's instances, each with its own token: the Z-API list, read page by page with the
// partner token in the Authorization header (as everywhere in the console, never in a URL).
async function instances() {
  const all = [];
  for (let page = 1; ; page++) {
    const got = await json(`/instances?page=${page}&pageSize=100`, { headers: auth() });
    all.push(...got.content);
    if (page >= got.totalPage) return all;
  }
}

async function load() {
  fail("");
  try {
    const rows = [];
    for (const i of await instances()) {
      const id = String(i.id);
      const state = await json(`/waInstance${seg(id)}/getStateInstance/${seg(i.token)}`)
        .catch(() => ({}));
      const pickButton = el("button", { "data-id": id, "data-token": String(i.token) }, "pick");
      rows.push(el("tr", {},
        el("td", {}, id),
        el("td", {}, String(i.name ?? "")),
        el("td", {}, String(state.stateInstance || "?")),
        el("td", {}, pickButton)));
    }
    $("instances").replaceChildren(...(rows.length ? rows : [placeholderRow("no instances")]));
    const wanted = rows.map((r) => r.querySelector("button")).find((b) => b.dataset.id === preselect);
    preselect = null;
    if (wanted) pick(wanted.dataset.id, wanted.dataset.token);
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
    await json(`/sandbox/phones/${seg(phone)}/scan`, { method: "POST", ...withJson({ qr: qr.qr }) });
    $("toPhone").value = phone;
    setTimeout(load, 500);
  } catch (e) {
    fail("Scan failed: " + e.message);
  }
}

// The other way to link: the phone types a pairing code an instance issued for its number.
async function typeCode() {
  await attempt("Linking", async () => {
    const phone = $("linkPhone").value.trim();
    const got = await json(`/sandbox/phones/${seg(phone)}/link`, {
      method: "POST",
      ...withJson({ code: $("pairingCode").value.trim() }),
    });
    $("pairingCode").value = "";
    $("toPhone").value = phone;
    await load();
    note(`Linked ${phone} to instance ${String(got.idInstance)}.`);
  });
}

// A text goes to the chat of the "to" box: a number's, or a group's the phone is a member of.
async function send() {
  await attempt("Send", async () => {
    await json(`/sandbox/phones/${seg(me())}/messages`, {
      method: "POST",
      ...withJson({ chatId: chat(), message: $("text").value }),
    });
    $("text").value = "";
    watch(me());
  });
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
  form.append("chatId", chat());
  if ($("text").value) form.append("caption", $("text").value);
  form.append("file", file);
  await attempt("Send", async () => {
    await json(`/sandbox/phones/${seg(me())}/messages`, { method: "POST", headers: auth(), body: form });
    $("text").value = "";
    $("file").value = "";
    watch(me());
  });
}

// The page follows a number once it is entered (change: blur or Enter), never each partial
// number typed: reading a phone's messages takes a free number for the partner. Its messages
// are read every 2 s; its groups and statuses, which change less often and whose routes write,
// every 10 s (and at once after the page changes them).
let ticks = 0;

function refresh() {
  conversation();
  if (ticks++ % 5 === 0) {
    groups();
    statuses();
  }
}

$("fromPhone").addEventListener("change", () => {
  watch(me());
  ticks = 0;
  refresh();
});
$("load").addEventListener("click", load);
$("scan").addEventListener("click", scan);
$("typeCode").addEventListener("click", typeCode);
$("send").addEventListener("click", send);
$("sendFile").addEventListener("click", sendFile);
$("anyFile").addEventListener("change", () => {
  $("file").accept = $("anyFile").checked ? "" : "image/*";
});
$("instances").addEventListener("click", (e) => {
  const b = e.target.closest("button");
  if (b) pick(b.dataset.id, b.dataset.token);
});
// The console shows the page once the tab is signed in (console.js): then the list loads.
window.fleetgate.onSignedIn = load;
setInterval(refresh, 2000);
