// This session's runs, newest first: one RunView each, kept in the store's order. A one-second
// ticker counts the ETA of waiting runs down between the server's queue messages.

import { arrange } from "./compare.js";
import { isFinal } from "./runstate.js";
import { RunView } from "./runview.js";

export class Gallery {
  constructor(list, empty, store, { onCancel, onRetry, perspective }) {
    this.list = list;
    this.empty = empty;
    this.store = store;
    this.views = new Map();
    this.rows = new Map(); // compare group -> its row of columns (compare.js)
    this.options = { onCancel, onRetry, perspective };
    this.ticker = setInterval(() => this.tick(), 1000);
  }

  sync() {
    const items = arrange(this.store, (id) => this.view(id).root, this.rows);
    this.list.replaceChildren(...items);
    this.empty.hidden = items.length > 0;
    this.renderAll();
  }

  view(id) {
    let view = this.views.get(id);
    if (!view) {
      view = new RunView(id, this.options);
      this.views.set(id, view);
    }
    return view;
  }

  render(run) {
    if (!this.views.has(run.id)) return this.sync();
    this.views.get(run.id).render(run);
  }

  renderAll() {
    for (const id of this.store.order) this.view(id).render(this.store.runs.get(id));
  }

  tick() {
    for (const run of this.store.runs.values()) {
      if (run.queue?.eta != null && !isFinal(run)) this.render(run);
    }
  }

  focusRun(id) {
    this.views.get(id)?.root.querySelector(".run-card")?.scrollIntoView({ block: "nearest" });
  }
}
