// The tab's title: the count of unread messages in my chats, flashing "New message" while any is
// unread, so an agent in another tab sees news.
import {t} from "./i18n.js";

// The console's own title, in the console's language once its catalog is loaded; it reads as a
// string wherever one is wanted (`document.title = TITLE`).
export const TITLE = {toString: () => t("console-title.product")};

export class UnreadTitle {
  // unreadTotal: () => how many messages of my chats are unread.
  constructor(unreadTotal) {
    this.unreadTotal = unreadTotal;
    this.flasher = null;
  }

  update() {
    const total = this.unreadTotal();
    document.title = total ? t("console-title.unread", {count: total, product: TITLE}) : String(TITLE);
  }

  flash() {
    this.update();
    if (this.flasher) return;
    let on = false;
    this.flasher = setInterval(() => {
      const count = this.unreadTotal();
      if (!count) { this.stop(); this.update(); return; }
      on = !on;
      document.title = on ? t("console-title.unread", {count, product: TITLE}) : t("console-title.unread_dim", {count, product: TITLE});
    }, 1000);
  }

  stop() {
    clearInterval(this.flasher);
    this.flasher = null;
  }
}
