// Translated text around data. tData("console-visitor.possible_match_text", {id}) gives the message's
// words as text and each named value in a translate="no" span: a name, id or message is not the
// interface's text, and neither machine translation nor the no-English check should touch it.
import {el} from "./dom.js";
import {t} from "./i18n.js";

export function tData(key, values, params = {}) {
  return t(key, params).split(/(\{\w+\})/).filter(Boolean).map((part) => {
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    return name !== undefined && name in values ? data(values[name]) : part;
  });
}

// A value shown as it is (a name, an email, a tag, a message).
export function data(value) {
  return el("span", {translate: "no"}, value);
}
