// The admin's Knowledge tab: the FAQ the bot answers from (add, edit, delete; question, answer,
// keywords), a "try it" box that asks the server which entry the bot would answer a message with
// (GET /v1/faq/match: the same ranking, confidences and threshold the bot uses), and the handoff
// phrases the bot listens for (the handoff_phrases setting). Questions, answers, keywords and
// phrases are the tenant's data: shown translate="no".
import {append, el, replace} from "./dom.js";
import {format, t} from "./i18n.js";

const MAX_ENTRIES = 200;
// Keywords are typed in one box: commas (Latin or Chinese) and the Chinese enumeration comma separate them.
const KEYWORD_SEPARATORS = /[,，、]/;

export function splitList(value, separators = KEYWORD_SEPARATORS) {
  return value.split(separators).map((part) => part.trim()).filter(Boolean);
}

export class Knowledge {
  // notify(message): shows a failure in the console's toast.
  constructor(api, notify) {
    Object.assign(this, {api, notify});
    this.editing = null;
  }

  async draw(main) {
    this.entries = el("tbody", {id: "faq-rows"});
    this.count = el("p", {id: "faq-count", class: "muted", role: "status"});
    this.question = el("input", {id: "faq-question", required: true, maxlength: 300, translate: "no"});
    this.answer = el("textarea", {id: "faq-answer", required: true, maxlength: 2000, rows: 3, translate: "no"});
    this.keywords = el("input", {id: "faq-keywords", translate: "no", "aria-describedby": "faq-keywords-help"});
    this.formTitle = el("h3", {id: "faq-form-title"});
    this.cancel = el("button", {type: "button", id: "faq-cancel", onclick: () => this.edit(null)},
                     t("console-common.cancel"));
    this.formStatus = el("p", {id: "faq-form-status", role: "status"});
    this.tryQuestion = el("input", {id: "faq-try-question", required: true, maxlength: 4000});
    this.tryResult = el("div", {id: "faq-try-result", role: "status", "aria-live": "polite"});
    this.phrases = el("textarea", {id: "handoff-phrases", rows: 9, translate: "no",
                                   "aria-describedby": "handoff-help"});
    this.phrasesStatus = el("p", {id: "handoff-status", role: "status"});
    const entries = el("section", {"aria-labelledby": "faq-heading"},
      el("h3", {id: "faq-heading"}, t("console-knowledge.entries")), this.count,
      el("table", {id: "faq-table"},
        el("thead", {}, el("tr", {},
          el("th", {scope: "col"}, t("console-knowledge.question")),
          el("th", {scope: "col"}, t("console-knowledge.answer")),
          el("th", {scope: "col"}, t("console-knowledge.keywords")),
          el("th", {scope: "col"}, el("span", {class: "visually-hidden"}, t("console-knowledge.actions"))))),
        this.entries));
    const form = el("form", {id: "faq-form", class: "settings-form", onsubmit: (event) => this.save(event)},
      this.formTitle,
      el("label", {for: "faq-question"}, t("console-knowledge.question")), this.question,
      el("label", {for: "faq-answer"}, t("console-knowledge.answer")), this.answer,
      el("label", {for: "faq-keywords"}, t("console-knowledge.keywords")), this.keywords,
      el("p", {id: "faq-keywords-help", class: "muted"}, t("console-knowledge.keywords_help")),
      el("div", {class: "actions"}, el("button", {type: "submit", id: "faq-save"}, t("console-common.save")),
         this.cancel),
      this.formStatus);
    const tryIt = el("form", {id: "faq-try", class: "settings-form", onsubmit: (event) => this.tryIt(event)},
      el("h3", {}, t("console-knowledge.try_title")),
      el("label", {for: "faq-try-question"}, t("console-knowledge.try_label")),
      el("div", {class: "toolbar"}, this.tryQuestion,
         el("button", {type: "submit", id: "faq-try-run"}, t("console-knowledge.try_run"))),
      this.tryResult);
    const phrases = el("form", {id: "handoff-form", class: "settings-form", onsubmit: (event) => this.savePhrases(event)},
      el("h3", {}, t("console-knowledge.handoff_title")),
      el("label", {for: "handoff-phrases"}, t("console-knowledge.handoff_label")), this.phrases,
      el("p", {id: "handoff-help", class: "muted"}, t("console-knowledge.handoff_help")),
      el("div", {class: "actions"}, el("button", {type: "submit", id: "handoff-save"}, t("console-common.save"))),
      this.phrasesStatus);
    replace(main, el("div", {class: "panel", id: "knowledge-screen"},
      el("h2", {}, t("console-knowledge.title")),
      el("p", {class: "muted"}, t("console-knowledge.intro")),
      el("div", {class: "columns"}, el("div", {}, entries, form), el("div", {}, tryIt, phrases))));
    this.edit(null);
    try {
      const [entries, settings] = await Promise.all([this.api.all("v1/faq"), this.api.get("v1/settings")]);
      this.show(entries);
      this.phrases.value = settings.handoff_phrases.join("\n");
    } catch (failure) {
      this.notify(failure.message);
    }
  }

