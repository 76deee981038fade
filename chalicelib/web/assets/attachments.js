// Files in a chat, for the widget and the console alike: the upload (POST .../attachments for a
// presigned S3 POST, then the bytes straight to S3 with progress and a way to cancel), the download
// (GET /v1/attachments/{id} with the token, in ranges when the server answers 206, assembled into a
// Blob: an <img src> cannot carry a token), sizes and kinds in words, and the object URLs given out
// (revoked once what shows them has left the page).
// The words are the caller's catalog: `ns` is "widget.attachment_" in the widget and
// "console-attachments." in the console, and both catalogs hold the same keys (tests/unit/
// test_attachment_texts.py checks every key this and attachments-view.js name).
import {format, t} from "./i18n.js";

// The types offered when the server does not list its own (chalicelib/attachments/types.py ALLOWED).
export const DEFAULT_TYPES = [
  "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/csv",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
];  // not UI text
// After the upload the server checks the bytes (pending, then ready or rejected): asked this often.
const CHECK_WAITS_MS = [200, 400, 800, 1000, 1500, 2000, 3000, 4000];
// A download asks for this much at a time: an answer stays under a Lambda's 6 MB even in base64.
const PIECE = 3 * 1024 * 1024;
const KIB = 1024;

// The words of one catalog: say("too_large", {limit}) is t(`${ns}too_large`, {limit}).
export function words(ns) {
  return (key, params) => t(`${ns}${key}`, params);
}

// A size in the current language ("1.4 MB" / "1.4 兆字节").
export function humanSize(bytes, say) {
  const number = (value) => format.number(value, {maximumFractionDigits: 1});
  if (bytes < KIB) return say("size_bytes", {count: bytes, size: number(bytes)});
  if (bytes < KIB * KIB) return say("size_kb", {size: number(bytes / KIB)});
  return say("size_mb", {size: number(bytes / KIB / KIB)});
}

// A type's kind in a word ("PDF", "image", "spreadsheet"...), for a chip's label.
export function kindOf(contentType) {
  const type = String(contentType || "").toLowerCase();
  if (type.startsWith("image/")) return "kind_image";
  if (type === "application/pdf") return "kind_pdf";
  if (/spreadsheet|excel|csv/.test(type)) return "kind_spreadsheet";
  if (/presentation|powerpoint/.test(type)) return "kind_presentation";
  if (/word|opendocument\.text|rtf/.test(type)) return "kind_document";
  if (type.startsWith("text/")) return "kind_text";
  return "kind_file";
}

// Why a request failed, as a catalog key, and the limit a 413 names (null when it names none).
function refusal(status, error = {}) {
  if (status === 413 || error.code === "attachment_too_large") {
    return {key: "too_large", maxBytes: Number(error.details?.max_bytes) || null};
  }
  if (status === 415 || error.code === "unsupported_media_type") return {key: "wrong_type", maxBytes: null};
  if (error.code === "too_many_attachments") return {key: "conversation_full", maxBytes: null};
  return {key: "failed", maxBytes: null};
}

export class AttachmentApi {
  // base: the URL the API is mounted at; token: async () => the caller's current token.
  constructor(base, token) {
    Object.assign(this, {base, token});
  }

  async headers(extra = {}) {
    return {Authorization: `Bearer ${await this.token()}`, ...extra};  // not UI text
  }

  // POST /v1/conversations/{id}/attachments: {attachment_id, upload: {url, fields}}; a refusal throws
  // {refusal: {key, maxBytes}}.
  async create(conversationId, file) {
    const response = await fetch(new URL(`v1/conversations/${encodeURIComponent(conversationId)}/attachments`, this.base), {
      method: "POST", headers: await this.headers({"Content-Type": "application/json"}),
      body: JSON.stringify({filename: file.name, content_type: file.type, size: file.size})});
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(String(response.status)), {refusal: refusal(response.status, answer.error)});
    return answer;
  }

  // Waits for the server's check of the uploaded bytes; a file not of its declared type is refused.
  async checked(attachmentId) {
    const url = new URL(`v1/attachments/${encodeURIComponent(attachmentId)}/status`, this.base);
    for (const wait of [0, ...CHECK_WAITS_MS]) {
      await new Promise((resolve) => { setTimeout(resolve, wait); });
      const response = await fetch(url, {headers: await this.headers()});
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw Object.assign(new Error(String(response.status)), {refusal: refusal(response.status, answer.error)});
      if (answer.status === "ready") return answer;
      if (answer.status === "rejected") throw Object.assign(new Error(answer.status), {refusal: {key: "wrong_type", maxBytes: null}});
    }
    throw Object.assign(new Error("pending"), {refusal: {key: "failed", maxBytes: null}});  // not UI text
  }

  // The file as a Blob of the type the server reported for it (message.new): piece by piece while the
  // server answers 206. Asked for as octet-stream: API Gateway passes binary bodies only then.
  async blob(attachmentId, contentType) {
    const url = new URL(`v1/attachments/${encodeURIComponent(attachmentId)}`, this.base);
    const pieces = [];
    let start = 0;
    for (;;) {
      const response = await fetch(url, {headers: await this.headers({
        Accept: "application/octet-stream", Range: `bytes=${start}-${start + PIECE - 1}`})});  // not UI text
      if (!response.ok) throw Object.assign(new Error(String(response.status)), {status: response.status});
      pieces.push(await response.blob());
      const range = /bytes (\d+)-(\d+)\/(\d+)/.exec(response.headers.get("Content-Range") || "");
      if (response.status !== 206 || !range) break;
      start = Number(range[2]) + 1;
      if (start >= Number(range[3])) break;
    }
    return new Blob(pieces, {type: contentType});
  }
}

// The bytes to the presigned POST: its fields first, the file last (S3 reads the policy before the
// body). onProgress(fraction). Resolves when S3 has them; cancel() aborts (the promise rejects with
// {cancelled: true}).
export function uploadTo(upload, file, onProgress) {
  const request = new XMLHttpRequest();
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields || {})) form.append(name, value);
  form.append("file", file);  // not UI text
  const done = new Promise((resolve, reject) => {
    request.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) resolve();
      // S3 says EntityTooLarge in XML when the policy's size range refuses the file.
      else reject(Object.assign(new Error(String(request.status)), {refusal: {
        key: /EntityTooLarge/.test(request.responseText) ? "too_large" : "failed", maxBytes: null}}));
    };
    request.onerror = () => reject(Object.assign(new Error("network"), {refusal: {key: "failed", maxBytes: null}}));  // not UI text
    request.onabort = () => reject(Object.assign(new Error("cancelled"), {cancelled: true}));  // not UI text
  });
  request.open("POST", upload.url);
  request.send(form);
  return {done, cancel: () => request.abort()};
}

// Object URLs handed to the page, each with the node showing it; sweep() revokes those whose node left.
const shown = new Map();

export function objectUrl(blob, node) {
  sweep();
  const url = URL.createObjectURL(blob);
  shown.set(url, node);
  return url;
}

export function sweep() {
  for (const [url, node] of shown) {
    if (!node.isConnected) {
      URL.revokeObjectURL(url);
      shown.delete(url);
    }
  }
}

// Saves a Blob under its name (a link clicked, its URL revoked once the browser has it).
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), {href: url, download: filename});
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
