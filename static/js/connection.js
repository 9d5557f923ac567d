// One WebSocket to Atelier, kept alive: hello/resume, seq bookkeeping, reconnect with backoff.
// Events: "state" (connecting | connected | reconnecting | offline), "welcome" (detail: the
// welcome message plus `fresh`: true when the server started a new session), "message"
// (every message once, in order, duplicates dropped; `welcome` carries `fresh` here too, since
// a fresh session means every run this page still waits for is gone), "fatal" (the page must
// be reloaded), "identity" (the server needs a (new) identity first: the page stops trying
// until it calls open() again) and "crowded" (this person has too many tabs open; the page
// keeps trying, slowly).

const STORE_KEY = "atelier.session";
const PROTOCOL = 1;
const PROTOCOL_MISMATCH = 4012;
const SESSION_REPLACED = 4010;
const JOIN_REQUIRED = 4014;
const TOO_MANY_SESSIONS = 4015;
const IDENTITY_REVOKED = 4016;
// After this many failed attempts in a row the indicator says "offline" rather than
// "reconnecting"; the page keeps trying all the same.
const OFFLINE_AFTER = 4;

export class Connection extends EventTarget {
  constructor(url = defaultUrl()) {
    super();
    this.url = url;
    this.ws = null;
    this.state = "connecting";
    this.attempt = 0;
    this.heartbeat = 25;
    this.deadline = null;
    this.retryTimer = null;
    const saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
    this.session = saved?.session ?? null;
    this.secret = saved?.secret ?? null;
    // A freshly loaded page has processed nothing yet: resuming from 0 makes the server
    // replay what its log still holds (or send a resync), which rebuilds the run view.
    this.lastSeq = 0;
    window.addEventListener("online", () => this.attempt > 0 && this.open());
    // The browser knows the network is gone (wifi off, airplane mode): say so now rather
    // than after the silence check, and let the retries find the network when it is back.
    window.addEventListener("offline", () => this.ws && this.abandon(this.ws));
  }

  open() {
    clearTimeout(this.retryTimer);
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    this.setState(this.attempt === 0 ? "connecting" : this.retryState());
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.sentSession = null;
    ws.onopen = () => ws.send(JSON.stringify(this.hello()));
    ws.onmessage = (event) => ws === this.ws && this.receive(JSON.parse(event.data));
    ws.onclose = (event) => this.closed(ws, event.code);
    this.watchdog(); // also bounds a handshake that never completes
  }

  hello() {
    const hello = { type: "hello", protocol: PROTOCOL };
    if (this.session && this.secret) {
      Object.assign(hello, { session: this.session, secret: this.secret, last_seq: this.lastSeq });
      this.sentSession = this.session;
    }
    return hello;
  }

  send(message) {
    if (this.ws?.readyState !== WebSocket.OPEN || this.state !== "connected") return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  receive(message) {
    this.watchdog();
    const fresh = message.type === "welcome" && message.session !== this.sentSession;
    if (fresh) this.lastSeq = 0; // a new session numbers from 1 again
    if (message.seq > 0) {
      if (message.seq <= this.lastSeq) return; // already seen (replay overlap)
      this.lastSeq = message.seq;
    }
    const detail = message.type === "welcome" ? this.welcomed(message, fresh) : message;
    this.dispatchEvent(new CustomEvent("message", { detail }));
  }

  welcomed(message, fresh) {
    this.session = message.session;
    this.secret = message.secret;
    this.sentSession = message.session;
    this.heartbeat = message.heartbeat_interval || this.heartbeat;
    this.watchdog(); // armed with the default before the welcome told us the interval
    this.attempt = 0;
    this.save();
    this.setState("connected");
    const welcome = { ...message, fresh };
    this.dispatchEvent(new CustomEvent("welcome", { detail: welcome }));
    return welcome;
  }

  // The server sends something at least every heartbeat interval (a `heartbeat` when idle),
  // so a link silent for two intervals is dead even if the browser has not noticed yet (a
  // sleeping tablet, a tunnel that dropped us): the indicator must not keep saying
  // "connected". Waiting for close() to finish its handshake on a dead link could take
  // minutes, so give up on this socket now and open a new one.
  watchdog() {
    clearTimeout(this.deadline);
    const ws = this.ws;
    this.deadline = setTimeout(() => this.abandon(ws), this.heartbeat * 2 * 1000);
  }

  abandon(ws) {
    ws?.close();
    this.closed(ws, 1006);
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    clearTimeout(this.deadline);
    this.ws = null;
    if (code === PROTOCOL_MISMATCH) {
      this.setState("offline");
      this.dispatchEvent(new CustomEvent("fatal", { detail: code }));
      return;
    }
    if (code === JOIN_REQUIRED || code === IDENTITY_REVOKED) return this.needIdentity(code);
    if (code === SESSION_REPLACED) this.forget(); // another tab took this session over
    if (code === TOO_MANY_SESSIONS) this.dispatchEvent(new CustomEvent("crowded", { detail: code }));
    this.attempt += 1;
    const base = Math.min(30_000, 500 * 2 ** Math.min(this.attempt - 1, 6));
    const delay = base / 2 + (Math.random() * base) / 2;
    this.setState(this.retryState());
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  // The session belonged to an identity the server no longer accepts: retrying cannot help.
  needIdentity(code) {
    this.forget();
    this.attempt = 0;
    this.setState("offline");
    this.dispatchEvent(new CustomEvent("identity", { detail: code }));
  }

  retryState() {
    return navigator.onLine === false || this.attempt >= OFFLINE_AFTER ? "offline" : "reconnecting";
  }

  forget() {
    this.session = this.secret = null;
    sessionStorage.removeItem(STORE_KEY);
  }

  save() {
    sessionStorage.setItem(STORE_KEY, JSON.stringify({ session: this.session, secret: this.secret }));
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }
}

function defaultUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}
