// The admin's Webhooks screen (docs/webhooks.md): the tenant's webhooks (URL and events), adding one with a
// URL and event checkboxes (its signing secret shown once, with a copy button), sending one a test event,
// deleting one after a confirmation, and each webhook's deliveries (event, status, attempts, last status code). URLs, event ids
// and secrets are data: shown translate="no".
import {shownOnce} from "./console-keys.js";
import {append, el, replace} from "./dom.js";
import {format, t} from "./i18n.js";

const EVENTS = ["conversation.created", "conversation.assigned", "conversation.closed", "message.created",
                "survey.answered"]; // not UI text
const EVENT_NAMES = {
  "conversation.created": () => t("console-webhooks.event_conversation_created"),
  "conversation.assigned": () => t("console-webhooks.event_conversation_assigned"),
  "conversation.closed": () => t("console-webhooks.event_conversation_closed"),
  "message.created": () => t("console-webhooks.event_message_created"),
  "survey.answered": () => t("console-webhooks.event_survey_answered"),
  "webhook.test": () => t("console-webhooks.event_webhook_test"),
};
const STATUS_NAMES = {pending: () => t("console-webhooks.status_pending"),
                      failed: () => t("console-webhooks.status_failed"),
                      succeeded: () => t("console-webhooks.status_succeeded"),
                      dead: () => t("console-webhooks.status_dead")};

const eventName = (type) => (EVENT_NAMES[type] ? EVENT_NAMES[type]() : type);

export class Webhooks {
  // notify(message): shows a failure in the console's toast.
  constructor(api, notify) {
    Object.assign(this, {api, notify});
  }

  async draw(main) {
    this.rows = el("tbody", {id: "webhook-rows"});
    this.url = el("input", {id: "webhook-url", type: "url", required: true, maxlength: 2000, translate: "no",
                            placeholder: t("console-webhooks.url_placeholder")});
    this.boxes = EVENTS.map((type, n) => el("input", {type: "checkbox", id: `webhook-event-${n}`, value: type}));
    this.created = el("div", {id: "webhook-created", "aria-live": "polite"});
    this.deliveries = el("section", {id: "webhook-deliveries", "aria-live": "polite"});
    this.testStatus = el("p", {id: "webhook-test-status", class: "muted", role: "status"});
    replace(main, el("div", {class: "panel", id: "webhooks-screen"},
      el("h2", {}, t("console-webhooks.title")),
      el("p", {class: "muted"}, t("console-webhooks.intro")),
      el("form", {id: "webhook-form", class: "settings-form", onsubmit: (event) => this.create(event)},
        el("label", {for: "webhook-url"}, t("console-webhooks.url")), this.url,
        el("fieldset", {id: "webhook-events"},
          el("legend", {}, t("console-webhooks.events")),
          this.boxes.map((box, n) => el("div", {class: "check"}, box,
            el("label", {for: `webhook-event-${n}`}, eventName(box.value))))),
        el("div", {class: "actions"}, el("button", {type: "submit", id: "webhook-add"}, t("console-webhooks.add")))),
      this.created,
      el("table", {id: "webhook-table"},
        el("thead", {}, el("tr", {},
          el("th", {scope: "col"}, t("console-webhooks.url")), el("th", {scope: "col"}, t("console-webhooks.events")),
          el("th", {scope: "col"}, t("console-webhooks.created_at")),
          el("th", {scope: "col"}, el("span", {class: "visually-hidden"}, t("console-webhooks.actions"))))),
        this.rows),
      this.testStatus,
      this.deliveries));
    try {
      await this.list();
    } catch (failure) {
      this.notify(failure.message);
    }
  }

