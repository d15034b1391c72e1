// Edit, delete and report on the open conversation's messages. Each action is one API
// request (PATCH or DELETE /api/messages/<group>/<message>, POST .../report); the answer
// redraws the message here at once, and every other member's open page redraws it from
// the `message_updated` event (static/js/live.js). The server decides: the buttons only
// offer what it would allow (Edit for one's own messages inside MESSAGING_EDIT_WINDOW,
// Delete for one's own, Report for others'), and its refusal is shown if it says no.
(function () {
  "use strict";

  var me = document.body.dataset.userUuid;
  var thread = document.querySelector(".thread[data-group-uuid]");
  if (!me || !thread || !window.fetch) return;
  var list = thread.querySelector("ol.messages");
  if (!list) return;

  var group = thread.dataset.groupUuid;
  var editWindowMs = parseInt(thread.dataset.editWindow || "0", 10) * 1000;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.content : "";
  var RECHECK_MS = 30000;
  var REASON_LIMIT = 500;

  function messageUrl(node, suffix) {
    return "/api/messages/" + group + "/" + node.id.replace(/^m-/, "") + (suffix || "");
  }

  function call(method, url, payload) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, Accept: "application/json",
        "Content-Type": "application/json" },
      body: payload ? JSON.stringify(payload) : undefined,
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        return { ok: response.ok, data: data };
      });
    });
  }

  function refusal(data, fallback) {
    if (!data) return fallback;
    if (data.detail) return data.detail;
    var first = Object.keys(data)[0];
    return first ? [].concat(data[first])[0] : fallback;
  }

  function fill(node, message) {
    if (window.Cruddur && window.Cruddur.fillBody) window.Cruddur.fillBody(node, message);
    decorate(node);
  }

  function editable(node) {
    return Date.now() - new Date(node.dataset.createdAt).getTime() < editWindowMs;
  }

  function formButton(label, type, style) {
    var button = document.createElement("button");
    button.type = type;
    button.className = "button " + style;
    button.textContent = label;
    return button;
  }

  function actionButton(label, name, onClick) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "message__action";
    button.textContent = label;
    button.dataset.action = name;
    button.addEventListener("click", onClick);
    return button;
  }

  function showProblem(holder, text) {
    var problem = holder.querySelector(".message__problem");
    if (!problem) {
      problem = document.createElement("p");
      problem.className = "message__problem field__error";
      problem.setAttribute("role", "alert");
      holder.appendChild(problem);
    }
    problem.textContent = text;
  }

  // ---- The buttons under each message -------------------------------------------------

  function decorate(node) {
    var old = node.querySelector(".message__actions");
    if (old) old.remove();
    if (node.classList.contains("message--deleted") || node.querySelector(".message__form")) return;
    var actions = document.createElement("div");
    actions.className = "message__actions";
    if (node.dataset.sender === me) {
      if (editable(node)) actions.appendChild(actionButton("Edit", "edit", function () { startEdit(node); }));
      actions.appendChild(actionButton("Delete", "delete", function () { remove(node); }));
    } else if (!node.dataset.reported) {
      actions.appendChild(actionButton("Report", "report", function () { startReport(node); }));
    }
    node.querySelector(".message__bubble").appendChild(actions);
  }

  function decorateAll() {
    list.querySelectorAll("li.message").forEach(decorate);
  }

  // ---- A small form inside the bubble (editing, reporting) ------------------------------

  function openForm(node, options) {
    var bubble = node.querySelector(".message__bubble");
    var actions = bubble.querySelector(".message__actions");
    if (actions) actions.remove();
    var form = document.createElement("form");
    form.className = "message__form";
    form.noValidate = true;
    var field = document.createElement("textarea");
    field.setAttribute("aria-label", options.label);
    field.rows = 2;
    field.value = options.value || "";
    field.placeholder = options.placeholder || "";
    if (options.maxLength) field.maxLength = options.maxLength;
    var row = document.createElement("div");
    row.className = "message__form-row";
    var save = formButton(options.submit, "submit", "button--primary");
    var cancel = formButton("Cancel", "button", "button--quiet");
    row.append(save, cancel);
    form.append(field, row);
    bubble.appendChild(form);
    field.focus();
    function close() {
      form.remove();
      if (options.onClose) options.onClose();
      decorate(node);
    }
    cancel.addEventListener("click", close);
    form.addEventListener("keydown", function (event) {
      if (event.key === "Escape") close();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      save.disabled = true;
      options.send(field.value).then(function (result) {
        if (result.ok) {
          form.remove();
          options.done(result.data);
        } else {
          showProblem(form, refusal(result.data, options.failed));
        }
      }).catch(function () {
        showProblem(form, "Couldn't reach Cruddur. Check your connection and try again.");
      }).finally(function () { save.disabled = false; });
    });
  }

  function startEdit(node) {
    var text = node.querySelector(".message__body");
    text.hidden = true;
    openForm(node, {
      label: "Edit your message",
      value: text.textContent,
      submit: "Save",
      failed: "Your edit was not saved. Try again.",
      onClose: function () { text.hidden = false; },
      send: function (value) { return call("PATCH", messageUrl(node), { message: value }); },
      done: function (message) {
        text.hidden = false;
        fill(node, message);
      },
    });
  }

  // Asked in place, not with window.confirm: a dialog would block the page's live updates.
  function remove(node) {
    var bubble = node.querySelector(".message__bubble");
    var actions = bubble.querySelector(".message__actions");
    if (actions) actions.remove();
    var ask = document.createElement("div");
    ask.className = "message__form message__confirm";
    var question = document.createElement("p");
    question.textContent = "Delete this message for everyone?";
    var row = document.createElement("div");
    row.className = "message__form-row";
    var yes = formButton("Delete for everyone", "button", "button--primary");
    var no = formButton("Cancel", "button", "button--quiet");
    row.append(yes, no);
    ask.append(question, row);
    bubble.appendChild(ask);
    no.focus();
    function close() { ask.remove(); decorate(node); }
    no.addEventListener("click", close);
    yes.addEventListener("click", function () {
      yes.disabled = true;
      call("DELETE", messageUrl(node)).then(function (result) {
        if (!result.ok) {
          showProblem(ask, refusal(result.data, "The message was not deleted. Try again."));
          return;
        }
        ask.remove();
        fill(node, { deleted: true, message: "" });
      }).catch(function () {
        showProblem(ask, "Couldn't reach Cruddur. Check your connection and try again.");
      }).finally(function () { yes.disabled = false; });
    });
  }

  function startReport(node) {
    openForm(node, {
      label: "Why are you reporting this message?",
      placeholder: "Why are you reporting this message?",
      maxLength: REASON_LIMIT,
      submit: "Send report",
      failed: "Your report was not sent. Try again.",
      send: function (value) { return call("POST", messageUrl(node, "/report"), { reason: value }); },
      done: function () {
        var thanks = document.createElement("p");
        thanks.className = "message__reported";
        thanks.setAttribute("role", "status");
        thanks.textContent = "Reported. Staff will look at it.";
        node.querySelector(".message__bubble").appendChild(thanks);
        node.dataset.reported = "true";
        decorate(node);
      },
    });
  }

  // ---- Keeping the buttons right --------------------------------------------------------

  // Messages that arrive live (or load from older pages) get their buttons too.
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      change.addedNodes.forEach(function (added) {
        if (added.nodeType === 1 && added.matches("li.message")) decorate(added);
      });
    });
  }).observe(list, { childList: true });
  // An edit or deletion shown from the event stream (a deleted message offers nothing).
  list.addEventListener("cruddur:message-filled", function (event) {
    var node = event.target.closest("li.message");
    if (node && !node.querySelector(".message__form")) decorate(node);
  });
  // The edit window closes while the page is open.
  setInterval(function () {
    list.querySelectorAll("li.message[data-sender='" + me + "']").forEach(function (node) {
      if (!node.querySelector(".message__form")) decorate(node);
    });
  }, RECHECK_MS);
  decorateAll();
})();
