// The client side of a channel, written to be copied: every incident and remediation log once,
// none missed across reconnects.
//
// On every (re)connect it asks the channel to replay what it missed: the newest `first`
// messages the first time, then everything after the last id it received (`since`). A
// `replay_truncated` marker means there is more: it asks again from there. Ids already seen are
// dropped (a live message may also come back in a replay). Between attempts it waits a random
// time up to 1 s, 2 s, 4 s … 30 s (exponential backoff with full jitter), so that a restarted
// channel is not hit by every client at once.
//
// It also asks for the channel's members on every open (`presence_members`), and hands on the
// `presence` events that follow; their ids come from another stream and are never resume points.
"use strict";

const FEED_FIRST_REPLAY = 100;
const FEED_REMEMBERED_IDS = 10000;
const FEED_RETRY_REPLAY_MS = 5000;
const FEED_BACKOFF_BASE_MS = 1000;
const FEED_BACKOFF_MAX_MS = 30000;
const FEED_SUBPROTOCOL = "incident-websocket";

class ChannelFeed {
  // `token`: an async function that returns a fresh token, or null when the channel needs none.
  // `on`: { state(state, detail), message(message, { replayed }), replayed(count),
  //         presence(message), ping(message), other(message) }, each optional.
  constructor(url, { token = async () => null, clientId = null, first = FEED_FIRST_REPLAY, on = {} } = {}) {
    this.url = url;
    this.token = token;
    this.clientId = clientId;
    this.first = first;
    this.on = on;
    this.generation = 0; // bumped by restart(): older sockets and timers stand down
    this.socket = null;
    this.timer = null;
    this.attempt = 0;
    this.forget();
  }

  forget() {
    this.lastId = null; // every message up to this id was received
    this.newest = null; // the newest id received
    this.replaying = false;
    this.moreFrom = null; // where a truncated replay goes on
    this.replayedCount = 0;
    this.seen = new Set(); // recent ids, oldest first, to drop duplicates
  }

  start() {
    this.connect();
  }

  // Another identity: what was received no longer applies. Close, forget, connect at once.
  restart() {
    this.generation += 1;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close(1000, "restarting");
    this.attempt = 0;
    this.forget();
    this.connect();
  }

  async connect() {
    const generation = this.generation;
    this.emit("state", "connecting");
    let token;
    try {
      token = await this.token();
    } catch {
      if (generation === this.generation) this.scheduleReconnect();
      return;
    }
    if (generation !== this.generation) return;
    const url = new URL(this.url);
    if (this.clientId) url.searchParams.set("clientId", this.clientId);
    // The token as the second subprotocol keeps it out of URLs (and so out of logs).
    const socket = token ? new WebSocket(url, [FEED_SUBPROTOCOL, token]) : new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.emit("state", "open");
      this.replay(this.lastId);
      this.send({ action: "presence" });
    });
    socket.addEventListener("message", (event) => {
      if (this.socket === socket) this.receive(event.data);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    const ceiling = Math.min(FEED_BACKOFF_MAX_MS, FEED_BACKOFF_BASE_MS * 2 ** this.attempt);
    const delay = Math.random() * ceiling;
    this.attempt += 1;
    this.emit("state", "reconnecting", delay);
    const generation = this.generation;
    this.timer = setTimeout(() => {
      if (generation === this.generation) this.connect();
    }, delay);
  }

  send(request) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(request));
  }

  replay(since) {
    this.replaying = true;
    this.moreFrom = null;
    this.send(since ? { action: "replay", since } : { action: "replay", last: this.first });
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      this.emit("other", { type: "text", text });
      return;
    }
    switch (message.type) {
      case "replay_truncated": // every message up to lastId came before this marker
        this.lastId = this.moreFrom = message.lastId;
        break;
      case "replay_complete":
        if (this.moreFrom) {
          this.replay(this.moreFrom);
        } else {
          // What was logged before the replay came with it; everything after comes live.
          this.replaying = false;
          this.lastId = this.newest;
          this.emit("replayed", this.replayedCount);
          this.replayedCount = 0;
        }
        break;
      case "incident":
      case "remediation":
        this.deliver(message);
        break;
      case "presence":
      case "presence_members":
        this.emit("presence", message);
        break;
      case "ping":
        this.emit("ping", message);
        break;
      case "error":
        if (message.action === "replay") this.retryReplay();
        this.emit("other", message);
        break;
      default:
        this.emit("other", message);
    }
  }

  deliver(message) {
    const id = message.id;
    if (id != null) {
      if (this.seen.has(id)) return;
      this.seen.add(id);
      if (this.seen.size > FEED_REMEMBERED_IDS) this.seen.delete(this.seen.values().next().value);
      if (this.newest === null || id > this.newest) this.newest = id;
      if (!this.replaying) this.lastId = this.newest;
    }
    if (this.replaying) this.replayedCount += 1;
    this.emit("message", message, { replayed: this.replaying });
  }

  // The log could not be read: ask again, from the last id received, a little later.
  retryReplay() {
    const socket = this.socket;
    setTimeout(() => {
      if (this.socket === socket) this.replay(this.lastId);
    }, FEED_RETRY_REPLAY_MS);
  }

  emit(name, ...args) {
    this.on[name]?.(...args);
  }
}
