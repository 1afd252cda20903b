// The console's sandbox page's script, its entry module: the partner's instances, linking a
// phone, and writing as that phone. The page's Content-Security-Policy allows scripts from this
// origin only, so console.js (the sign-in, the token, the status line), this file and the modules
// it imports are the page's only code; the others:
//   sandbox-lib.js      shared helpers (elements from text, the one call to the server)
//   sandbox-chat.js     the phone's conversation and what it does to messages
//   sandbox-groups.js   the phone's groups
//   sandbox-more.js     calls, blocks and statuses
import { $, attempt, auth, chat, el, fail, json, me, note, seg, withJson } from "./sandbox-lib.js";
import { conversation, onWatch, watch, watching } from "./sandbox-chat.js";
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
      const pickButton = el("button", { "data-id": id }, "pick");
      rows.push(el("tr", {},
        el("td", {}, id),
        el("td", {}, String(i.name ?? "")),
        el("td", {}, String(state.stateInstance || "?")),
        el("td", {}, pickButton)));
    }
    $("instances").replaceChildren(...(rows.length ? rows : [placeholderRow("no instances")]));
    const wanted = rows.map((r) => r.querySelector("button")).find((b) => b.dataset.id === preselect);
    preselect = null;
    if (wanted) pick(wanted.dataset.id);
  } catch (e) {
    fail("Could not list instances: " + e.message);
  }
}

function pick(id) {
  picked = { id };
  follow();
}

function showQr(id, image) {
  $("qr").replaceChildren(el("img", { alt: `QR of ${id}`, src: "data:image/png;base64," + image }));
  $("scan").disabled = false;
}

// Why the picked instance has no QR to scan.
function noQr(text) {
  $("qr").replaceChildren(el("span", { class: "muted" }, text));
  $("scan").disabled = true;
}

// The page's one live stream: it names the followed phone and the picked instance, and says
// when what the page shows of them may have changed; the page then reads it again through the
// routes above (a new QR comes in the event itself, as on an instance's page). No timer reads anything: the stream
// reopens itself after the server ends it, with a growing pause if it cannot.
let stopStream = null;

function follow() {
  if (stopStream) stopStream();
  stopStream = null;
  const query = new URLSearchParams();
  if (watching()) query.set("phone", watching());
  if (picked) query.set("instance", picked.id);
  if (![...query.keys()].length || !window.fleetgate.token()) return;
  stopStream = window.fleetgate.stream(`/console/api/sandbox/events?${query}`, {
    phone: () => {
      conversation();
      groups();
      statuses();
    },
    state: onState,
    qr: (data) => {
      if (data.image && picked) showQr(picked.id, data.image);
    },
    failed: (status) => fail(`The live updates stopped (${status}).`),
  });
}

// The picked instance's state changed: its row shows the new one; unless it waits for a phone,
// the QR box says why there is no QR (while it waits, the stream brings the QR).
function onState(data) {
  const state = String(data.state || "deleted");
  const button = [...$("instances").querySelectorAll("button")].find((b) => b.dataset.id === String(data.id));
  if (button) button.closest("tr").children[2].textContent = state;
  if (picked && String(data.id) === picked.id && state !== "notAuthorized") {
    noQr(`The instance is ${state}: there is no QR to scan.`);
  }
}

async function scan() {
  try {
    const qr = await json(`/sandbox/instances/${seg(picked.id)}/qr`, { headers: auth() });
    const phone = $("linkPhone").value.trim();
    await json(`/sandbox/phones/${seg(phone)}/scan`, { method: "POST", ...withJson({ qr: qr.qr }) });
    $("toPhone").value = phone;
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
// number typed: reading a phone's lists takes a free number for the partner. The stream then
// says when to read them again; the page also reads them at once after it changes them.
$("fromPhone").addEventListener("change", () => watch(me()));
onWatch(follow);
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
  if (b) pick(b.dataset.id);
});
// The console shows the page once the tab is signed in (console.js): then the list loads, and
// the stream opens again if the tab was signed out meanwhile.
window.fleetgate.onSignedIn = () => {
  load();
  follow();
};
window.fleetgate.stopAll = () => {
  if (stopStream) stopStream();
  stopStream = null;
};
