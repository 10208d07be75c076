// The local dashboard: one pane per channel, each following its channel with a ChannelFeed
// (channel-feed.js), so that what was sent before the page opened, or while it was away, is
// replayed, and nothing shows twice.
//
// A pane groups messages by incident: the incident's newest state on top, its remediation logs
// under it (the newest state of each), and every message it received in an expandable history.
// The incident whose latest message is newest comes first. Who is connected to the channel is
// listed in its header. The toolbar's filters only hide incidents; pause holds new messages
// back until resume; clear empties the panes (a replay never brings cleared messages back, a
// reload does).
//
// Signing in: identity.json (written by the local stack) names the demo personas and where to
// get a token for one. Each connection attempt fetches a fresh token; switching persona
// reconnects every pane and forgets what the other persona was shown.
"use strict";

const APIS_URL = "/_emulator/apis";
const IDENTITY_URL = "identity.json";
const CHANNEL_TAG = "incident-websocket:channel";
const CLIENT_ID = "dashboard";
const ALL_ACCOUNTS = "*";
const MAX_INCIDENTS_PER_PANE = 200;
const MAX_MESSAGES_PER_INCIDENT = 100;
const MAX_NOTICES = 5;

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
  const view = new View();
  const container = document.getElementById("channels");
  const channels = apis
    .map((api) => ({ name: api.tags[CHANNEL_TAG] ?? api.apiName, url: api.url }))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const channel of channels) {
    const pane = new ChannelPane(channel, session, view);
    container.append(pane.element);
    pane.start();
  }
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

// -----------------------------------------------------------------------------------------------
// Who the dashboard connects as: the persona picked in the header (or in `?persona=`).
// -----------------------------------------------------------------------------------------------

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

// -----------------------------------------------------------------------------------------------
// The toolbar: filters, pause and clear, shared by every pane.
// -----------------------------------------------------------------------------------------------

class View {
  constructor() {
    this.panes = [];
    this.paused = false;
    this.account = document.getElementById("filter-account");
    this.region = document.getElementById("filter-region");
    this.severity = document.getElementById("filter-severity");
    this.text = document.getElementById("filter-text");
    this.pauseButton = document.getElementById("pause");
    for (const control of [this.account, this.region, this.severity]) {
      control.addEventListener("change", () => this.refilter());
    }
    this.text.addEventListener("input", () => this.refilter());
    this.pauseButton.addEventListener("click", () => this.setPaused(!this.paused));
    document.getElementById("clear").addEventListener("click", () => {
      this.panes.forEach((pane) => pane.clear());
    });
    document.getElementById("toolbar").addEventListener("submit", (e) => e.preventDefault());
  }

  add(pane) {
    this.panes.push(pane);
  }

  filters() {
    return {
      account: this.account.value,
      region: this.region.value,
      severityRank: this.severity.value === "" ? null : SEVERITIES.indexOf(this.severity.value),
      text: this.text.value.trim().toLowerCase(),
    };
  }

  refilter() {
    this.panes.forEach((pane) => pane.refilter());
  }

  // Accounts and regions become filter options as messages bring them.
  offer(account, region) {
    addOption(this.account, account);
    addOption(this.region, region);
  }

  setPaused(paused) {
    this.paused = paused;
    this.pauseButton.setAttribute("aria-pressed", String(paused));
    document.body.dataset.paused = String(paused);
    if (!paused) this.panes.forEach((pane) => pane.resume());
    this.showWaiting();
  }

  showWaiting() {
    const waiting = this.panes.reduce((sum, pane) => sum + pane.pending.length, 0);
    this.pauseButton.textContent = this.paused ? `Resume (${waiting} waiting)` : "Pause";
  }
}

function addOption(select, value) {
  if (typeof value !== "string" || value === "") return;
  const options = [...select.options].slice(1);
  if (options.some((option) => option.value === value)) return;
  const option = element("option", null, value);
  option.value = value;
  const before = options.find((other) => other.value > value) ?? null;
  select.insertBefore(option, before);
}

// -----------------------------------------------------------------------------------------------
// One channel: its feed, its incidents and who is online.
// -----------------------------------------------------------------------------------------------

