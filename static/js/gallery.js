// This session's runs, newest first: one RunView each, kept in the store's order. A one-second
// ticker counts the estimates of unfinished runs down between the server's messages. Each card's
// finished picture opens in the full-screen view and has the "what next" buttons
// (picture-actions.js), added here around the RunView so runview.js stays the run's own view.

import { arrange } from "./compare.js";
import { t } from "./i18n.js";
import { fillMore, moreButtons, openButton } from "./picture-actions.js";
import { counting } from "./runstate.js";
import { RunView } from "./runview.js";

export class Gallery {
  constructor(list, empty, store, { onCancel, onRetry, perspective, actions, viewer }) {
    this.list = list;
    this.empty = empty;
    this.store = store;
    this.views = new Map();
    this.rows = new Map(); // compare group -> its row of columns (compare.js)
    this.options = { onCancel, onRetry, perspective };
    this.actions = actions;
    this.viewer = viewer;
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
      this.decorate(view, id);
      this.views.set(id, view);
    }
    return view;
  }

  render(run) {
    if (!this.views.has(run.id)) return this.sync();
    this.show(this.views.get(run.id), run);
  }

  renderAll() {
    for (const id of this.store.order) this.show(this.view(id), this.store.runs.get(id));
  }

  show(view, run) {
    view.render(run);
    const output = run.outputs.find(Boolean);
    const open = view.part(".view-open");
    open.disabled = !output; // a preview is not opened big
    if (output) open.setAttribute("aria-label", t("view.open", { prompt: run.prompt }));
    else open.removeAttribute("aria-label");
    open.dataset.caption = run.prompt;
    open.dataset.download = output?.url ?? "";
    const more = view.part(".picture-more");
    more.hidden = !output;
    fillMore(more, this.actions.canAgain(run.interception));
  }

  decorate(view, id) {
    const figure = view.part(".run-picture");
    openButton(figure.querySelector("img"), (button) => this.viewer.show(button, this.list));
    const fields = () => this.store.retryFields(id);
    figure.append(
      moreButtons({
        again: () => this.actions.again(fields()),
        reuse: () => this.actions.reuse(fields().prompt),
        other: () => this.actions.other(fields().prompt),
      }),
    );
  }

  tick() {
    for (const run of this.store.runs.values()) {
      if (counting(run)) this.render(run);
    }
  }

  focusRun(id) {
    this.views.get(id)?.root.querySelector(".run-card")?.scrollIntoView({ block: "nearest" });
  }
}
