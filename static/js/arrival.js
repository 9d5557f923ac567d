// The finished picture, found. On a phone (and below a long run list) a picture is often
// finished off-screen. When it is: if nobody is typing, the page scrolls it into view (a scroll
// moves no focus); while a student types, scrolling would carry the text box away, so a
// "See your picture" button appears instead, which scrolls there and puts the focus on the
// picture's first control. The polite "Your picture is ready" is main.js's announcement.

const TYPING = 'textarea, input:not([type]), input[type="text"], input[type="search"], [contenteditable="true"]';
// The share of a picture that must be on screen to count as seen.
const SEEN = 0.5;

export class Arrival {
  constructor(button, rootOf) {
    this.button = button;
    this.rootOf = rootOf; // run id -> its view's root element
    this.target = null;
    this.watch = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.intersectionRatio >= SEEN)) this.hide();
    }, { threshold: SEEN });
    button.addEventListener("click", () => this.go());
  }

  async arrived(id) {
    const picture = this.rootOf(id)?.querySelector(".run-picture");
    if (!picture || picture.hidden) return;
    await picture.querySelector("img")?.decode().catch(() => {}); // its height once loaded
    if (seen(picture)) return;
    if (!document.activeElement?.matches(TYPING)) return picture.scrollIntoView({ block: "nearest", behavior: motion() });
    this.hide();
    this.target = picture;
    this.button.hidden = false;
    this.watch.observe(picture);
  }

  go() {
    const picture = this.target;
    if (!picture) return;
    picture.scrollIntoView({ block: "nearest", behavior: motion() });
    const control = picture.querySelector("a[href], button:not([disabled])");
    if (!control) picture.tabIndex = -1;
    (control ?? picture).focus({ preventScroll: true }); // before the button hides: never to the body
    this.hide();
  }

  hide() {
    this.watch.disconnect();
    this.target = null;
    this.button.hidden = true;
  }
}

function seen(el) {
  const box = el.getBoundingClientRect();
  const shown = Math.min(box.bottom, innerHeight) - Math.max(box.top, 0);
  return box.height > 0 && shown / box.height >= SEEN;
}

function motion() {
  return matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
}
