// One WebSocket to Atelier, kept alive: hello/resume, seq bookkeeping, reconnect with backoff.
// Events: "state" (connecting | connected | reconnecting | offline), "welcome", "message".

const STORE_KEY = "atelier.session";
const PROTOCOL = 1;

export class Connection extends EventTarget {
  constructor(url = defaultUrl()) {
    super();
    this.url = url;
    this.ws = null;
    this.state = "connecting";
    this.attempt = 0;
    this.lastSeq = 0;
    this.deadline = null;
    const saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
    this.session = saved?.session ?? null;
    this.secret = saved?.secret ?? null;
    this.lastSeq = saved?.lastSeq ?? 0;
    window.addEventListener("online", () => this.attempt > 0 && this.open());
  }

  open() {
    clearTimeout(this.retryTimer);
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      const hello = { type: "hello", protocol: PROTOCOL };
      if (this.session && this.secret) {
        Object.assign(hello, { session: this.session, secret: this.secret, last_seq: this.lastSeq });
      }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    ws.onclose = (event) => this.closed(ws, event);
  }

  send(message) {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  receive(message) {
    this.watchdog();
    if (message.type === "welcome") {
      if (!message.resumed) this.lastSeq = 0;
      this.session = message.session;
      this.secret = message.secret;
      this.heartbeat = message.heartbeat_interval;
      this.attempt = 0;
      this.setState("connected");
      this.dispatchEvent(new CustomEvent("welcome", { detail: message }));
    }
    if (message.seq > 0) {
      if (message.seq <= this.lastSeq) return; // already seen (replay overlap)
      this.lastSeq = message.seq;
      this.save();
    }
    this.dispatchEvent(new CustomEvent("message", { detail: message }));
  }

  // A link that stays silent for well over the heartbeat interval is dead even if the
  // browser has not noticed yet (a sleeping tablet, a tunnel that dropped us).
  watchdog() {
    clearTimeout(this.deadline);
    const seconds = (this.heartbeat || 25) * 2 + 5;
    this.deadline = setTimeout(() => this.ws?.close(), seconds * 1000);
  }

  closed(ws, event) {
    if (ws !== this.ws) return;
    clearTimeout(this.deadline);
    this.ws = null;
    if (event.code === 4012) return this.setState("offline"); // protocol mismatch: reload
    this.attempt += 1;
    const base = Math.min(30_000, 500 * 2 ** Math.min(this.attempt - 1, 6));
    const delay = base / 2 + Math.random() * base / 2;
    this.setState(navigator.onLine === false ? "offline" : "reconnecting");
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  save() {
    const value = { session: this.session, secret: this.secret, lastSeq: this.lastSeq };
    sessionStorage.setItem(STORE_KEY, JSON.stringify(value));
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
