// The in-court docket: every cell is its own htmx form that saves on "change".
(function () {
  "use strict";

  function cellOf(element) {
    return element && element.closest ? element.closest("form.court-cell") : null;
  }

  // htmx 2 does not swap 4xx answers. A refused cell (400) or one someone else changed
  // meanwhile (409) comes back re-rendered with its message: show it in place.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if ((status === 400 || status === 409) && cellOf(event.detail.elt)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Any other failure (signed out, no longer allowed, network down): say so in the cell.
  function failed(event) {
    var form = cellOf(event.detail.elt);
    if (!form) {
      return;
    }
    var status = form.querySelector(".court-status");
    if (status) {
      status.textContent = form.dataset.failed;
      status.classList.add("text-danger");
    }
  }
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);

  // Enter in a one-line field: leave it (which saves it) for the same field of the next
  // participant, as in a spreadsheet, instead of submitting the whole page.
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    var form = cellOf(input);
    if (event.key !== "Enter" || !form || input.tagName !== "INPUT") {
      return;
    }
    event.preventDefault();
    var same = Array.prototype.slice.call(
      document.querySelectorAll('form.court-cell[data-field="' + form.dataset.field + '"]')
    );
    var next = same[same.indexOf(form) + 1];
    var control = next && next.querySelector("[name=value]:not([disabled])");
    if (control) {
      control.focus();
    } else {
      input.blur();
    }
  });

  // With htmx a change saves at once, so the per-cell Save buttons (there for browsers
  // without JavaScript) leave the tab order: Tab goes from field to field.
  function quietSaveButtons(root) {
    root.querySelectorAll(".court-save").forEach(function (button) {
      button.tabIndex = -1;
    });
  }
  if (window.htmx) {
    window.htmx.onLoad(quietSaveButtons);
  }
})();
