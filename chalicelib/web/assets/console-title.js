// The tab's title: the count of unread messages in my chats, flashing "New message" while any is
// unread, so an agent in another tab sees news.
export const TITLE = "Switchboard console";

export class UnreadTitle {
  // unreadTotal: () => how many messages of my chats are unread.
  constructor(unreadTotal) {
    this.unreadTotal = unreadTotal;
    this.flasher = null;
  }

  update() {
    const total = this.unreadTotal();
    document.title = total ? `(${total}) New message — ${TITLE}` : TITLE;
  }

  flash() {
    this.update();
    if (this.flasher) return;
    let on = false;
    this.flasher = setInterval(() => {
      const total = this.unreadTotal();
      if (!total) { this.stop(); this.update(); return; }
      on = !on;
      document.title = on ? `(${total}) New message — ${TITLE}` : `(${total}) ${TITLE}`;
    }, 1000);
  }

  stop() {
    clearInterval(this.flasher);
    this.flasher = null;
  }
}