  async list() {
    const hooks = await this.api.all("v1/webhooks");
    replace(this.rows);
    if (!hooks.length) {
      append(this.rows, el("tr", {}, el("td", {colspan: 4, class: "empty"}, t("console-webhooks.none"))));
      return;
    }
    // Row buttons are named by their action and the webhook's URL (aria-labelledby keeps the URL data).
    append(this.rows, hooks.map((hook, row) => el("tr", {"data-webhook": hook.webhook_id},
      el("td", {class: "webhook-url", translate: "no", id: `webhook-url-${row}`}, hook.url),
      el("td", {}, hook.events.map(eventName).join(t("console-webhooks.list_separator"))),
      el("td", {}, format.dateTime(hook.created_at)),
      el("td", {class: "row-actions"},
        el("button", {type: "button", class: "webhook-deliveries", id: `webhook-show-${row}`,
                      "aria-labelledby": `webhook-show-${row} webhook-url-${row}`,
                      onclick: () => this.showDeliveries(hook)}, t("console-webhooks.show_deliveries")),
        el("button", {type: "button", class: "webhook-test", id: `webhook-test-${row}`,
                      "aria-labelledby": `webhook-test-${row} webhook-url-${row}`,
                      onclick: () => this.sendTest(hook)}, t("console-webhooks.send_test")),
        el("button", {type: "button", class: "webhook-delete danger", id: `webhook-delete-${row}`,
                      "aria-labelledby": `webhook-delete-${row} webhook-url-${row}`,
                      onclick: () => this.remove(hook)}, t("console-common.delete"))))));
  }

  async create(event) {
    event.preventDefault();
    const events = this.boxes.filter((box) => box.checked).map((box) => box.value);
    if (!events.length) {
      replace(this.created, el("p", {class: "error", role: "alert"}, t("console-webhooks.pick_an_event")));
      return;
    }
    try {
      const made = await this.api.post("v1/webhooks", {url: this.url.value.trim(), events});
      this.url.value = "";
      this.boxes.forEach((box) => { box.checked = false; });
      replace(this.created, shownOnce("webhook-secret", t("console-webhooks.secret_once"), made.secret));
      await this.list();
    } catch (failure) {
      replace(this.created, el("p", {class: "error", role: "alert"}, failure.message));
    }
  }

  async remove(hook) {
    if (!window.confirm(t("console-webhooks.confirm_delete", {url: hook.url}))) return;
    try {
      await this.api.delete(`v1/webhooks/${encodeURIComponent(hook.webhook_id)}`);
      replace(this.created);
      replace(this.deliveries);
      await this.list();
    } catch (failure) {
      this.notify(failure.message);
    }
  }

  // A test event for this webhook alone; its deliveries are shown, where the test's row appears once the
  // queue has sent it (Refresh).
  async sendTest(hook) {
    try {
      await this.api.post(`v1/webhooks/${encodeURIComponent(hook.webhook_id)}/test`);
      replace(this.testStatus, t("console-webhooks.test_sent"));
      await this.showDeliveries(hook);
    } catch (failure) {
      this.notify(failure.message);
    }
  }

  async showDeliveries(hook) {
    try {
      const page = await this.api.get(`v1/webhooks/${encodeURIComponent(hook.webhook_id)}/deliveries`);
      const body = page.items.length ? page.items.map((item) => el("tr", {"data-delivery": item.delivery_id},
        el("td", {}, eventName(item.type)),
        el("td", {translate: "no", class: "delivery-event-id"}, item.event_id),
        el("td", {class: `delivery-status delivery-${item.status}`}, STATUS_NAMES[item.status]()),
        el("td", {class: "delivery-attempts"}, format.number(item.attempts)),
        el("td", {class: "delivery-code", translate: "no"},
           item.last_status_code === null ? t("console-common.none") : String(item.last_status_code)),
        el("td", {}, item.next_attempt_at ? format.dateTime(item.next_attempt_at) : t("console-common.none"))))
        : [el("tr", {}, el("td", {colspan: 6, class: "empty"}, t("console-webhooks.no_deliveries")))];
      replace(this.deliveries,
        el("h3", {id: "webhook-deliveries-heading"}, t("console-webhooks.deliveries_of"), " ",
           el("span", {translate: "no"}, hook.url)),
        el("button", {type: "button", id: "webhook-deliveries-refresh", onclick: () => this.showDeliveries(hook)},
           t("console-common.refresh")),
        el("table", {id: "webhook-delivery-table", "aria-labelledby": "webhook-deliveries-heading"},
          el("thead", {}, el("tr", {},
            el("th", {scope: "col"}, t("console-webhooks.event")),
            el("th", {scope: "col"}, t("console-webhooks.event_id")),
            el("th", {scope: "col"}, t("console-webhooks.status")),
            el("th", {scope: "col"}, t("console-webhooks.attempts")),
            el("th", {scope: "col"}, t("console-webhooks.last_code")),
            el("th", {scope: "col"}, t("console-webhooks.next_attempt")))),
          el("tbody", {id: "webhook-delivery-rows"}, body)));
    } catch (failure) {
      this.notify(failure.message);
    }
  }
}
