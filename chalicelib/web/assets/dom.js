// Building DOM from data. Text always goes in as text nodes: nothing here parses HTML, so a
// message like "<img src=x onerror=...>" is shown as those characters and never becomes markup.
import {format} from "./i18n.js";

export function el(tag, props = {}, ...children) {
  return build(document.createElement(tag), props, children);
}

export function svg(tag, props = {}, ...children) {
  return build(document.createElementNS("http://www.w3.org/2000/svg", tag), props, children);
}

function build(node, props, children) {
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.setAttribute("class", value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "value" || name === "checked") node[name] = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, ...children);
  return node;
}

export function append(node, ...children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, ...children);
}

// Keeps a list ordered by data-seq whatever order the messages arrive in.
export function insertBySeq(list, node, seq) {
  node.dataset.seq = String(seq);
  const after = [...list.children].find((child) => Number(child.dataset.seq) > seq);
  list.insertBefore(node, after || null);
}

// The time of day of an ISO time, in the console's language ("" if it is not a time).
export function clock(iso) {
  return format.time(iso);
}
