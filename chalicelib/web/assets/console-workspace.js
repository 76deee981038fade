// The conversation history (agents: their own; supervisors and admins: every one): filters and a
// search box, the conversations found page by page, and one of them read-only, open or long closed:
// its transcript, its labels (add, remove), its private notes (add) and why routing sent it where it went.
import {AttachmentApi, words} from "./attachments.js";
import {attachmentList} from "./attachments-view.js";
import {SUPERVISING_ROLES} from "./console-roles.js";
import {isoSeconds} from "./dates.js";
import {append, el, replace} from "./dom.js";
import {format, t} from "./i18n.js";

const STATUSES = ["bot", "queued", "assigned", "closed"];
const CHANNELS = ["web", "email"];
// A filtered page may come back short (the server filters one bounded page): follow the cursor
// until the table has this many rows, at most this many pages a load.
const WANTED_ROWS = 20;
const PAGES_PER_LOAD = 5;
const MESSAGE_PAGES = 10;

const w = (key, params) => t(`console-workspace.${key}`, params);
// Data (names, ids, labels, message text) is shown as it is, never translated.
const data = (value, props = {}) => el("span", {translate: "no", ...props}, value ?? "");

export class Workspace {
  // notify(message): shows a failure in the console's toast.
  constructor(api, me, notify) {
    Object.assign(this, {api, me, notify});
    this.files = new AttachmentApi(document.baseURI, async () => api.token());
    this.agentNames = new Map([[me.agent_id, me.name]]);
  }

  draw(main) {
    const supervising = SUPERVISING_ROLES.has(this.me.role);
    const input = (id, props = {}) => el("input", {id, ...props});
    const select = (id, values, label) => el("select", {id},
      el("option", {value: ""}, w("any")), values.map((value) => el("option", {value}, label(value))));
    this.fields = {
      q: input("workspace-q", {type: "search", placeholder: w("search_placeholder")}),
      text: input("workspace-text", {type: "checkbox"}),
      status: select("workspace-status", STATUSES, (status) => w(`status.${status}`)),
      agent: supervising ? select("workspace-agent", [], () => "") : null,
      team: input("workspace-team", {size: 10}),
      channel: select("workspace-channel", CHANNELS, (channel) => w(`channel.${channel}`)),
      tag: input("workspace-tag", {size: 10}),
      from: input("workspace-from", {type: "date"}),
      to: input("workspace-to", {type: "date"}),
    };
    const labelled = (name, text) => (this.fields[name] ? [el("label", {for: this.fields[name].id}, text), this.fields[name]] : []);
    this.rows = el("tbody", {id: "workspace-rows"});
    this.summary = el("p", {id: "workspace-summary", role: "status"});
    this.more = el("button", {type: "button", id: "workspace-more", hidden: true}, w("load_more"));
    this.detail = el("section", {id: "workspace-detail", class: "workspace-detail", "aria-label": w("detail")});
    const form = el("form", {id: "workspace-filters", class: "workspace-filters", role: "search",
                             onsubmit: (event) => { event.preventDefault(); this.load(); }},
      el("div", {class: "toolbar"}, ...labelled("q", w("search")),
         el("label", {class: "check", for: "workspace-text"}, this.fields.text, w("search_text")),
         el("button", {type: "submit", id: "workspace-apply"}, t("console-common.search"))),
      el("div", {class: "toolbar"}, ...labelled("status", w("filter.status")), ...labelled("agent", w("filter.agent")),
         ...labelled("team", w("filter.team")), ...labelled("channel", w("filter.channel")),
         ...labelled("tag", w("filter.tag")), ...labelled("from", w("filter.from")), ...labelled("to", w("filter.to"))));
    replace(main, el("div", {class: "panel workspace", id: "workspace"},
      el("h2", {}, w("title")), el("p", {class: "hint"}, w(supervising ? "intro_all" : "intro_mine")), form,
      this.summary,
      el("div", {class: "workspace-body"},
        el("div", {class: "workspace-list"},
          el("table", {id: "workspace-table"},
            el("caption", {class: "visually-hidden"}, w("title")),
            el("thead", {}, el("tr", {}, ["opened", "visitor", "status", "agent", "labels"].map((name) => el("th", {scope: "col"}, w(`column.${name}`))))),
            this.rows),
          this.more),
        this.detail)));
    if (supervising) this.loadAgents();
    this.load();
  }

  async loadAgents() {
    try {
      const agents = await this.api.all("v1/agents");
      for (const agent of agents) this.agentNames.set(agent.agent_id, agent.name);
      append(this.fields.agent, agents.map((agent) => el("option", {value: agent.agent_id, translate: "no"}, agent.name)));
    } catch (failure) {
      this.notify(failure.message);
    }
  }

