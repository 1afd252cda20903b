// The page's phone's conversation: what it received and sent, as the server lists it (edits,
// deletions, reactions and votes already shown on the message they change), and the buttons
// that edit, delete, react and vote. The server takes these actions in chats with a number.
import { $, attempt, auth, el, json, me, seg, token, withJson } from "./sandbox-lib.js";

// Messages that change another one: they show on the message they change, not apart.
const CHANGES = new Set(["editedMessage", "deletedMessage", "reactionMessage", "pollUpdateMessage"]);
const TEXTS = new Set(["textMessage", "extendedTextMessage", "quotedMessage"]);
const REACTIONS = ["👍", "❤️", "😂"];

let watched = "";
let shown = "";
const texts = new Map(); // idMessage -> its text, for the edit box
let editing = null; // { chatId, idMessage } of the message being edited
let followed = () => {};

// What to do when the page follows another phone (sandbox.js opens the page's stream for it).
export function onWatch(then) {
  followed = then;
}

export function watch(phone) {
  if (phone === watched) return;
  watched = phone;
  followed();
}

export function watching() {
  return watched;
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

// A file: its name as the text of a download link, and its caption. A picture of this origin
// also shows small: an <img> loads it (img-src 'self'; the download route's headers,
// attachment, nosniff and a policy that runs nothing, stay as they are).
function fileParts(m) {
  const data = m.messageData.fileMessageData;
  const name = String(data.fileName || "file");
  const link = webLink(data.downloadUrl);
  const parts = [link ? el("a", { href: link.href, download: name, rel: "noopener" }, name) : name];
  if (data.caption) parts.push(" " + String(data.caption));
  const picture = m.typeMessage === "imageMessage" && /^image\//.test(String(data.mimeType));
  if (link && picture && link.origin === location.origin) {
    parts.push(el("img", { class: "preview", alt: name, src: link.href }));
  }
  return parts;
}

// A poll: an option box each (one answer or several, as the poll says), the votes counted so
// far, and a button that votes.
function pollParts(m, poll) {
  const counts = new Map((m.votes || []).map((v) => [String(v.optionName), (v.optionVoters || []).length]));
  const kind = poll.multipleAnswers ? "checkbox" : "radio";
  const options = (poll.options || []).map((o) => {
    const name = String(o.optionName);
    const count = counts.has(name) ? ` (${counts.get(name)})` : "";
    return el("label", { class: "option" },
      el("input", { type: kind, name: "poll-" + m.idMessage, value: name }), name + count);
  });
  return [String(poll.name || ""), ...options, el("button", { "data-act": "vote" }, "vote")];
}

function actionButtons(m) {
  const buttons = [];
  if (m.isDeleted || !String(m.chatId).endsWith("@c.us")) return buttons;
  for (const emoji of REACTIONS) buttons.push(el("button", { "data-act": "react", "data-reaction": emoji }, emoji));
  if ((m.reactions || {})[me() + "@c.us"]) {
    buttons.push(el("button", { "data-act": "react", "data-reaction": "" }, "take back"));
  }
  if (m.fromMe && TEXTS.has(m.typeMessage)) buttons.push(el("button", { "data-act": "edit" }, "edit"));
  if (m.fromMe) buttons.push(el("button", { "data-act": "delete" }, "delete"));
  return buttons;
}

function line(m) {
  const chatId = String(m.chatId);
  const who = m.fromMe ? "me → " + chatId
    : chatId.endsWith("@g.us") ? String(m.sender) + " in " + chatId : chatId;
  const data = m.messageData || {};
  let body = [String(m.text)];
  if (data.fileMessageData) body = fileParts(m);
  else if (m.typeMessage === "pollMessage" && data.pollMessageData) body = pollParts(m, data.pollMessageData);
  const classes = ["msg", data.fileMessageData ? "file" : "", m.fromMe ? "mine" : "", m.isDeleted ? "deleted" : ""];
  const node = el("div", { class: classes.filter(Boolean).join(" "), "data-id": String(m.idMessage), "data-chat": chatId },
    el("b", {}, who), ": ", ...body);
  if (m.isEdited) node.append(el("span", { class: "muted" }, " (edited)"));
  if (m.isDeleted) node.append(el("span", { class: "muted" }, " (deleted)"));
  const reactions = Object.entries(m.reactions || {});
  if (reactions.length) {
    node.append(el("span", { class: "reactions" },
      ...reactions.map(([sender, emoji]) => el("span", { title: String(sender) }, String(emoji)))));
  }
  node.append(el("span", { class: "actions" }, ...actionButtons(m)));
  return node;
}

export async function conversation() {
  const phone = watched;
  if (!phone || !token()) return;
  const got = await json(`/sandbox/phones/${seg(phone)}/conversation?limit=40`, { headers: auth() })
    .catch(() => null);
  if (!got) return;
  // Drawn again only when it changed: a link under the pointer stays put, a preview loads once,
  // a poll's ticked boxes stay ticked. Every change is a message of its own, so ids tell.
  const drawn = phone + " " + got.messages.map((m) => m.idMessage).join(" ");
  if (drawn === shown) return;
  shown = drawn;
  texts.clear();
  const lines = [];
  for (const m of got.messages) {
    texts.set(String(m.idMessage), String(m.text));
    if (!CHANGES.has(m.typeMessage)) lines.push(line(m));
  }
  $("inbox").replaceChildren(...(lines.length ? lines : ["–"]));
}

// Each action of the phone on a message; the conversation shows its effect next.
const ACTIONS = {
  edit: (body) => json(`/sandbox/phones/${seg(me())}/edit`, { method: "POST", ...withJson(body) }),
  delete: (body) => json(`/sandbox/phones/${seg(me())}/delete`, { method: "POST", ...withJson(body) }),
  react: (body) => json(`/sandbox/phones/${seg(me())}/react`, { method: "POST", ...withJson(body) }),
  vote: (body) => json(`/sandbox/phones/${seg(me())}/vote`, { method: "POST", ...withJson(body) }),
};

async function act(action, body) {
  await ACTIONS[action](body);
  watch(me());
  conversation();
}

function onClick(e) {
  const button = e.target.closest("button[data-act]");
  if (!button) return;
  const msg = button.closest(".msg");
  const target = { chatId: msg.dataset.chat, idMessage: msg.dataset.id };
  const kind = button.dataset.act;
  if (kind === "edit") {
    editing = target;
    $("editText").value = texts.get(target.idMessage) || "";
    $("editBar").hidden = false;
    $("editText").focus();
  } else if (kind === "react") {
    attempt("React", () => act("react", { ...target, reaction: button.dataset.reaction }));
  } else if (kind === "delete") {
    attempt("Delete", () => act("delete", target));
  } else if (kind === "vote") {
    const options = [...msg.querySelectorAll("input:checked")].map((i) => i.value);
    attempt("Vote", () => act("vote", { ...target, options }));
  }
}

function stopEditing() {
  editing = null;
  $("editBar").hidden = true;
}

$("inbox").addEventListener("click", onClick);
$("saveEdit").addEventListener("click", () => attempt("Edit", async () => {
  if (!editing) throw new Error("pick a message to edit first");
  await act("edit", { ...editing, message: $("editText").value });
  stopEditing();
}));
$("cancelEdit").addEventListener("click", stopEditing);
