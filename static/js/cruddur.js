// Live character counter for message boxes. It only informs: typing and pasting past the
// limit stay possible, and the server explains the error if the message is sent anyway.
(function () {
  "use strict";

  function bind(output) {
    var field = document.getElementById(output.dataset.counterFor);
    if (!field) return;
    var limit = parseInt(field.dataset.counterLimit, 10);
    function update() {
      var length = Array.from(field.value).length;
      var over = length > limit;
      output.textContent = over
        ? length + " / " + limit + " \u2014 " + (length - limit) + " over the limit"
        : length + " / " + limit;
      output.classList.toggle("is-over", over);
      output.classList.toggle("is-near", !over && length > limit * 0.9);
    }
    field.addEventListener("input", update);
    update();
  }

  // Enter sends, Shift+Enter makes a new line, as in other messaging apps.
  function sendOnEnter(field) {
    field.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (field.value.trim()) field.form.requestSubmit();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("output[data-counter-for]").forEach(bind);
    // On touch keyboards Enter stays a new line; the Send button is right there.
    if (window.matchMedia("(pointer: fine)").matches) {
      document.querySelectorAll(".composer textarea").forEach(sendOnEnter);
    }
    // A thread opens at its newest message, also after a refused send re-renders it.
    var scroller = document.querySelector(".thread__scroll");
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
  });
})();
