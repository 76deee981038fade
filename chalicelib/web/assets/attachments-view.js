// Files in a chat, as the widget and the console show them: the tray of files waiting to go with the
// next message (picked, dropped or pasted; checked here first, uploaded at once with progress, each
// cancellable or removable), and a message's files in the log (images as thumbnails from an object
// URL, anything else a chip that downloads). A file's name is data: always a text node in an element
// marked translate="no", never markup. Words: attachments.js words(ns).
import {DEFAULT_TYPES, humanSize, kindOf, objectUrl, saveBlob, sweep, uploadTo} from "./attachments.js";
import {el, replace, svg} from "./dom.js";

export const MAX_PER_MESSAGE = 10;  // the contract's bound on attachment_ids
const CACHED = 50;  // downloaded files kept for redraws (a console reopening a conversation)
const blobs = new Map();  // attachment_id -> Promise<Blob>
let ids = 0;

function nextId(kind) {
  ids += 1;
  return `sb-${kind}-${ids}`;  // not UI text
}

// A message with a file's name in it: the name in an element of its own (data, not translated).
function named(say, key, name, params = {}) {
  const parts = say(key, {...params, name: "\u0000"}).split("\u0000");
  return parts.length < 2 ? parts : [parts[0], el("span", {class: "file-name", translate: "no"}, name), parts[1]];
}

function download(api, {attachment_id: attachmentId, content_type: contentType}) {
  if (!blobs.has(attachmentId)) {
    const pending = api.blob(attachmentId, contentType);
    blobs.set(attachmentId, pending);
    pending.catch(() => blobs.delete(attachmentId));
    if (blobs.size > CACHED) blobs.delete(blobs.keys().next().value);
  }
  return blobs.get(attachmentId);
}

const CLIP = "M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48";  // not UI text

