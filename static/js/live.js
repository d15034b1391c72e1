// Live pages. Events from GET /api/events (Server-Sent Events) update the inbox list, the
// badge and the open conversation in place. After a reconnect the page re-reads the API,
// so nothing sent meanwhile is missed; while no stream can be had (no Redis, a WSGI
// server, a proxy that buffers) it polls the API instead. Messages are keyed by uuid, so
// one that arrives twice (the sender's own tab, a replayed stream record, a re-sync)
// shows once. Times are formatted in the reader's zone with the server's own rules
// (messaging/templatetags/cruddur.py).
(function () {
  "use strict";

  var body = document.body;
  var me = body.dataset.userUuid;
  if (!me || !window.fetch) return;

  var POLL_MS = 10000;
  var TICK_MS = 30000;
  var TYPING_SHOWN_MS = 6000;
  var TYPING_SENT_EVERY_MS = 3000;
  var STREAM_FAILURES_BEFORE_POLLING = 3;
  var STREAM_RETRY_MS = 30000;
  var RESYNC_MAX_PAGES = 5;
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  var DAYS = { Sun: "Sunday", Mon: "Monday", Tue: "Tuesday", Wed: "Wednesday",
    Thu: "Thursday", Fri: "Friday", Sat: "Saturday" };
  var LINK = /https?:\/\/[^\s<>"'`]+/gi;
  var TRAILING = /[.,;:!?)\]}'"]+$/;

  var myHandle = body.dataset.userHandle;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.content : "";
  // Pages render in the stored zone, UTC until the browser has reported its own.
  var zone = body.dataset.timeZone || "UTC";

  // ---- Times, in the reader's zone ----------------------------------------------------

  var partsFormat = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, year: "numeric", month: "numeric", day: "numeric", weekday: "short",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    timeZoneName: "short",
  });

  function parts(date) {
    var found = {};
    partsFormat.formatToParts(date).forEach(function (part) { found[part.type] = part.value; });
    return found;
  }

  function pad(number) { return (number < 10 ? "0" : "") + number; }

  function dayKey(date) {
    var p = parts(date);
    return p.year + "-" + pad(+p.month) + "-" + pad(+p.day);
  }

  function timeOfDay(date) {
    var p = parts(date);
    return p.hour + ":" + p.minute;
  }

  function exactTime(date) {
    var p = parts(date);
    return p.weekday + " " + p.day + " " + MONTHS[p.month - 1].slice(0, 3) + " " + p.year +
      ", " + p.hour + ":" + p.minute + ":" + p.second + " " + p.timeZoneName;
  }

  function relativeTime(date, now) {
    var seconds = (now - date) / 1000;
    if (seconds < 60) return "just now";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min ago";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h ago";
    var p = parts(date);
    if (seconds < 6 * 86400) return p.weekday;
    var short = p.day + " " + MONTHS[p.month - 1].slice(0, 3);
    return p.year === parts(now).year ? short : short + " " + p.year;
  }

  function previousDayKey(key) {
    var date = new Date(key + "T12:00:00Z");
    date.setUTCDate(date.getUTCDate() - 1);
    return date.toISOString().slice(0, 10);
  }

  function dayLabel(key, todayKey) {
    if (key === todayKey) return "Today";
    if (key === previousDayKey(todayKey)) return "Yesterday";
    var date = new Date(key + "T12:00:00Z");
    var weekday = DAYS[date.toUTCString().slice(0, 3)];
    var label = weekday + " " + date.getUTCDate() + " " + MONTHS[date.getUTCMonth()];
    return key.slice(0, 4) === todayKey.slice(0, 4) ? label : label + " " + key.slice(0, 4);
  }

  // The server words relative times by its own clock; the reader's clock decides.
  function renderTimes(root) {
    var now = new Date();
    root.querySelectorAll("time[data-relative]").forEach(function (node) {
      node.textContent = relativeTime(new Date(node.getAttribute("datetime")), now);
    });
  }

  function tick() {
    renderTimes(document);
    if (list) reflow();
  }

  // ---- Requests -------------------------------------------------------------------------

  function request(url, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({ "X-CSRFToken": csrfToken, Accept: "application/json" },
      options.headers || {});
    return fetch(url, options);
  }

  function getJson(url) {
    return request(url).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  // ---- The badge and the inbox list ---------------------------------------------------

  function setBadge(count) {
    var link = document.querySelector("[data-nav-messages]");
    if (!link || isNaN(count)) return;
    var badge = link.querySelector('[data-testid="nav-unread"]');
    if (count > 0) {
      if (!badge) {
        badge = document.createElement("span");
        badge.className = "badge";
        badge.dataset.testid = "nav-unread";
        link.appendChild(document.createTextNode(" "));
        link.appendChild(badge);
      }
      badge.textContent = count;
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = " unread conversation" + (count === 1 ? "" : "s");
      badge.appendChild(hidden);
    } else if (badge) {
      badge.remove();
    }
    document.title = (count > 0 ? "(" + count + ") " : "") + document.title.replace(/^\(\d+\) /, "");
  }

  var inboxTimer = null;
  function refreshInbox() {
    clearTimeout(inboxTimer);
    inboxTimer = setTimeout(loadInbox, 150);
  }

  function loadInbox() {
    var url = body.dataset.inboxUrl + "?fragment=list" + (group ? "&current=" + group : "");
    return request(url, { headers: { Accept: "text/html" } }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.text();
    }).then(function (html) {
      var fresh = document.createElement("template");
      fresh.innerHTML = html;
      var counted = fresh.content.querySelector("[data-nav-unread]");
      if (counted && counted.dataset.navUnread !== "") setBadge(parseInt(counted.dataset.navUnread, 10));
      document.querySelectorAll("[data-inbox-list][data-live]").forEach(function (holder) {
        holder.replaceChildren(fresh.content.cloneNode(true));
        renderTimes(holder);
      });
    }).catch(function () { /* the next event or poll tries again */ });
  }

  // ---- The open conversation ----------------------------------------------------------

  var thread = document.querySelector(".thread[data-group-uuid]");
  var group = thread ? thread.dataset.groupUuid : null;
  var list = thread ? thread.querySelector("ol.messages") : null;
  var scroller = thread ? thread.querySelector(".thread__scroll") : null;
  // An older page of the thread: new messages belong on the newest page, not here.
  var paged = list ? list.hasAttribute("data-paged") : false;
  var membersNode = document.getElementById("members-data");
  var members = membersNode ? JSON.parse(membersNode.textContent) : {};
  var uuidByHandle = {};
  Object.keys(members).forEach(function (uuid) { uuidByHandle[members[uuid].handle] = uuid; });
  var otherReadAt = thread && thread.dataset.otherReadAt ? new Date(thread.dataset.otherReadAt) : null;

  function senderOf(message) {
    return message.sender_uuid || uuidByHandle[message.handle] || "";
  }

  function avatarNode(uuid, message) {
    var member = members[uuid] || {};
    var name = member.display_name || message.display_name || message.handle || "";
    var handle = member.handle || message.handle || "";
    var node;
    if (member.avatar_url) {
      node = document.createElement("img");
      node.className = "avatar";
      node.src = member.avatar_url;
      node.alt = "";
      node.width = node.height = 32;
    } else {
      node = document.createElement("span");
      node.className = "avatar avatar--initials";
      node.setAttribute("aria-hidden", "true");
      node.style.cssText = "--size: 32px; --hue: " + (member.hue || 0) + "; --hue2: " +
        (member.hue2 || 0) + "; --angle: " + (member.angle || 0) + "deg";
      node.textContent = member.initials || name.slice(0, 1).toUpperCase();
    }
    node.title = name + " (@" + handle + ")";
    return node;
  }

  function linkified(text) {
    var fragment = document.createDocumentFragment();
    var position = 0;
    text.replace(LINK, function (match, offset) {
      var url = match.replace(TRAILING, "");
      if (url.length <= "https://".length) return match;
      fragment.appendChild(document.createTextNode(text.slice(position, offset)));
      var link = document.createElement("a");
      link.href = url;
      link.rel = "noopener nofollow";
      link.target = "_blank";
      link.textContent = url;
      fragment.appendChild(link);
      position = offset + url.length;
      return match;
    });
    fragment.appendChild(document.createTextNode(text.slice(position)));
    return fragment;
  }

  function fillBody(node, message) {
    var text = node.querySelector(".message__body");
    node.classList.toggle("message--deleted", !!message.deleted);
    // The same words as the server's page (templates/messaging/_message.html).
    text.replaceChildren(message.deleted ? document.createTextNode("Message deleted")
      : linkified(message.message));
    var meta = node.querySelector(".message__meta");
    var edited = meta.querySelector(".message__edited");
    if (message.deleted && edited) edited.remove();
    if (message.edited_at && !message.deleted && !edited) {
      edited = document.createElement("span");
      edited.className = "message__edited";
      edited.textContent = " (edited)";
      meta.appendChild(edited);
    }
    node.dispatchEvent(new CustomEvent("cruddur:message-filled", { bubbles: true }));
  }

  // static/js/message_actions.js shows an edit or deletion with the same rendering.
  window.Cruddur = Object.assign(window.Cruddur || {}, { fillBody: fillBody });

  function messageNode(message) {
    var sender = senderOf(message);
    var member = members[sender] || {};
    var created = new Date(message.created_at);
    var node = document.createElement("li");
    node.className = "message" + (sender === me ? " message--mine" : "");
    node.id = "m-" + message.uuid;
    node.dataset.sender = sender;
    node.dataset.createdAt = message.created_at;
    node.appendChild(avatarNode(sender, message));
    var bubble = document.createElement("div");
    bubble.className = "message__bubble";
    var meta = document.createElement("p");
    meta.className = "message__meta";
    var name = document.createElement("span");
    name.className = "message__sender";
    name.textContent = member.display_name || message.display_name || message.handle || "";
    var time = document.createElement("time");
    time.setAttribute("datetime", message.created_at);
    time.title = exactTime(created);
    time.textContent = timeOfDay(created);
    meta.append(name, " ", time);
    var text = document.createElement("p");
    text.className = "message__body";
    bubble.append(meta, text);
    node.appendChild(bubble);
    fillBody(node, message);
    return node;
  }

  function shownMessages() { return list ? list.querySelectorAll("li.message") : []; }

  function lastShown() {
    var shown = shownMessages();
    return shown.length ? shown[shown.length - 1] : null;
  }

  // Day dividers and sender runs, recomputed over the whole list after any change.
  function reflow() {
    var todayKey = dayKey(new Date());
    list.querySelectorAll(".day-divider").forEach(function (node) { node.remove(); });
    var previousDay = null;
    var previousSender = null;
    shownMessages().forEach(function (node) {
      var key = dayKey(new Date(node.dataset.createdAt));
      if (key !== previousDay) {
        var divider = document.createElement("li");
        divider.className = "day-divider";
        divider.dataset.day = key;
        var label = document.createElement("span");
        label.textContent = dayLabel(key, todayKey);
        divider.appendChild(label);
        node.before(divider);
      }
      node.classList.toggle("message--cont", key === previousDay && node.dataset.sender === previousSender);
      previousDay = key;
      previousSender = node.dataset.sender;
    });
  }

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  }

  function toBottom() { scroller.scrollTop = scroller.scrollHeight; }

  // Adds a message where it belongs in time order; false if it is already shown.
  function place(message) {
    if (!list || paged || document.getElementById("m-" + message.uuid)) return false;
    var node = messageNode(message);
    var created = new Date(message.created_at);
    var shown = shownMessages();
    var after = null;
    for (var index = shown.length - 1; index >= 0; index--) {
      if (new Date(shown[index].dataset.createdAt) <= created) { after = shown[index]; break; }
    }
    if (after) after.after(node);
    else if (shown.length) shown[0].before(node);
    else list.appendChild(node);
    var empty = thread.querySelector("[data-empty-thread]");
    if (empty) empty.remove();
    return true;
  }

  function showMessages(messages) {
    var stick = nearBottom();
    var added = messages.filter(place);
    if (!added.length) return added;
    reflow();
    updateSeen();
    if (stick || added.some(function (message) { return senderOf(message) === me; })) toBottom();
    if (added.some(function (message) { return senderOf(message) !== me; })) markReadSoon();
    return added;
  }

  function updateSeen() {
    var seen = thread.querySelector(".seen");
    var last = lastShown();
    seen.hidden = !(last && !paged && last.dataset.sender === me && otherReadAt &&
      otherReadAt >= new Date(last.dataset.createdAt));
  }

  var readTimer = null;
  function markReadSoon() {
    if (document.visibilityState !== "visible") return;
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      request(thread.dataset.readUrl, { method: "POST" }).catch(function () {});
    }, 300);
  }

  // ---- Typing -------------------------------------------------------------------------

  var typingTimer = null;
  function showTyping(name) {
    var notice = thread.querySelector(".typing");
    var stick = nearBottom();
    notice.textContent = name + " is typing\u2026";
    notice.hidden = false;
    if (stick) toBottom();
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_SHOWN_MS);
  }

  function hideTyping() {
    if (!thread) return;
    clearTimeout(typingTimer);
    thread.querySelector(".typing").hidden = true;
  }

  var composer = thread ? thread.querySelector(".composer") : null;
  var field = composer ? composer.querySelector("textarea") : null;
  var typingSentAt = 0;
  if (field && thread.dataset.typingUrl) {
    field.addEventListener("input", function () {
      var now = Date.now();
      if (!field.value.trim() || now - typingSentAt < TYPING_SENT_EVERY_MS) return;
      typingSentAt = now;
      request(thread.dataset.typingUrl, { method: "POST" }).catch(function () {});
    });
  }

  // ---- Sending without a reload -------------------------------------------------------

  function showSendError(text) {
    var foot = composer.querySelector(".composer__foot");
    var error = foot.querySelector(".field__error");
    if (!text) {
      if (error) error.remove();
      field.removeAttribute("aria-invalid");
      return;
    }
    if (!error) {
      error = document.createElement("p");
      error.className = "field__error";
      error.id = "message-error";
      error.setAttribute("role", "alert");
      foot.prepend(error);
    }
    error.textContent = text;
    field.setAttribute("aria-invalid", "true");
  }

  function errorText(data) {
    if (!data) return "Your message was not sent. Try again.";
    if (data.message) return [].concat(data.message)[0];
    if (data.detail) return data.detail;
    var first = Object.keys(data)[0];
    return first ? [].concat(data[first])[0] : "Your message was not sent. Try again.";
  }

  if (composer && group && !paged) {
    var pendingKey = null;
    var pendingText = null;
    composer.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = field.value;
      if (!text.trim()) { showSendError("Write a message first."); return; }
      // A retry of the same text reuses its key, so a lost response never sends twice.
      if (text !== pendingText) { pendingKey = newKey(); pendingText = text; }
      var button = composer.querySelector('button[type="submit"]');
      button.disabled = true;
      request("/api/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": pendingKey },
        body: JSON.stringify({ message: text, message_group_uuid: group }),
      }).then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) {
          if (!response.ok) { showSendError(errorText(data)); return; }
          pendingKey = pendingText = null;
          showSendError(null);
          field.value = "";
          field.dispatchEvent(new Event("input"));
          showMessages([data]);
          toBottom();
        });
      }).catch(function () {
        showSendError("Couldn't reach Cruddur. Check your connection and send again.");
      }).finally(function () {
        button.disabled = false;
        field.focus();
      });
    });
  }

  // ---- Older messages above -----------------------------------------------------------

  var loadingOlder = false;
  function loadOlder(link) {
    if (loadingOlder) return;
    loadingOlder = true;
    var url = thread.dataset.messagesUrl + "?cursor=" + encodeURIComponent(link.dataset.cursor);
    getJson(url).then(function (page) {
      var height = scroller.scrollHeight;
      var top = scroller.scrollTop;
      var first = shownMessages()[0] || null;
      page.results.forEach(function (message) {
        if (document.getElementById("m-" + message.uuid)) return;
        var node = messageNode(message);
        if (first) first.before(node); else list.appendChild(node);
      });
      reflow();
      scroller.scrollTop = top + (scroller.scrollHeight - height);
      if (page.next) {
        link.dataset.cursor = page.next;
        link.href = "?cursor=" + encodeURIComponent(page.next);
      } else {
        link.closest("[data-older]").remove();
      }
    }).catch(function () {
      window.location.href = link.href;
    }).finally(function () { loadingOlder = false; });
  }

  var olderLink = thread ? thread.querySelector("[data-older] a[data-cursor]") : null;
  if (olderLink) {
    olderLink.addEventListener("click", function (event) {
      event.preventDefault();
      loadOlder(olderLink);
    });
    // Scrolling up to the top loads the page before it, as in any messaging app.
    scroller.addEventListener("scroll", function () {
      if (scroller.scrollTop < 80 && olderLink.isConnected) loadOlder(olderLink);
    }, { passive: true });
  }

  // ---- Catching up ----------------------------------------------------------------------

  // Reads the thread's newest pages until one holds a message already shown.
  function resyncThread() {
    if (!thread || paged) return Promise.resolve();
    var collected = [];
    function page(cursor, remaining) {
      var url = thread.dataset.messagesUrl + (cursor ? "?cursor=" + encodeURIComponent(cursor) : "");
      return getJson(url).then(function (data) {
        var known = false;
        data.results.forEach(function (message) {
          var node = document.getElementById("m-" + message.uuid);
          if (node) { known = true; fillBody(node, message); } else collected.push(message);
        });
        if (!known && data.next && remaining > 1) return page(data.next, remaining - 1);
        return null;
      });
    }
    return page(null, RESYNC_MAX_PAGES).then(function () { showMessages(collected); });
  }

  function resync() {
    loadInbox();
    resyncThread().catch(function () {});
  }

  // ---- The stream, or polling ---------------------------------------------------------

  var source = null;
  var failures = 0;
  var connectedBefore = false;
  var pollTimer = null;
  var retryTimer = null;

  function handlers() {
    return {
      message: function (data) {
        if (data.message_group_uuid !== group) return;
        if (senderOf(data) !== me) hideTyping();
        showMessages([data]);
      },
      message_updated: function (data) {
        var node = document.getElementById("m-" + data.uuid);
        if (node) fillBody(node, data);
      },
      inbox: function () { refreshInbox(); },
      read: function (data) {
        if (data.message_group_uuid !== group || data.member_uuid === me || !data.last_read_at) return;
        var readAt = new Date(data.last_read_at);
        if (!otherReadAt || readAt > otherReadAt) otherReadAt = readAt;
        updateSeen();
      },
      typing: function (data) {
        if (data.message_group_uuid !== group || data.handle === myHandle) return;
        showTyping(data.display_name || "@" + data.handle);
      },
    };
  }

  function setPolling(on) {
    body.dataset.live = on ? "polling" : "stream";
    if (on && !pollTimer) pollTimer = setInterval(resync, POLL_MS);
    if (!on && pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }

  function connect() {
    clearTimeout(retryTimer);
    if (source || !window.EventSource) { if (!window.EventSource) setPolling(true); return; }
    source = new EventSource(body.dataset.eventsUrl);
    var table = handlers();
    Object.keys(table).forEach(function (name) {
      source.addEventListener(name, function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (error) { return; }
        table[name](data);
      });
    });
    source.addEventListener("open", function () {
      // Whatever happened while the stream was down is only in the API now.
      if (connectedBefore || failures > 0) resync();
      connectedBefore = true;
      failures = 0;
      setPolling(false);
    });
    source.addEventListener("error", function () {
      failures += 1;
      // A refused stream (503, 401) closes for good; a dropped one keeps retrying.
      if (source.readyState === EventSource.CLOSED || failures >= STREAM_FAILURES_BEFORE_POLLING) {
        source.close();
        source = null;
        setPolling(true);
        retryTimer = setTimeout(connect, STREAM_RETRY_MS);
      }
    });
  }

  window.addEventListener("online", function () {
    // Events that came while offline may have found every request failing: catch up.
    resync();
    if (source) return;
    failures = 0;
    connect();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible" || !thread) return;
    var last = lastShown();
    if (last && last.dataset.sender !== me) markReadSoon();
  });

  // ---- The reader's time zone, once ---------------------------------------------------

  function reportTimeZone() {
    if (body.dataset.timeZone) return;
    var browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!browserZone) return;
    var form = new URLSearchParams({ time_zone: browserZone });
    request(body.dataset.timeZoneUrl, { method: "POST", body: form }).then(function (response) {
      // The page was drawn in UTC: draw it again in the reader's zone, unless they are
      // already writing something.
      if (response.status === 204 && browserZone !== "UTC" && !(field && field.value)) {
        window.location.reload();
      }
    }).catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    reportTimeZone();
    if (list) { reflow(); updateSeen(); }
    setInterval(tick, TICK_MS);
    connect();
  });
})();
