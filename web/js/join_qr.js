// The host lobby's QR code of the participants' join link, made in the browser by the vendored
// qrcode-generator (web/vendor/qrcode-generator/, docs/dependencies.md) and drawn as one SVG path:
// nothing leaves the page, so it costs no request and works on the local stack as deployed.
import qrcode from "../vendor/qrcode-generator/qrcode.js";

const SVG = "http://www.w3.org/2000/svg";
/** Light modules around the code: the four the QR standard asks for, so a camera finds its edges. */
const QUIET_ZONE = 4;
/** Error correction M (15 %): a phone reads a projected or slightly glared code; the link stays small. */
const CORRECTION = "M";

/**
 * The QR code of `text` as rows of modules (true: dark), the smallest version that holds it. `text`
 * must be ASCII (the library's byte mode takes each character's low byte): a URL's `toString()` is,
 * its path and query being percent-encoded and its host punycode.
 */
export function qrModules(text) {
  const code = qrcode(0, CORRECTION);
  code.addData(text);
  code.make();
  const size = code.getModuleCount();
  return Array.from({ length: size }, (_, row) => Array.from({ length: size }, (_, col) => code.isDark(row, col)));
}

function svgNode(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/**
 * Draws the QR code of `text` into `container` (replacing what it held), as an image named `label`.
 * Dark on light whatever the page's colour scheme: readers expect that contrast. Drawn again only
 * when `text` changes (the lobby redraws on every join).
 */
export function drawQrCode(container, text, label) {
  if (container.dataset.qrText === text) return;
  const modules = qrModules(text);
  const side = modules.length + 2 * QUIET_ZONE;
  let path = "";
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) path += `M${x + QUIET_ZONE} ${y + QUIET_ZONE}h1v1h-1z`;
    }),
  );
  const svg = svgNode("svg", {
    viewBox: `0 0 ${side} ${side}`,
    role: "img",
    "aria-label": label,
    "shape-rendering": "crispEdges",
    class: "qr-code",
  });
  svg.append(svgNode("rect", { width: side, height: side, fill: "#ffffff" }), svgNode("path", { d: path, fill: "#000000" }));
  container.replaceChildren(svg);
  container.dataset.qrText = text;
}
