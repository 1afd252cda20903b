// What every part of the console's sandbox page shares: element lookup, elements built from
// text (never from markup), and json(), the one function that calls the server. Everything the
// server sends (names, messages, error texts) is set by others: it reaches the page as text only.
// The partner token and the status line are the console's (console.js, loaded before).

export const $ = (id) => document.getElementById(id);
export const seg = encodeURIComponent;
export const token = () => window.fleetgate.token() || "";
export const auth = () => ({ Authorization: "Bearer " + token() });

// The page acts as the phone of the "From phone" box ...
export const me = () => $("fromPhone").value.trim();

// ... in the chat of the "to" box: a group's chatId as it is, a number as that phone's chat.
export function chat() {
  const to = $("toPhone").value.trim();
  return to.includes("@") ? to : to + "@c.us";
}

// The headers and body of a JSON request, to spread after its method.
export function withJson(body) {
  return { headers: { ...auth(), "Content-Type": "application/json" }, body: JSON.stringify(body) };
}

// Why an action failed, on the console's status line ...
export function fail(text) {
  window.fleetgate.say(text, true);
}

// ... or what it did.
export function note(text) {
  window.fleetgate.say(text);
}

// An element with optional class, data- and other properties, and children (strings become
// text nodes, never markup).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.dataset[key.slice(5)] = value;
    else node[key] = value;
  }
  node.append(...children.map((c) => (typeof c === "string" ? document.createTextNode(c) : c)));
  return node;
}

export async function json(url, opts = {}) {
  const r = await fetch(url, opts);
  const body = await r.json().catch(() => null);
  if (r.status === 401 || (body && body.code === 401)) {
    // A request with the partner token, refused: the token was revoked since the sign-in.
    if ("Authorization" in (opts.headers || {})) {
      window.fleetgate.signOut("Your token was not accepted (wrong or revoked); sign in again.");
    }
  }
  if (!r.ok || (body && body.code === 401)) {
    throw new Error(String((body && (body.error || body.description)) || r.status));
  }
  return body;
}

// Run an action of a button; its failure shows on the error line as "<what> failed: <why>".
export async function attempt(what, action) {
  fail("");
  note("");
  try {
    await action();
  } catch (e) {
    fail(what + " failed: " + e.message);
  }
}
