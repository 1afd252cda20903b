// The page's phone's groups: create one with members, add and remove members, make them admins
// or not, leave, and pick a group to write in (its chatId goes to the "to" box).
import { $, attempt, auth, el, json, me, note, seg, token, withJson } from "./sandbox-lib.js";
import { watch, watching } from "./sandbox-chat.js";

let shown = "";

// A number typed as digits, or a chatId as it is.
const chatOf = (text) => (text.includes("@") ? text : text + "@c.us");

function memberButtons(p) {
  const buttons = [];
  if (!p.isSuperAdmin) {
    buttons.push(p.isAdmin ? el("button", { "data-act": "demote" }, "demote")
      : el("button", { "data-act": "promote" }, "make admin"));
    buttons.push(el("button", { "data-act": "remove" }, "remove"));
  }
  return buttons;
}

function groupBox(g, own) {
  const admin = g.participants.some((p) => p.id === own && p.isAdmin);
  const members = g.participants.map((p) => {
    const role = p.isSuperAdmin ? " (owner)" : p.isAdmin ? " (admin)" : "";
    const buttons = admin && p.id !== own ? memberButtons(p) : [];
    return el("li", { "data-member": String(p.id) }, String(p.id) + role, " ", ...buttons);
  });
  const adding = admin
    ? [el("input", { class: "addMember", size: 16, placeholder: "number to add" }),
       " ", el("button", { "data-act": "add" }, "add member")]
    : [];
  return el("div", { class: "group", "data-group": String(g.groupId) },
    el("b", { class: "subject" }, String(g.subject)), " ",
    el("span", { class: "muted" }, String(g.groupId)), " ",
    el("button", { "data-act": "write" }, "write here"), " ",
    el("button", { "data-act": "leave" }, "leave"),
    el("ul", {}, ...members), ...adding);
}

export async function groups() {
  const phone = watching();
  if (!phone || !token()) return;
  const got = await json(`/sandbox/phones/${seg(phone)}/groups`, { headers: auth() }).catch(() => null);
  if (!got) return;
  // Drawn again only when a group changed: a number being typed in a box stays.
  const drawn = phone + JSON.stringify(got.groups);
  if (drawn === shown) return;
  shown = drawn;
  const boxes = got.groups.map((g) => groupBox(g, phone + "@c.us"));
  $("groups").replaceChildren(...(boxes.length ? boxes : ["–"]));
}

async function create() {
  await attempt("Creating the group", async () => {
    const chatIds = $("groupMembers").value.split(/[\s,]+/).filter(Boolean).map(chatOf);
    const made = await json(`/sandbox/phones/${seg(me())}/groups`, {
      method: "POST",
      ...withJson({ groupName: $("groupName").value, chatIds }),
    });
    $("groupName").value = "";
    $("groupMembers").value = "";
    note("Created the group " + String(made.chatId));
    watch(me());
    await groups();
  });
}

// A change of a group: the server answers whether it was done, and why not.
async function change(groupId, action, body) {
  const got = await json(`/sandbox/phones/${seg(me())}/groups/${seg(groupId)}/${seg(action)}`, {
    method: "POST",
    ...withJson(body),
  });
  if (!got.done) throw new Error(String(got.reason));
  await groups();
}

function onClick(e) {
  const button = e.target.closest("button[data-act]");
  if (!button) return;
  const box = button.closest(".group");
  const groupId = box.dataset.group;
  const kind = button.dataset.act;
  if (kind === "write") {
    $("toPhone").value = groupId;
    $("text").focus();
  } else if (kind === "leave") {
    attempt("Leaving", () => change(groupId, "leave", {}));
  } else if (kind === "add") {
    const number = box.querySelector(".addMember").value.trim();
    attempt("Adding", () => change(groupId, "add", { participantChatId: chatOf(number) }));
  } else {
    const member = button.closest("li").dataset.member;
    attempt("Changing the member", () => change(groupId, kind, { participantChatId: member }));
  }
}

$("createGroup").addEventListener("click", create);
$("groups").addEventListener("click", onClick);
$("loadGroups").addEventListener("click", () => {
  watch(me());
  groups();
});