function paperClip() {
  return svg("svg", {viewBox: "0 0 24 24", width: 18, height: 18, "aria-hidden": "true", focusable: "false", fill: "none",
                     stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round"},
             svg("path", {d: CLIP}));
}

// A button's file name, for the ear only (the name shows beside it).
const hiddenName = (name) => el("span", {class: "visually-hidden", translate: "no"}, " ", name);

const isImage = (type) => String(type || "").toLowerCase().startsWith("image/");  // not UI text

// The files to send with the next message.
export class Tray {
  // say: the catalog's words; api: an AttachmentApi; conversationId: () => the open conversation (or
  // null: nothing can be uploaded before it exists); limits: {maxBytes, types} (null: the server's).
  constructor(say, api, conversationId, {maxBytes = null, types = null} = {}) {
    Object.assign(this, {say, api, conversationId, maxBytes});
    this.types = types?.length ? types : DEFAULT_TYPES;
    this.items = [];
    this.input = el("input", {type: "file", multiple: true, hidden: true, tabindex: -1, accept: this.types.join(","),
                              onchange: () => { this.add(this.input.files); this.input.value = ""; }});
    this.button = el("button", {type: "button", class: "attach", onclick: () => this.input.click()},
                     paperClip(),
                     el("span", {class: "visually-hidden"}, say("pick")));
    this.list = el("ul", {class: "pending-files", "aria-label": say("pending_label"), hidden: true});
    this.error = el("p", {class: "attach-error", role: "alert"});
    this.element = el("div", {class: "attachment-tray"}, this.input, this.list, this.error);
  }

  // Files dropped on any of `dropTargets`, images pasted into `pasteTarget`.
  listen(dropTargets, pasteTarget) {
    const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");  // not UI text
    for (const target of dropTargets) {
      target.addEventListener("dragover", (event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        target.classList.add("dropping");
      });
      target.addEventListener("dragleave", () => target.classList.remove("dropping"));
      target.addEventListener("drop", (event) => {
        target.classList.remove("dropping");
        if (!event.dataTransfer?.files?.length) return;
        event.preventDefault();
        this.add(event.dataTransfer.files);
      });
    }
    pasteTarget.addEventListener("paste", (event) => {
      const files = event.clipboardData?.files;
      if (!files?.length) return;
      event.preventDefault();
      this.add(files);
    });
  }

  show(...parts) {
    replace(this.error, ...parts);
  }

  // Checks each file here first (count, type, size), then uploads it.
  add(files) {
    this.show();
    for (const file of files) {
      const refused = this.refusal(file);
      if (refused) { this.show(...refused); continue; }
      this.upload(file);
    }
  }

  refusal(file) {
    if (!this.conversationId()) return [this.say("start_first")];
    if (this.items.length >= MAX_PER_MESSAGE) return [this.say("too_many", {max: MAX_PER_MESSAGE})];
    if (!this.types.includes(file.type)) return named(this.say, "wrong_type", file.name);
    if (this.maxBytes && file.size > this.maxBytes) return this.tooLarge(file.name);
    return null;
  }

  tooLarge(name) {
    return this.maxBytes ? named(this.say, "too_large", name, {limit: humanSize(this.maxBytes, this.say)})
      : named(this.say, "too_large_unknown", name);
  }

  async upload(file) {
    const item = {file, attachment: null, transfer: null};
    const nameId = nextId("file");
    const stateId = nextId("state");
    item.state = el("span", {class: "state", id: stateId}, this.say("uploading"));
    item.progress = el("progress", {max: 1, value: 0, "aria-labelledby": `${stateId} ${nameId}`});
    item.action = el("button", {type: "button", class: "remove-file", onclick: () => this.drop(item)},
                     this.say("cancel"), hiddenName(file.name));
    item.node = el("li", {class: "pending-file uploading"},
                   el("span", {class: "file-name", id: nameId, translate: "no"}, file.name),
                   el("span", {class: "file-meta"}, this.say(kindOf(file.type)), " · ", humanSize(file.size, this.say)),
                   item.state, item.progress, item.action);
    this.items.push(item);
    this.list.append(item.node);
    this.list.hidden = false;
    try {
      const created = await this.api.create(this.conversationId(), file);
      if (!this.items.includes(item)) return;  // removed meanwhile
      item.transfer = uploadTo(created.upload, file, (fraction) => { item.progress.value = fraction; });
      await item.transfer.done;
      replace(item.state, this.say("checking"));
      await this.api.checked(created.attachment_id);
      item.attachment = {attachment_id: created.attachment_id, filename: file.name, content_type: file.type, size: file.size};
      item.progress.value = 1;
      item.node.classList.replace("uploading", "ready");
      replace(item.state, this.say("ready"));
      replace(item.action, this.say("remove"), hiddenName(file.name));
    } catch (failure) {
      this.remove(item);
      if (failure.cancelled) return;
      const {key, maxBytes} = failure.refusal || {key: "failed"};
      if (maxBytes) this.maxBytes = maxBytes;
      this.show(...(key === "too_large" ? this.tooLarge(file.name) : named(this.say, key, file.name)));
    }
  }

  // The visitor's or agent's cancel or remove: focus goes back to the picker.
  drop(item) {
    item.transfer?.cancel();
    this.remove(item);
    this.button.focus();
  }

  remove(item) {
    this.items = this.items.filter((other) => other !== item);
    item.node.remove();
    this.list.hidden = !this.items.length;
  }

  busy() {
    return this.items.some((item) => !item.attachment);
  }

  // What goes with the message: [{attachment_id, filename, content_type, size}].
  ready() {
    return this.items.filter((item) => item.attachment).map((item) => item.attachment);
  }

  clear() {
    for (const item of [...this.items]) { item.transfer?.cancel(); this.remove(item); }
    this.show();
  }
}

// A message's files: images as thumbnails (only for an image type the server reports, and only once the
// bytes it serves are one), the rest as chips that download.
export function attachmentList(attachments, api, say) {
  if (!attachments?.length) return null;
  sweep();
  return el("ul", {class: "attachments", "aria-label": say("attachments_label")},
            attachments.map((attachment) => el("li", {}, isImage(attachment.content_type)
              ? thumbnail(attachment, api, say) : chip(attachment, api, say))));
}

function chip(attachment, api, say) {
  const status = el("span", {class: "attach-error", role: "alert"});
  const button = el("button", {type: "button", class: "file-chip", onclick: async () => {
    replace(status);
    try {
      saveBlob(await download(api, attachment), attachment.filename);
    } catch (failure) {
      replace(status, ...named(say, failure.status === 410 ? "gone" : "download_failed", attachment.filename));
    }
  }}, el("span", {class: "visually-hidden"}, say("download"), " "),
  el("span", {class: "file-kind"}, say(kindOf(attachment.content_type))),
  el("span", {class: "file-name", translate: "no"}, attachment.filename),
  el("span", {class: "file-size"}, humanSize(attachment.size, say)));
  return el("span", {class: "file"}, button, status);
}

function thumbnail(attachment, api, say) {
  const image = el("img", {alt: attachment.filename, translate: "no"});
  const link = el("a", {class: "thumbnail loading", target: "_blank", rel: "noopener"},
                  el("span", {class: "visually-hidden"}, say("open_image"), " "), image);
  const holder = el("span", {class: "file"}, link);
  download(api, attachment).then((blob) => {
    const url = objectUrl(blob, image);
    image.src = url;
    link.href = url;
    link.classList.remove("loading");
  }, () => holder.replaceWith(chip(attachment, api, say)));
  return holder;
}