class ChannelPane {
  constructor(channel, session, view) {
    this.channel = channel;
    this.session = session;
    this.view = view;
    this.incidents = new Map(); // group key → IncidentGroup
    this.pending = []; // messages held back while paused
    this.members = new Map(); // member key → member
    this.messageCount = 0;

    const template = document.getElementById("channel-template");
    this.element = template.content.firstElementChild.cloneNode(true);
    this.element.dataset.channel = channel.name;
    this.part(".channel-name").textContent = channel.name;
    this.part(".channel-url").textContent = channel.url;
    this.badge = this.part(".state");
    this.list = this.part(".incidents");

    this.feed = new ChannelFeed(channel.url, {
      token: () => session.token(),
      clientId: CLIENT_ID,
      on: {
        state: (state, delay) => this.setState(state, delay),
        message: (message, { replayed }) => this.receive(message, replayed),
        replayed: (count) => this.showReplayed(count),
        presence: (message) => this.presence(message),
        ping: (message) => this.showPing(message),
        other: (message) => this.notice(message),
      },
    });
    view.add(this);
    session.onSwitch(() => this.restart());
  }

  part(selector) {
    return this.element.querySelector(selector);
  }

  start() {
    this.feed.start();
  }

  restart() {
    delete this.element.dataset.persona;
    this.clear();
    this.members.clear();
    this.renderMembers();
    this.part(".last-ping").textContent = "never";
    this.part(".replayed").textContent = "";
    this.feed.restart();
  }

  setState(state, delay) {
    this.badge.dataset.state = state;
    this.badge.textContent =
      state === "reconnecting" ? `reconnecting in ${(delay / 1000).toFixed(1)} s` : state;
    if (state === "open") this.element.dataset.persona = this.session.persona?.name ?? "";
    if (state === "open") this.part(".replayed").textContent = "replaying…";
  }

  showReplayed(count) {
    const what = count === 1 ? "1 message" : `${count} messages`;
    this.part(".replayed").textContent = `replayed ${what}`;
  }

  showPing(message) {
    this.part(".last-ping").replaceChildren(timeElement(epochMillis(message.timestamp)));
  }

  notice(message) {
    const notices = this.part(".notices");
    const text = message.text ?? JSON.stringify(message);
    notices.prepend(element("li", "notice", text));
    while (notices.children.length > MAX_NOTICES) notices.lastElementChild.remove();
  }

  // -- Messages ----------------------------------------------------------------------------------

  receive(message, replayed) {
    const entry = { message, replayed, receivedAt: Date.now() };
    if (this.view.paused) {
      this.pending.push(entry);
      this.view.showWaiting();
      return;
    }
    this.show(entry);
  }

  resume() {
    const pending = this.pending;
    this.pending = [];
    pending.forEach((entry) => this.show(entry));
  }

  show(entry) {
    const { message } = entry;
    this.view.offer(message.account, message.region);
    const key = groupKey(message);
    let group = this.incidents.get(key);
    if (!group) {
      group = new IncidentGroup(key);
      this.incidents.set(key, group);
    }
    group.add(entry);
    this.messageCount += 1;
    this.place(group);
    group.applyFilters(this.view.filters());
    this.dropOldest();
    this.showCounts();
  }

  // Newest activity on top: groups are ordered by the newest message id they hold.
  place(group) {
    const after = [...this.list.children].find(
      (node) => node !== group.element && this.incidents.get(node.dataset.key)?.newestId < group.newestId,
    );
    this.list.insertBefore(group.element, after ?? null);
  }

  dropOldest() {
    while (this.incidents.size > MAX_INCIDENTS_PER_PANE) {
      const oldest = this.list.lastElementChild;
      this.incidents.delete(oldest.dataset.key);
      oldest.remove();
    }
  }

  refilter() {
    const filters = this.view.filters();
    this.incidents.forEach((group) => group.applyFilters(filters));
    this.showCounts();
  }

  clear() {
    this.incidents.clear();
    this.list.replaceChildren();
    this.pending = [];
    this.messageCount = 0;
    this.part(".notices").replaceChildren();
    this.showCounts();
    this.view.showWaiting();
  }

  showCounts() {
    const hidden = [...this.incidents.values()].filter((group) => group.element.hidden).length;
    this.part(".incident-count").textContent = String(this.incidents.size);
    this.part(".message-count").textContent = String(this.messageCount);
    this.part(".hidden-count").textContent = hidden ? ` · ${hidden} hidden by the filters` : "";
  }

  // -- Who is online -----------------------------------------------------------------------------

  presence(message) {
    if (message.type === "presence_members") {
      this.members = new Map(message.members.map((member) => [memberKey(member), member]));
      this.part(".members").dataset.truncated = String(Boolean(message.truncated));
    } else if (message.event === "online") {
      this.members.set(memberKey(message), message);
    } else if (message.event === "offline") {
      this.members.delete(memberKey(message));
      this.part(".presence-last").textContent =
        `${message.clientId} went offline (${message.reason ?? "unknown"})`;
    }
    this.renderMembers();
  }