  show(entries) {
    this.count.textContent = t("console-knowledge.count", {count: entries.length, shown: format.number(entries.length),
                                                           max: format.number(MAX_ENTRIES)});
    replace(this.entries);
    if (!entries.length) {
      append(this.entries, el("tr", {}, el("td", {colspan: 4, class: "empty"}, t("console-knowledge.empty"))));
      return;
    }
    // Each row's buttons are named by their action and the row's question (aria-labelledby: the
    // question stays data, outside any translated attribute).
    append(this.entries, entries.map((entry, row) => el("tr", {"data-faq": entry.faq_id},
      el("td", {class: "faq-question", translate: "no", id: `faq-question-${row}`}, entry.question),
      el("td", {class: "faq-answer", translate: "no"}, entry.answer),
      el("td", {class: "faq-keywords", translate: "no"}, entry.keywords.join(", ")),
      el("td", {class: "row-actions"},
        el("button", {type: "button", class: "faq-edit", onclick: () => this.edit(entry), id: `faq-edit-${row}`,
                      "aria-labelledby": `faq-edit-${row} faq-question-${row}`}, t("console-common.edit")),
        el("button", {type: "button", class: "faq-delete danger", onclick: () => this.remove(entry),
                      id: `faq-delete-${row}`, "aria-labelledby": `faq-delete-${row} faq-question-${row}`},
           t("console-common.delete"))))));
  }

  // entry: the one to change, or null for a new one.
  edit(entry) {
    this.editing = entry;
    this.formTitle.textContent = t(entry ? "console-knowledge.edit_title" : "console-knowledge.add_title");
    this.question.value = entry ? entry.question : "";
    this.answer.value = entry ? entry.answer : "";
    this.keywords.value = entry ? entry.keywords.join(", ") : "";
    this.cancel.hidden = !entry;
    this.formStatus.textContent = "";
    if (entry) this.question.focus();
  }

  async save(event) {
    event.preventDefault();
    const body = {question: this.question.value.trim(), answer: this.answer.value.trim(),
                  keywords: splitList(this.keywords.value)};
    try {
      if (this.editing) await this.api.put(`v1/faq/${encodeURIComponent(this.editing.faq_id)}`, body);
      else await this.api.post("v1/faq", body);
      this.show(await this.api.all("v1/faq"));
      this.edit(null);
      this.formStatus.textContent = t("console-common.saved");
    } catch (failure) {
      this.formStatus.textContent = failure.message;
    }
  }

  async remove(entry) {
    if (!window.confirm(t("console-knowledge.confirm_delete", {question: entry.question}))) return;
    try {
      await this.api.delete(`v1/faq/${encodeURIComponent(entry.faq_id)}`);
      if (this.editing?.faq_id === entry.faq_id) this.edit(null);
      this.show(await this.api.all("v1/faq"));
    } catch (failure) {
      this.notify(failure.message);
    }
  }

  async tryIt(event) {
    event.preventDefault();
    try {
      const [preview, entries] = await Promise.all([this.api.get("v1/faq/match", {q: this.tryQuestion.value}),
                                                    this.api.all("v1/faq")]);
      this.showPreview(preview, new Map(entries.map((entry) => [entry.faq_id, entry])));
    } catch (failure) {
      replace(this.tryResult, el("p", {class: "error"}, failure.message));
    }
  }

  showPreview(preview, entries) {
    const needed = format.percent(preview.threshold);
    const chosen = preview.answer_faq_id && entries.get(preview.answer_faq_id);
    const verdict = preview.handoff_phrase
      ? el("p", {id: "faq-try-phrase"}, t("console-knowledge.try_phrase"), " ",
           el("strong", {translate: "no"}, preview.handoff_phrase))
      : chosen ? el("div", {id: "faq-try-answer", class: "try-answer"},
          el("p", {}, t("console-knowledge.try_answers")),
          el("blockquote", {translate: "no"}, chosen.answer),
          el("p", {class: "muted"}, t("console-knowledge.try_from"), " ",
             el("span", {translate: "no"}, chosen.question)))
      : el("p", {id: "faq-try-handover"}, t("console-knowledge.try_hands_over", {threshold: needed}));
    const rows = preview.matches.map((match) => el("tr", {class: match.faq_id === preview.answer_faq_id ? "chosen" : ""},
      el("td", {translate: "no"}, match.question),
      el("td", {class: "confidence"}, format.percent(match.confidence))));
    replace(this.tryResult, verdict,
      el("p", {class: "muted"}, t("console-knowledge.try_threshold", {threshold: needed})),
      rows.length
        ? el("table", {id: "faq-try-matches"},
            el("thead", {}, el("tr", {}, el("th", {scope: "col"}, t("console-knowledge.question")),
                                          el("th", {scope: "col"}, t("console-knowledge.confidence")))),
            el("tbody", {}, rows))
        : el("p", {class: "muted"}, t("console-knowledge.try_no_matches")));
  }

  async savePhrases(event) {
    event.preventDefault();
    try {
      const settings = await this.api.put("v1/settings", {handoff_phrases: splitList(this.phrases.value, /\n/)});
      this.phrases.value = settings.handoff_phrases.join("\n");
      this.phrasesStatus.textContent = t("console-common.saved");
    } catch (failure) {
      this.phrasesStatus.textContent = failure.message;
    }
  }
}
