// The console's shared part: the partner token (this tab's session storage only), requests to
// this origin's JSON APIs, the live event stream, and building elements whose text is always
// set through textContent (nothing a user typed is ever parsed as markup).
"use strict";

const TOKEN_KEY = "fleetgate.partnerToken";

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const fleetgate = {
  token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },

  // An element with properties (text, className, href, ...) and children (elements or text).
  el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node[key] = value;
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  },

  say(text, isError = false) {
    const status = document.getElementById("status");
    status.textContent = text;
    status.classList.toggle("error", isError);
  },

  // A JSON request to this origin; with partner: true it carries the partner token as Bearer.
  async api(method, path, { body, partner = false } = {}) {
    const headers = {};
    if (partner) headers.Authorization = "Bearer " + fleetgate.token();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (response.status === 401 && partner) {
      fleetgate.signOut("Your token was not accepted (wrong or revoked); sign in again.");
    }
    if (!response.ok) {
      const message = (data && (data.error || data.description || data.detail)) || response.statusText;
      throw new ApiError(response.status, String(message));
    }
    return data;
  },

  // One server-sent-events stream, read through fetch so the token travels in a header (an
  // EventSource cannot send one). handlers: {eventName(data)}. Reopens when the server ends it.
  stream(path, handlers) {
    const controller = new AbortController();
    let stopped = false;
    const run = async () => {
      let pause = 500;
      while (!stopped) {
        try {
          const response = await fetch(path, {
            headers: { Authorization: "Bearer " + fleetgate.token(), Accept: "text/event-stream" },
            cache: "no-store",
            credentials: "omit",
            signal: controller.signal,
          });
          if (response.status === 401) {
            fleetgate.signOut("Your token was not accepted (wrong or revoked); sign in again.");
            return;
          }
          if (!response.ok) {
            if (handlers.failed) handlers.failed(response.status);
            return;
          }
          pause = 500;
          await fleetgate.readEvents(response.body, handlers);
        } catch (err) {
          if (stopped || err.name === "AbortError") return;
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
        pause = Math.min(pause * 2, 10000);
      }
    };
    run();
    return () => {
      stopped = true;
      controller.abort();
    };
  },

  async readEvents(body, handlers) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) name = line.slice(7);
          else if (line.startsWith("data: ")) data.push(line.slice(6));
        }
        if (data.length && handlers[name]) handlers[name](JSON.parse(data.join("\n")));
      }
    }
  },

  // A state badge: its text is the state, its class picks the colour.
  badge(node, state) {
    node.textContent = state || "deleted";
    node.className = "badge state-" + (state || "deleted");
  },

  signOut(message = "") {
    sessionStorage.removeItem(TOKEN_KEY);
    fleetgate.showSignIn(message);
  },

  showSignIn(message) {
    document.getElementById("app").hidden = true;
    document.getElementById("signout").hidden = true;
    document.getElementById("who").hidden = true;
    document.getElementById("signin").hidden = false;
    document.getElementById("signinError").textContent = message;
    if (fleetgate.stopAll) fleetgate.stopAll();
  },

  showApp() {
    document.getElementById("signin").hidden = true;
    document.getElementById("app").hidden = false;
    document.getElementById("signout").hidden = false;
    document.getElementById("who").hidden = false;
    document.getElementById("token").value = "";
    if (fleetgate.onSignedIn) fleetgate.onSignedIn();
  },

  // Checked by asking for one instance of the partner's list (Z-API GET /instances).
  async signIn(token) {
    const response = await fetch("/instances?page=1&pageSize=1", {
      headers: { Authorization: "Bearer " + token },
      cache: "no-store",
      credentials: "omit",
    });
    if (response.status === 401) return "That token is wrong or was revoked.";
    if (response.status === 429) return "Too many failed attempts; wait a minute and try again.";
    if (!response.ok) return "The server could not check the token (" + response.status + ").";
    sessionStorage.setItem(TOKEN_KEY, token);
    return null;
  },
};

window.fleetgate = fleetgate;

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("signinForm").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = document.getElementById("token").value.trim();
    const problem = await fleetgate.signIn(token);
    if (problem) fleetgate.showSignIn(problem);
    else fleetgate.showApp();
  });
  document.getElementById("signout").addEventListener("click", () => fleetgate.signOut());
  // The page scripts (deferred, after this one) set onSignedIn; start once they have.
  setTimeout(() => (fleetgate.token() ? fleetgate.showApp() : fleetgate.showSignIn("")), 0);
});
