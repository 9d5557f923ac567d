// "Pictures worth keeping", wired in one place so main.js needs only a few lines: the
// full-screen view, the "what next" actions, the tab title, the optional "ready" signal and
// the example ideas. Each piece lives in its own module.

import { ExamplePrompts } from "./examples.js";
import { DoneNotice, TabTitle } from "./notify.js";
import { PictureActions } from "./picture-actions.js";
import "./strings-pics.js";
import { PictureViewer } from "./viewer.js";

export class PictureExtras {
  constructor({ store, composer, cards, start }) {
    this.viewer = new PictureViewer(document.querySelector("#app"));
    this.actions = new PictureActions({ composer, cards, store, start });
    this.title = new TabTitle(store);
    this.notice = new DoneNotice(document.querySelector("#runs-title"));
    this.examples = new ExamplePrompts(composer.el("prompt"), composer.el("start"));
    this.render();
  }

  // After a language switch.
  render() {
    this.notice.render();
    this.examples.render();
  }

  // Every change of a run; `live` once connected (replayed history signals nothing).
  changed({ run, message }, live) {
    if (live && message.type === "run.done") {
      this.title.done(run);
      this.notice.done(run);
    }
    this.title.update();
  }
}