  query() {
    const f = this.fields;
    const day = (input, plus = 0) => {
      if (!input.value) return null;
      const start = new Date(`${input.value}T00:00`);
      start.setDate(start.getDate() + plus);
      return isoSeconds(start);
    };
    return {status: f.status.value, agent_id: f.agent ? f.agent.value : "", team: f.team.value.trim(),
            channel: f.channel.value, tag: f.tag.value.trim(), from: day(f.from), to: day(f.to, 1)};
  }

  // The first rows (or, with cursor, the next) for the filters and search.
  async load(cursor = null) {
    const q = this.fields.q.value.trim();
    const searching = q !== "";
    const path = searching ? "v1/conversations/search" : "v1/conversations";
    const query = searching ? {...this.query(), q, text: this.fields.text.checked ? "true" : ""} : this.query();
    if (!cursor) {
      replace(this.rows);
      this.shown = 0;
      this.textSearched = 0;
    }
    this.summary.textContent = t("console-common.loading");
    try {
      let next = cursor;
      for (let page = 0; page < PAGES_PER_LOAD; page += 1) {
        const answer = await this.api.get(path, {...query, cursor: next});
        append(this.rows, answer.items.map((item) => this.row(item, searching)));
        this.shown += answer.items.length;
        this.textSearched += answer.text_searched || 0;
        next = answer.next_cursor;
        if (!next || this.shown >= WANTED_ROWS || answer.text_searched) break;
      }
      this.more.hidden = !next;
      this.more.onclick = () => this.load(next);
      this.summary.textContent = [w("found", {count: this.shown}),
        searching && this.fields.text.checked ? w("text_searched", {count: this.textSearched}) : "",
        next ? w("more_to_look") : ""].filter(Boolean).join(" ");
    } catch (failure) {
      this.summary.textContent = "";
      this.notify(failure.message);
    }
  }

  row(item, searching) {
    if (item.agent_id && item.agent_name) this.agentNames.set(item.agent_id, item.agent_name);
    return el("tr", {"data-id": item.conversation_id},
      el("td", {}, format.dateTime(item.created_at)),
      el("td", {},
        el("button", {type: "button", class: "link open-conversation", translate: "no",
                      onclick: () => this.open(item.conversation_id)}, item.visitor_name || item.visitor_id),
        item.visitor_email ? el("div", {class: "hint", translate: "no"}, item.visitor_email) : null,
        searching && item.snippet ? el("div", {class: "snippet", translate: "no"}, item.snippet) : null),
      el("td", {}, w(`status.${item.status}`)),
      el("td", {}, item.agent_id ? data(item.agent_name || item.agent_id) : t("console-common.none")),
      el("td", {}, this.chips(item.labels)));
  }

  chips(labels, remove = null) {
    return el("ul", {class: "chips"}, labels.map((label, n) => el("li", {class: "chip"},
      data(label, {id: remove ? `label-${n}` : null}),
      remove ? el("button", {type: "button", class: "chip-remove", "aria-label": w("remove_label"),
                             "aria-describedby": `label-${n}`, onclick: () => remove(label)}, "×") : null)));
  }

  // --- One conversation ---

  async open(conversationId) {
    this.openId = conversationId;
    for (const tr of this.rows.children) tr.classList.toggle("selected", tr.dataset.id === conversationId);
    replace(this.detail, el("p", {class: "hint"}, t("console-common.loading")));
    const base = `v1/conversations/${encodeURIComponent(conversationId)}`;
    try {
      const [conversation, messages, notes, routing] = await Promise.all([
        this.api.get(base), this.api.all(`${base}/messages`, {}, MESSAGE_PAGES), this.api.all(`${base}/notes`),
        this.api.all(`${base}/routing`)]);
      if (this.openId !== conversationId) return;
      this.conversation = conversation;
      this.drawDetail(conversation, messages, notes, routing);
    } catch (failure) {
      replace(this.detail);
      this.notify(failure.message);
    }
  }

