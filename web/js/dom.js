// Small DOM helpers: build elements without innerHTML (server text is never parsed as HTML), show a
// screen, announce, ask for confirmation in the page.

/**
 * el("button", {class: "primary", type: "button", onclick: fn}, "Start") -> <button>.
 * Keys starting with "on" add listeners; `text` sets textContent; `dataset` fills data-*;
 * `hidden`, `disabled`, `checked`, `value` are set as properties; `style` through the CSSOM (a
 * `style` attribute would be refused by the CSP's `style-src 'self'`); anything else as an attribute.
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "text") {
      node.textContent = value;
    } else if (key === "style") {
      node.style.cssText = value;
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (["hidden", "disabled", "checked", "value"].includes(key)) {
      node[key] = value;
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from the page`);
  return node;
}

/** Shows one `<section class="screen">` and hides the others; moves focus to its heading. */
export function showScreen(id) {
  for (const screen of document.querySelectorAll(".screen")) {
    screen.hidden = screen.id !== id;
  }
  const heading = byId(id).querySelector("h1, h2");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
  document.body.dataset.screen = id;
}

/** Writes a message into an aria-live region (screen readers announce it). */
export function announce(region, message, tone = "info") {
  region.textContent = message;
  region.dataset.tone = tone;
  region.hidden = !message;
}

/**
 * Asks `message` in the page's own `<dialog id="confirm-dialog">` (not `window.confirm`: it is styled,
 * labelled and keyboard-usable like the page). Resolves true when the `confirm` button is pressed,
 * false on *Cancel* or Escape; *Cancel* has the focus first.
 */
export function confirmInPage({ title, message, confirm }) {
  const dialog = byId("confirm-dialog");
  byId("confirm-title").textContent = title;
  byId("confirm-message").textContent = message;
  byId("confirm-ok").textContent = confirm;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    byId("confirm-cancel").focus();
  });
}
