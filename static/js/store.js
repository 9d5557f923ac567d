// The page's state: limits and flags from `welcome`, backend states, and this session's runs
// (newest first). It turns server messages into state and tells views what changed through
// "run", "runs", "backend", "welcome" and "notice" events.

import { applyMessage, fromSnapshot, markLost, newRun } from "./runstate.js";

const META_KEY = "atelier.runs"; // run id -> prompt and perspective, to survive a reload

export class Store extends EventTarget {
  constructor() {
    super();
    this.limits = { max_prompt_chars: 2000, max_meta_prompt_chars: 8000 };
    this.demo = false;
    this.runs = new Map();
    this.order = []; // run ids, newest first
    this.backends = new Map(); // "kind/instance" -> backend message
    this.pending = new Map(); // ref -> what run.start asked for
    this.meta = JSON.parse(sessionStorage.getItem(META_KEY) || "{}");
    this.refCounter = 0;
    this.interrupted = 0; // runs the server ended for a restart since the last welcome
  }

  // Remember what a run.start asked for until its run.accepted (or error) names the ref.
  request(fields) {
    const ref = `c-${Date.now().toString(36)}-${++this.refCounter}`;
    this.pending.set(ref, { ...fields, answered: 0 });
    return ref;
  }

  receive(m) {
    if (m.type === "welcome") return this.welcome(m);
    if (m.type === "resync") return m.runs.forEach((snap) => this.resync(snap));
    if (m.type === "backend") return this.backend(m);
    if (m.type === "run.accepted") return this.accepted(m);
    if (m.type === "error") return this.error(m);
    if (m.run) this.update(m);
  }

  welcome(m) {
    this.limits = { ...this.limits, ...m.limits };
    this.demo = Boolean(m.demo);
    // Told again once connected: only now can the child press "try again".
    const interrupted = this.interrupted;
    this.interrupted = 0;
    if (m.fresh) {
      const lost = [...this.runs.values()].filter((run) => markLost(run));
      this.backends.clear();
      this.emit("backend");
      this.emit("runs", { lost: lost.length + interrupted });
    }
    this.emit("welcome", m);
  }

  accepted(m) {
    const asked = this.pending.get(m.ref) ?? this.meta[m.run] ?? {};
    // A compare's ref is answered once per perspective.
    if (!m.group || ++asked.answered >= (asked.perspectives?.length ?? 1)) this.pending.delete(m.ref);
    const fields = { prompt: asked.prompt, interception: asked.interception ?? m.interception };
    if (m.group) fields.group = m.group;
    if (asked.meta_prompt != null) fields.meta_prompt = asked.meta_prompt; // for "try again"
    if (m.input) fields.input = m.input; // the picture it starts from, kept for a reload
    this.meta[m.run] = fields;
    sessionStorage.setItem(META_KEY, JSON.stringify(this.meta));
    if (!this.runs.has(m.run)) this.add({ ...newRun(m.run, fields), group: m.group ?? null, input: fields.input ?? null }, m.ref);
  }

  add(run, ref = null) {
    this.runs.set(run.id, run);
    this.order.unshift(run.id);
    this.emit("runs", { added: run.id, ref });
  }

  update(m) {
    const run = this.runs.get(m.run);
    if (!run) return; // a run this page never heard of (its run.accepted left the log)
    const before = { status: run.status, queue: run.queue };
    applyMessage(run, m);
    if (m.type === "run.done" && run.status === "lost") this.interrupted += 1;
    this.emit("run", { run, message: m, before });
  }

  resync(snapshot) {
    const previous = this.runs.get(snapshot.run);
    const run = fromSnapshot(snapshot, previous);
    run.input = snapshot.input ?? this.meta[snapshot.run]?.input ?? previous?.input ?? null;
    if (!previous) return this.add(run);
    this.runs.set(run.id, run);
    this.emit("run", { run, message: { type: "resync" }, before: previous });
  }

  backend(m) {
    this.backends.set(`${m.kind}/${m.instance}`, m);
    this.emit("backend", m);
  }

  error(m) {
    if (m.run && this.runs.has(m.run)) return this.runError(this.runs.get(m.run), m);
    const asked = m.ref ? this.pending.get(m.ref) : null;
    if (m.ref) this.pending.delete(m.ref);
    this.emit("notice", { error: m, asked });
  }

  // An error about one run answers a cancel. The server not knowing the run means it is gone
  // (a restart, an expired session): the card says so; a child never sees the error itself.
  runError(run, m) {
    const before = { status: run.status, queue: run.queue };
    if (m.code === "unknown_run") markLost(run);
    this.emit("run", { run, message: m, before });
  }

  // What a run.start for the same idea needs: prompt, perspective and any edited instructions.
  retryFields(id) {
    const run = this.runs.get(id);
    const known = this.meta[id] ?? {};
    const fields = { prompt: known.prompt ?? run.prompt, interception: known.interception ?? run.interception };
    if (known.meta_prompt != null) fields.meta_prompt = known.meta_prompt;
    return fields;
  }

  retried(id) {
    const run = this.runs.get(id);
    run.retried = true;
    this.emit("run", { run, message: { type: "retry" }, before: { status: run.status, queue: run.queue } });
  }

  emit(type, detail = null) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
