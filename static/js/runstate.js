// One run as the page knows it, and how each server message changes it. Pure data: no DOM.

export const STAGES = ["safety", "interception", "translation", "generation"];
export const FINAL = new Set(["completed", "blocked", "cancelled", "failed", "lost"]);
// Messages that prove a stage has its backend slot (the server sends no "served" event).
const WORK = new Set(["token", "progress", "preview", "output"]);
// A stage still at work: running, or (stage 4) having its picture checked.
const WORKING = new Set(["started", "checking"]);
const RESTARTING = "server_restarting";

export function newRun(id, meta = {}) {
  return {
    id,
    prompt: meta.prompt ?? "",
    interception: meta.interception ?? null,
    status: "queued",
    stage: null,
    stages: Object.fromEntries(STAGES.map((name) => [name, { status: "pending" }])),
    texts: {},
    queue: null,
    eta: null, // the whole run's estimate: { seconds, at }, counted down by the page
    progress: null,
    preview: null,
    outputs: [],
    reason: null,
    timings: {},
    total: null,
    retried: false, // "try again" was pressed: the new run has its own card
  };
}

export function isFinal(run) {
  return FINAL.has(run.status);
}

// Apply one run-scoped message; returns the run (mutated in place for cheap token appends).
export function applyMessage(run, m) {
  if (WORK.has(m.type) && run.queue?.stage !== null) run.queue = null;
  const handler = HANDLERS[m.type];
  if (handler) handler(run, m);
  return run;
}

const HANDLERS = {
  queue(run, m) {
    run.queue = { stage: m.stage, position: m.position, length: m.length, eta: m.eta, at: Date.now() };
    run.queue.paused = m.paused === true; // held by the teacher: no ETA to show
    // One number for the whole run; each queue message says it again (or that it is unknown).
    run.eta = m.run_eta != null ? { seconds: m.run_eta, at: run.queue.at } : null;
  },
  stage(run, m) {
    const stage = run.stages[m.stage] ?? (run.stages[m.stage] = { status: "pending" });
    Object.assign(stage, { status: m.status, detail: m.detail ?? {} });
    for (const key of ["text", "reason", "elapsed"]) if (m[key] != null) stage[key] = m[key];
    if (m.text != null) run.texts[m.stage] = m.text; // the final text is authoritative
    if (m.status === "started") {
      run.status = "running";
      run.stage = m.stage;
      if (run.queue && run.queue.stage !== m.stage) run.queue = null;
    } else if (run.queue?.stage === m.stage) {
      run.queue = null;
    }
  },
  token(run, m) {
    const before = m.clear ? "" : run.texts[m.stage] ?? "";
    run.texts[m.stage] = before + m.text;
  },
  progress(run, m) {
    run.progress = { value: m.value, max: m.max };
  },
  preview(run, m) {
    run.preview = `data:${m.mime};base64,${m.data}`;
  },
  output(run, m) {
    run.outputs[m.index ?? run.outputs.length] = { url: m.url, mime: m.mime };
  },
  "run.done"(run, m) {
    // A run the server ended because it is restarting was interrupted, as one lost with its
    // session is: the child reads the same sentence and can try again.
    const status = m.code === RESTARTING ? "lost" : m.status;
    Object.assign(run, { status, reason: m.reason, queue: null, eta: null, total: m.total });
    run.timings = m.timings ?? {};
    for (const [name, seconds] of Object.entries(run.timings)) {
      if (run.stages[name] && run.stages[name].elapsed == null) run.stages[name].elapsed = seconds;
    }
    for (const stage of Object.values(run.stages)) {
      if (WORKING.has(stage.status) && m.status !== "completed") stage.status = stageEnd(m.status);
    }
  },
};

// A stage a cancel interrupted is "stopped", not "skipped": a skipped stage 2 reads "used as
// written", which a cancelled one was not.
function stageEnd(runStatus) {
  return runStatus === "blocked" ? "blocked" : runStatus === "cancelled" ? "stopped" : "failed";
}

// A resync snapshot replaces what the page knew: stages before the current one are done,
// the current one is working (or ended the way the run ended).
export function fromSnapshot(snapshot, previous) {
  const run = newRun(snapshot.run, { prompt: snapshot.prompt, interception: snapshot.interception });
  run.status = snapshot.status;
  run.stage = snapshot.stage;
  run.texts = { ...snapshot.texts };
  run.reason = snapshot.reason;
  run.group = snapshot.group ?? previous?.group ?? null; // a compare stays side by side
  run.outputs = (snapshot.outputs || []).map((url) => ({ url, mime: null }));
  run.preview = snapshot.status === "running" ? previous?.preview ?? null : null;
  run.retried = previous?.retried ?? false;
  const current = STAGES.indexOf(snapshot.stage);
  STAGES.forEach((name, i) => {
    const known = previous?.stages[name];
    if (i < current || (i === current && snapshot.status === "completed")) {
      run.stages[name] = { ...known, status: "done" };
    } else if (i === current) {
      const status = snapshot.status === "running" ? "started" : stageEnd(snapshot.status);
      run.stages[name] = { ...known, status };
    }
    if (run.texts[name] != null) run.stages[name].text = run.texts[name];
  });
  if (snapshot.status === "completed") STAGES.forEach((n) => (run.stages[n].status ||= "done"));
  return run;
}

// When the server had to start a new session (or no longer knows the run), runs still in
// flight are gone for good. Returns whether this run was one of them.
export function markLost(run) {
  if (isFinal(run)) return false;
  run.status = "lost";
  run.queue = null;
  run.eta = null;
  for (const stage of Object.values(run.stages)) if (WORKING.has(stage.status)) stage.status = "failed";
  return true;
}

// Seconds left of the whole run's estimate (may be 0 or less: later than thought), or null.
export function etaLeft(run) {
  if (!run.eta || isFinal(run)) return null;
  return run.eta.seconds - (Date.now() - run.eta.at) / 1000;
}

// Whether the run shows a number the page counts down each second.
export function counting(run) {
  return !isFinal(run) && (run.queue?.eta != null || run.eta != null);
}

// Runs a child can start again as they were: interrupted ones and ones a backend failed.
export function canRetry(run) {
  return (run.status === "lost" || run.status === "failed") && !run.retried;
}

// A stage counts as waiting when the run's queue entry names it (or, before any stage
// has started, when the run waits for its session's own place).
export function waitingStage(run) {
  if (!run.queue || isFinal(run)) return null;
  return run.queue.stage ?? STAGES.find((name) => run.stages[name].status === "pending") ?? null;
}
