// The chat connection shared by the console and the widget: one WebSocket that reconnects with
// backoff, keeps every message.send until its ack (or error) and resends it after a reconnect
// with the same client_msg_id (the server stores a repeated one once), and tells the page when
// it is back so the page can ask for what it missed (messages.sync).

const PING_EVERY_MS = 4 * 60 * 1000;  // the gateway closes a connection quiet for 10 minutes
const MAX_BACKOFF_MS = 10000;

export class Channel {
  // url: the WebSocket URL; token: async () => a current token; onFrame(frame); onOpen();
  // onState("connecting" | "online" | "reconnecting").
  constructor({url, token, onFrame, onOpen = () => {}, onState = () => {}}) {
    Object.assign(this, {url, token, onFrame, onOpen, onState});
    this.outbox = new Map();  // client_msg_id -> frame, in the order they were sent
    this.syncs = new Map();  // conversation_id -> the last messages.sync sent (sent again if rate limited)
    this.socket = null;
    this.failures = 0;
    this.stopped = false;
  }

  async start() {
    if (this.stopped) return;
    this.onState(this.failures ? "reconnecting" : "connecting");
    let token;
    try {
      token = await this.token();
    } catch (error) {
      this.retry();  // no token now (the network, or the session ended: then stop() comes)
      return;
    }
    const socket = new WebSocket(`${this.url}?token=${encodeURIComponent(token)}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.failures = 0;
      this.onState("online");
      this.onOpen();
      for (const frame of this.outbox.values()) socket.send(JSON.stringify(frame));
      this.pinger = setInterval(() => this.send({action: "ping"}), PING_EVERY_MS);
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", () => {
      clearInterval(this.pinger);
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      this.retry();
    });
  }

  // Keep trying at a bounded pace: a refused handshake looks like a lost network to a page, and
  // the token callback renews an expired token (or the page stops the channel).
  retry() {
    if (this.stopped) return;
    this.failures += 1;
    const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.failures) * (0.5 + Math.random() / 2);
    this.onState("reconnecting");
    setTimeout(() => this.start(), delay);
  }

  get online() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  // Ephemeral frames (typing, read, presence...): sent now or not at all.
  send(frame) {
    if (frame.action === "messages.sync") this.syncs.set(frame.conversation_id, frame);
    if (this.online) this.socket.send(JSON.stringify(frame));
    return this.online;
  }

  // message.send: delivered at least once; the server's idempotency makes it exactly once.
  sendMessage(fields) {
    const frame = {action: "message.send", client_msg_id: crypto.randomUUID(), ...fields};
    this.outbox.set(frame.client_msg_id, frame);
    this.send(frame);
    return frame.client_msg_id;
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === "error" && frame.code === "rate_limited" && frame.ref === "messages.sync") {
      // Too many frames on this connection (a reconnect syncing many chats, a long history's pages):
      // the page is still owed, so ask again once the limit's second has passed.
      const again = this.syncs.get(frame.conversation_id);
      if (again) setTimeout(() => this.send(again), (frame.retry_after || 1) * 1000);
      return;
    }
    if ((frame.type === "ack" || frame.type === "error") && this.outbox.has(frame.client_msg_id ?? frame.ref)) {
      if (frame.type === "error" && frame.code === "conflict") {
        const frameAgain = this.outbox.get(frame.ref);
        setTimeout(() => this.send(frameAgain), 500);  // a lost race: the same id again is safe
        return;
      }
      this.outbox.delete(frame.client_msg_id ?? frame.ref);
    }
    this.onFrame(frame);
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pinger);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }
}

// One conversation's messages by seq: knows what it already has, so replays and the live
// stream can overlap without doubling anything, and which seq to sync from.
export class Transcript {
  constructor() {
    this.messages = new Map();
    this.contiguous = 0;  // every seq up to this one is here
  }

  add(message) {
    if (this.messages.has(message.seq)) return false;
    this.messages.set(message.seq, message);
    while (this.messages.has(this.contiguous + 1)) this.contiguous += 1;
    return true;
  }

  get lastSeq() {
    return Math.max(0, ...this.messages.keys());
  }
}