  renderMembers() {
    const members = [...this.members.values()].sort(
      (a, b) => String(a.since).localeCompare(String(b.since)) || a.clientId.localeCompare(b.clientId),
    );
    this.part(".member-count").textContent = String(members.length);
    this.part(".members").replaceChildren(
      ...members.map((member) => {
        const chip = element("li", "member", member.clientId);
        chip.dataset.clientId = member.clientId;
        const where = [member.account, member.region].filter(Boolean).join(", ");
        chip.title = `${where || "all accounts"}; online since ${formatDateTime(Date.parse(member.since))}`;
        return chip;
      }),
    );
  }
}

function memberKey(member) {
  return [member.clientId, member.since, member.account, member.region].join("|");
}

// Messages about one incident share its id; a remediation log without one stands alone.
function groupKey(message) {
  if (message.incident_id != null) return `incident:${message.incident_id}`;
  return `message:${message.id ?? Math.random()}`;
}

// -----------------------------------------------------------------------------------------------
// One incident: its newest state, its remediation logs, its history.
// -----------------------------------------------------------------------------------------------

class IncidentGroup {
  constructor(key) {
    this.key = key;
    this.entries = []; // newest first
    this.newestId = "";
    this.element = element("li", "incident");
    this.element.dataset.key = key;
  }

  add(entry) {
    const id = entry.message.id ?? "";
    const at = this.entries.findIndex((other) => (other.message.id ?? "") < id);
    this.entries.splice(at === -1 ? this.entries.length : at, 0, entry);
    this.entries.length = Math.min(this.entries.length, MAX_MESSAGES_PER_INCIDENT);
    if (id > this.newestId) this.newestId = id;
    this.render();
  }

  // The newest incident message, or null when only remediation logs arrived (a channel that
  // routes no incidents, or a log before its incident).
  get incident() {
    return this.entries.find((entry) => entry.message.type === "incident")?.message ?? null;
  }

  // The newest state of each remediation log, newest first.
  get remediations() {
    const latest = new Map();
    for (const entry of this.entries) {
      const message = entry.message;
      if (message.type !== "remediation") continue;
      const key = message.data?.entry_id ?? `${message.action}|${message.target}`;
      if (!latest.has(key)) latest.set(key, entry);
    }
    return [...latest.values()];
  }

  get latest() {
    return this.entries[0].message;
  }

  render() {
    const incident = this.incident;
    const latest = this.latest;
    const node = this.element;
    const severity = String(incident?.severity ?? "").toLowerCase();
    node.dataset.incidentId = latest.incident_id ?? "";
    node.dataset.severity = SEVERITIES.includes(severity) ? severity : "unknown";
    node.dataset.status = String(incident?.status ?? "").toLowerCase();
    node.dataset.account = latest.account ?? "";
    node.dataset.region = latest.region ?? "";
    const historyOpen = node.querySelector(".history")?.open ?? false;

    const head = element("p", "headline");
    if (incident) {
      head.append(
        badge("severity", incident.severity ?? "UNKNOWN"),
        element("span", "title", incident.title ?? incident.incident_id),
        badge("status", incident.status ?? "no status"),
      );
    } else {
      const title = latest.incident_id ? `incident ${latest.incident_id}` : "remediation";
      head.append(element("span", "title", title));
    }
    const facts = details([
      ["incident", latest.incident_id],
      ["source", incident?.data?.source],
      ["resource", incident?.resource],
      ["account", latest.account],
      ["region", latest.region],
    ]);
    const parts = [head, facts];
    if (incident) parts.push(timing(this.entries.find((e) => e.message === incident)));
    if (incident?.truncated) parts.push(element("p", "note", "data truncated (over 128 KB)"));
    const remediations = this.remediations;
    if (remediations.length) {
      parts.push(element("ul", "remediations"));
      parts.at(-1).append(...remediations.map(remediationRow));
    }
    parts.push(historyList(this.entries, historyOpen));
    node.replaceChildren(...parts);
  }

  applyFilters({ account, region, severityRank, text }) {
    const latest = this.latest;
    const rank = SEVERITIES.indexOf(this.element.dataset.severity);
    this.element.hidden = !(
      (!account || latest.account === account) &&
      (!region || latest.region === region) &&
      (severityRank === null || (rank !== -1 && rank <= severityRank)) &&
      (!text || this.entries.some((e) => JSON.stringify(e.message).toLowerCase().includes(text)))
    );
  }
}

