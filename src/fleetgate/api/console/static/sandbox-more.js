// The rest of what the page's phone does: call the chat of the "to" box (it rings, then ends
// as chosen), block it, post a status, and see and view the statuses of its contacts.
import { $, attempt, auth, chat, el, json, me, note, seg, token, withJson } from "./sandbox-lib.js";
import { watch, watching } from "./sandbox-chat.js";

let shown = "";

async function call() {
  await attempt("Calling", async () => {
    const outcome = $("callOutcome");
    const got = await json(`/sandbox/phones/${seg(me())}/call`, {
      method: "POST",
      ...withJson({ chatId: chat(), outcome: outcome.value, isVideo: $("callVideo").checked }),
    });
    const ended = outcome.options[outcome.selectedIndex].textContent;
    note(`Call ${String(got.idCall)} to ${chat()} rang, then was ${ended}.`);
  });
}

async function block() {
  await attempt("Blocking", async () => {
    await json(`/sandbox/phones/${seg(me())}/block`, { method: "POST", ...withJson({ chatId: chat() }) });
    note(`Blocked ${chat()}.`);
  });
}

async function postStatus() {
  await attempt("Posting the status", async () => {
    const got = await json(`/sandbox/phones/${seg(me())}/statuses`, {
      method: "POST",
      ...withJson({ message: $("statusText").value, backgroundColor: $("statusColor").value }),
    });
    $("statusText").value = "";
    note(`Posted the status ${String(got.idMessage)}.`);
    watch(me());
  });
}

function statusLine(s) {
  const data = s.messageData || {};
  const text = data.fileMessageData ? `[${String(data.fileMessageData.fileName || "file")}] ` : "";
  const node = el("div", { class: "status", "data-id": String(s.idMessage), "data-chat": String(s.chatId) },
    el("b", {}, String(s.chatId)), ": " + text + String(s.text), " ",
    el("button", {}, "view"));
  const color = String((data.extendedTextMessageData || {}).backgroundColor || "");
  if (/^#[0-9a-fA-F]{6}$/.test(color)) node.style.borderLeftColor = color;
  return node;
}

export async function statuses() {
  const phone = watching();
  if (!phone || !token()) return;
  const got = await json(`/sandbox/phones/${seg(phone)}/statuses`, { headers: auth() }).catch(() => null);
  if (!got) return;
  const drawn = phone + " " + got.statuses.map((s) => s.idMessage).join(" ");
  if (drawn === shown) return;
  shown = drawn;
  const lines = got.statuses.map(statusLine);
  $("statuses").replaceChildren(...(lines.length ? lines : ["–"]));
}

// Viewing a status tells its poster (their statistic shows it read).
function onClick(e) {
  const button = e.target.closest("button");
  if (!button) return;
  const line = button.closest(".status");
  attempt("Viewing the status", async () => {
    await json(`/sandbox/phones/${seg(me())}/statuses/read`, {
      method: "POST",
      ...withJson({ chatId: line.dataset.chat, idMessage: line.dataset.id }),
    });
    note("Viewed the status.");
  });
}

$("call").addEventListener("click", call);
$("block").addEventListener("click", block);
$("postStatus").addEventListener("click", postStatus);
$("statuses").addEventListener("click", onClick);
$("loadStatuses").addEventListener("click", () => {
  watch(me());
  statuses();
});
