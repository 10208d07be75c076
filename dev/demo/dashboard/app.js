// One pane per channel: the emulator lists every WebSocket API stage it serves, and the module
// tags each channel's API with its channel name. Every pane keeps its own WebSocket open and
// reconnects with exponential backoff. Messages are shown newest first.
//
// Signing in: identity.json (written by the local stack) names the demo personas and where to
// get a token for one. Each connection attempt fetches a fresh token and presents it as the
// `token` query parameter; switching persona reconnects every pane with the new one.
"use strict";

const APIS_URL = "/_emulator/apis";
const IDENTITY_URL = "identity.json";
const CHANNEL_TAG = "incident-websocket:channel";
const CLIENT_ID = "dashboard";
const ALL_ACCOUNTS = "*";
const MAX_MESSAGES = 200;
const BACKOFF_INITIAL_MS = 500;
const BACKOFF_MAX_MS = 30000;

const SEVERITIES = ["critical", "high", "medium", "low", "informational"];

async function main() {
  const status = document.getElementById("status");
  let apis;
  try {
    const response = await fetch(APIS_URL, { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    apis = (await response.json()).apis;
  } catch (error) {
    status.textContent = `Could not load ${APIS_URL}: ${error.message}`;
    status.classList.add("error");
    return;
  }
  status.remove();
  const session = new Session(await loadIdentity());
  const container = document.getElementById("channels");
  const channels = apis
    .map((api) => ({ name: api.tags[CHANNEL_TAG] ?? api.apiName, url: api.url }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const panes = channels.map((channel) => new ChannelPane(channel, session));
  for (const pane of panes) {
    container.append(pane.element);
    pane.connect();
  }
  session.onSwitch(() => panes.forEach((pane) => pane.restart()));
}

// identity.json, or null when the stack has none (every channel is then open to anyone).
async function loadIdentity() {
  try {
    const response = await fetch(IDENTITY_URL, { cache: "no-store" });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

// Who the dashboard connects as: the persona picked in the header (or in `?persona=`).
class Session {
  constructor(identity) {
    this.tokenUrl = identity?.tokenUrl ?? null;
    this.personas = this.tokenUrl ? identity.personas : [];
    const wanted = new URLSearchParams(location.search).get("persona") ?? identity?.defaultPersona;
    this.persona = this.personas.find((p) => p.name === wanted) ?? this.personas[0] ?? null;
    this.listeners = [];
    this.form = document.getElementById("identity");
    this.select = document.getElementById("persona");
    if (this.persona) this.renderForm();
  }

  renderForm() {
    for (const persona of this.personas) {
      const option = element("option", null, persona.label);
      option.value = persona.name;
      this.select.append(option);
    }
    this.select.addEventListener("change", () => this.switchTo(this.select.value));
    this.form.addEventListener("submit", (event) => event.preventDefault());
    this.form.hidden = false;
    this.show();
  }

  show() {
    const persona = this.persona;
    this.select.value = persona.name;
    this.form.dataset.persona = persona.name;
    document.getElementById("principal").textContent = persona.principal;
    document.getElementById("scope").textContent = describeScope(persona.accounts);
    document.getElementById("persona-description").textContent = `(${persona.description})`;
  }

  switchTo(name) {
    const persona = this.personas.find((p) => p.name === name);
    if (!persona || persona === this.persona) return;
    this.persona = persona;
    const url = new URL(location.href);
    url.searchParams.set("persona", name);
    history.replaceState(null, "", url);
    this.show();
    this.listeners.forEach((listener) => listener());
  }

  onSwitch(listener) {
    this.listeners.push(listener);
  }

  // A fresh token of the current persona, or null when the stack asks for none.
  async token() {
    if (!this.persona) return null;
    const url = new URL(this.tokenUrl);
    url.searchParams.set("persona", this.persona.name);
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) throw new Error(`token: HTTP ${response.status}`);
    return (await response.json()).token;
  }
}

function describeScope(accounts) {
  return accounts.includes(ALL_ACCOUNTS) ? "all accounts" : `account ${accounts.join(", ")}`;
}

class ChannelPane {
  constructor(channel, session) {
    this.channel = channel;
    this.session = session;
    this.attempt = 0;
    this.count = 0;
    this.generation = 0; // bumped on a persona switch: older sockets and timers stand down
    this.socket = null;
    this.timer = null;

    const template = document.getElementById("channel-template");
    this.element = template.content.firstElementChild.cloneNode(true);
    this.element.dataset.channel = channel.name;
    this.element.querySelector(".channel-name").textContent = channel.name;
    this.element.querySelector(".channel-url").textContent = channel.url;
    this.badge = this.element.querySelector(".state");
    this.list = this.element.querySelector(".messages");
    this.counter = this.element.querySelector(".count");
    this.lastPing = this.element.querySelector(".last-ping");
  }

  async connect() {
    const generation = this.generation;
    this.setState("connecting");
    let token;
    try {
      token = await this.session.token();
    } catch {
      if (generation === this.generation) this.scheduleReconnect();
      return;
    }
    if (generation !== this.generation) return;
    const url = new URL(this.channel.url);
    url.searchParams.set("clientId", CLIENT_ID);
    if (token) url.searchParams.set("token", token);
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.element.dataset.persona = this.session.persona?.name ?? "";
      this.setState("open");
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", () => {
      if (this.socket === socket) this.scheduleReconnect();
    });
  }

  // Another persona: close this one's socket, forget what it was shown, connect anew.
  restart() {
    this.generation += 1;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close(1000, "switching persona");
    this.attempt = 0;
    this.count = 0;
    this.counter.textContent = "0";
    this.lastPing.textContent = "never";
    this.list.replaceChildren();
    delete this.element.dataset.persona;
    this.connect();
  }

  scheduleReconnect() {
    // Jitter: a restarted emulator is not hit by every pane at the same instant.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** this.attempt);
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.attempt += 1;
    this.setState("reconnecting", `reconnecting in ${(delay / 1000).toFixed(1)} s`);
    const generation = this.generation;
    this.timer = setTimeout(() => {
      if (generation === this.generation) this.connect();
    }, delay);
  }

  setState(state, label = state) {
    this.badge.dataset.state = state;
    this.badge.textContent = label;
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      message = { type: "text", text };
    }
    if (message.type === "ping") {
      this.lastPing.textContent = formatTime(message.timestamp);
    }
    this.count += 1;
    this.counter.textContent = String(this.count);
    this.list.prepend(renderMessage(message));
    while (this.list.children.length > MAX_MESSAGES) this.list.lastElementChild.remove();
  }
}

function renderMessage(message) {
  const item = element("li", "message");
  item.dataset.type = message.type || "unknown";
  const render = RENDERERS[message.type] || renderUnknown;
  render(item, message);
  return item;
}

const RENDERERS = {
  incident(item, message) {
    const severity = String(message.severity || "unknown").toLowerCase();
    item.dataset.severity = SEVERITIES.includes(severity) ? severity : "unknown";
    if (message.incident_id != null) item.dataset.incidentId = message.incident_id;
    item.append(
      headline(
        badge("severity", message.severity || "UNKNOWN"),
        message.title || message.incident_id,
      ),
      details([
        ["incident", message.incident_id],
        ["source", message.data?.source],
        ["event", message.event],
        ["status", message.status],
        ["resource", message.resource],
        ["account", message.account],
        ["region", message.region],
        ["time", formatTime(message.timestamp)],
      ]),
    );
    if (message.truncated) item.append(element("p", "note", "data truncated (over 128 KB)"));
  },

  remediation(item, message) {
    const status = String(message.status || "unknown").toLowerCase();
    item.dataset.status = status;
    item.append(
      headline(
        badge("remediation", message.status || "UNKNOWN"),
        `${message.action} → ${message.target ?? "?"}`,
      ),
      details([
        ["incident", message.incident_id],
        ["event", message.event],
        ["account", message.account],
        ["region", message.region],
        ["time", formatTime(message.timestamp)],
      ]),
    );
  },

  ping(item, message) {
    item.append(element("span", "ping", `ping · ${formatTime(message.timestamp)}`));
  },
};

function renderUnknown(item, message) {
  item.append(element("pre", "raw", message.text ?? JSON.stringify(message, null, 2)));
}

function headline(badgeElement, text) {
  const line = element("p", "headline");
  line.append(badgeElement, element("span", "title", text ?? ""));
  return line;
}

function badge(kind, text) {
  return element("span", `badge ${kind}`, String(text));
}

function details(pairs) {
  const list = element("dl", "details");
  for (const [name, value] of pairs) {
    if (value == null || value === "") continue;
    list.append(element("dt", null, name), element("dd", null, String(value)));
  }
  return list;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

// Accepts epoch seconds, epoch milliseconds or an ISO 8601 string.
function formatTime(value) {
  if (value == null || value === "") return "";
  let date;
  if (typeof value === "number") {
    date = new Date(value > 1e12 ? value : value * 1000);
  } else {
    date = new Date(value);
  }
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleTimeString();
}

main();