function remediationRow(entry) {
  const message = entry.message;
  const row = element("li", "remediation");
  row.dataset.status = String(message.status ?? "unknown").toLowerCase();
  row.dataset.action = message.action ?? "";
  const line = element("p", "headline");
  line.append(
    badge("remediation-status", message.status ?? "UNKNOWN"),
    element("span", "action", `${message.action} → ${message.target ?? "?"}`),
  );
  row.append(line, timing(entry));
  return row;
}

function historyList(entries, open) {
  const history = element("details", "history");
  history.open = open;
  const count = entries.length === 1 ? "1 message" : `${entries.length} messages`;
  history.append(element("summary", null, `History · ${count}`));
  const list = element("ol", "history-entries");
  for (const entry of entries) {
    const message = entry.message;
    const row = element("li", "history-entry");
    row.dataset.messageId = message.id ?? "";
    row.dataset.type = message.type;
    const what =
      message.type === "incident"
        ? `incident ${message.event}: ${message.severity ?? "?"}, ${message.status ?? "no status"}`
        : `remediation ${message.event}: ${message.action} ${message.status ?? ""}`;
    row.append(element("span", "what", what), timing(entry));
    list.append(row);
  }
  history.append(list);
  return history;
}

// When the item says it happened, and how long after that the dashboard received it.
function timing(entry) {
  const line = element("p", "timing");
  const when = itemTime(entry.message);
  if (when === null) {
    line.append(element("span", "latency", "no item time"));
    return line;
  }
  const latency = element("span", "latency");
  latency.dataset.replayed = String(entry.replayed);
  const elapsed = formatLatency(entry.receivedAt - when.millis, when.precision);
  latency.textContent = entry.replayed ? `replayed ${elapsed} after its time` : `delivered in ${elapsed}`;
  line.append(timeElement(when.millis), element("span", "separator", " · "), latency);
  return line;
}

// -----------------------------------------------------------------------------------------------
// Times: items carry epoch seconds, epoch milliseconds or ISO 8601 text.
// -----------------------------------------------------------------------------------------------

// The message's time (`timestamp`: the item's `timestamp`, else `updated_at`, else
// `created_at`), in epoch milliseconds, and whether it is precise to the second or better.
function itemTime(message) {
  const value = message.timestamp ?? message.data?.updated_at ?? message.data?.created_at;
  if (typeof value === "number" || (typeof value === "string" && /^\d+(\.\d+)?$/.test(value))) {
    const number = Number(value);
    if (number > 1e12) return { millis: number, precision: "ms" };
    return { millis: number * 1000, precision: Number.isInteger(number) ? "s" : "ms" };
  }
  if (typeof value !== "string") return null;
  const millis = Date.parse(value);
  if (Number.isNaN(millis)) return null;
  return { millis, precision: /T\d\d:\d\d:\d\d\.\d/.test(value) ? "ms" : "s" };
}

function epochMillis(value) {
  if (typeof value !== "number") return Date.parse(value);
  return value > 1e12 ? value : value * 1000;
}

// An item time in whole seconds was cut to the second: the latency is known to a second.
function formatLatency(millis, precision) {
  if (millis < 0) {
    return `${formatDuration(-millis, precision)} before its time (the writer's clock is ahead)`;
  }
  if (precision === "s" && millis < 1000) return "under a second";
  return formatDuration(millis, precision);
}

function formatDuration(millis, precision) {
  if (millis < 1000 && precision === "ms") return `${Math.round(millis)} ms`;
  const seconds = millis / 1000;
  if (seconds < 10 && precision === "ms") return `${seconds.toFixed(1)} s`;
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = seconds / 60;
  if (minutes < 90) return `${Math.round(minutes)} min`;
  const hours = minutes / 60;
  if (hours < 36) return `${Math.round(hours)} h`;
  return `${Math.round(hours / 24)} d`;
}

// `2026-12-01 17:20:13` in the browser's time zone; the tooltip has the UTC ISO time.
function formatDateTime(millis) {
  if (Number.isNaN(millis)) return "?";
  const d = new Date(millis);
  const pad = (n) => String(n).padStart(2, "0");
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${date} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function timeElement(millis) {
  const node = element("time", null, formatDateTime(millis));
  if (!Number.isNaN(millis)) {
    node.dateTime = new Date(millis).toISOString();
    node.title = node.dateTime;
  }
  return node;
}

// -----------------------------------------------------------------------------------------------
// DOM helpers
// -----------------------------------------------------------------------------------------------

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

main();