  drawDetail(c, messages, notes, routing) {
    const row = [...this.rows.children].find((tr) => tr.dataset.id === c.conversation_id);
    const visitor = row ? row.querySelector(".open-conversation").textContent : c.visitor_id;
    const facts = [["status", w(`status.${c.status}`)], ["agent", c.agent_id ? data(this.agentName(c.agent_id)) : t("console-common.none")],
                   ["opened", format.dateTime(c.created_at)], ["closed", c.closed_at ? format.dateTime(c.closed_at) : t("console-common.none")],
                   ["channel", w(`channel.${c.channel}`)]];
    this.labelInput = el("input", {id: "workspace-label", maxlength: 32});
    this.noteInput = el("textarea", {id: "workspace-note", rows: 3, maxlength: 2000});
    replace(this.detail,
      el("h3", {}, data(visitor)),
      el("dl", {class: "facts"}, facts.flatMap(([name, value]) => [el("dt", {}, w(`column.${name}`)), el("dd", {}, value)])),
      el("h4", {}, w("labels")),
      this.chips(c.labels, (label) => this.saveLabels(c.labels.filter((kept) => kept !== label))),
      el("form", {class: "toolbar", onsubmit: (event) => { event.preventDefault(); this.addLabel(); }},
        el("label", {for: "workspace-label"}, w("new_label")), this.labelInput,
        el("button", {type: "submit", id: "workspace-add-label"}, w("add_label"))),
      el("h4", {}, w("notes")),
      el("p", {class: "hint"}, w("notes_private")),
      el("ol", {id: "workspace-notes", class: "notes"}, notes.length ? notes.map((note) => this.note(note)) : el("li", {class: "hint"}, w("no_notes"))),
      el("form", {class: "note-form", onsubmit: (event) => { event.preventDefault(); this.addNote(); }},
        el("label", {for: "workspace-note"}, w("new_note")), this.noteInput,
        el("button", {type: "submit", id: "workspace-add-note"}, w("add_note"))),
      el("h4", {}, w("routing")),
      el("ol", {id: "workspace-routing", class: "routing"}, routing.length ? routing.map((d) => this.decision(d)) : el("li", {class: "hint"}, w("no_routing"))),
      el("h4", {}, w("transcript")),
      el("ol", {id: "workspace-transcript", class: "messages read-only"}, messages.map((m) => this.message(m))));
  }

  agentName(agentId) {
    return this.agentNames.get(agentId) || agentId;
  }

  note(note) {
    return el("li", {class: "note"},
      el("span", {class: "who"}, data(note.author_name || note.author_id), " · ", format.dateTime(note.created_at)),
      note.text === null ? el("em", {}, w("redacted")) : data(note.text, {class: "note-text"}));
  }

  decision(d) {
    const queue = !d.team || d.team === "*" ? w("queue_any")
      : d.team.startsWith("tier:") ? w("queue_tier", {tier: d.team.slice(5)}) : data(d.team);
    return el("li", {class: "decision", "data-event": d.event, "data-reason": d.reason},
      el("time", {datetime: d.at}, format.dateTime(d.at)),
      el("strong", {}, w(`event.${d.event}`)), " ",
      el("span", {class: "reason"}, w(`reason.${d.reason}`)),
      el("span", {class: "decision-facts"},
        d.agent_id ? [" ", w("to_agent"), " ", data(this.agentName(d.agent_id))] : null,
        d.from_agent_id ? [" ", w("from_agent"), " ", data(this.agentName(d.from_agent_id))] : null,
        [" ", w("queue"), " ", queue],
        d.load !== null ? [" ", w("load", {load: format.number(d.load), capacity: format.number(d.capacity)})] : null));
  }

  message(m) {
    const who = m.sender.name ? [w(`sender.${m.sender.kind}`), " ", data(m.sender.name)] : w(`sender.${m.sender.kind}`);
    return el("li", {class: `message ${m.sender.kind}`},
      el("span", {class: "who"}, who),
      m.text === null ? el("em", {}, w(m.corrupted ? "corrupted" : "redacted")) : data(m.text),
      attachmentList(m.attachments, this.files, words("console-attachments.")),
      el("time", {datetime: m.sent_at}, format.dateTime(m.sent_at)));
  }

  addLabel() {
    const label = this.labelInput.value.trim();
    if (label) this.saveLabels([...this.conversation.labels, label]);
  }

  // Labels are replaced whole, from the version read: a colleague's change meanwhile is a 409, never lost.
  async saveLabels(labels) {
    const c = this.conversation;
    try {
      await this.api.patch(`v1/conversations/${encodeURIComponent(c.conversation_id)}`, {labels, labels_version: c.labels_version});
    } catch (failure) {
      this.notify(failure.code === "labels_changed" ? w("labels_changed") : failure.message);
    }
    await this.open(c.conversation_id);
    this.refreshRow(c.conversation_id);
  }

  async addNote() {
    const text = this.noteInput.value.trim();
    if (!text) return;
    const id = this.conversation.conversation_id;
    try {
      await this.api.post(`v1/conversations/${encodeURIComponent(id)}/notes`, {text});
    } catch (failure) {
      this.notify(failure.message);
      return;
    }
    await this.open(id);
  }

  refreshRow(conversationId) {
    const tr = [...this.rows.children].find((row) => row.dataset.id === conversationId);
    if (tr && this.conversation) replace(tr.lastElementChild, this.chips(this.conversation.labels));
  }
}
