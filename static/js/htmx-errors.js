// The errors of in-place (htmx) actions show beside what was acted on, and the page stays, the
// typed input too: a refusal, something that vanished meanwhile, a conflict, a server error, a
// lost connection. htmx swaps 2xx answers and a form's 400, which carries the form with its
// errors (base.html's htmx-config); every other error answer ends here unswapped. An error page
// marks its message with data-error-message; other answers (Django's own pages in DEBUG) get a
// sentence for their status. Without JavaScript the forms post as usual and the error page
// answers in full.
(() => {
  const BY_STATUS = {
    403: "You cannot do that here: your role does not allow it.",
    404:
      "Not found: what this acts on was deleted or moved, or you no longer have access to it. " +
      "Reload the page to see where things stand.",
    409: "This clashes with a change made meanwhile. Reload the page and try again.",
  };
  const SERVER_ERROR =
    "Something went wrong on the server, so this was not done. Try again; if it keeps " +
    "failing, tell an administrator.";
  const UNREACHABLE =
    "The server could not be reached, so this was not done. Check the connection and try again.";
  // The note shown for each element that sent a request, removed when it sends again.
  const notes = new WeakMap();

  function markedMessage(xhr) {
    const type = xhr.getResponseHeader("Content-Type") || "";
    if (type.startsWith("text/plain")) return xhr.responseText.trim() || null;
    if (!type.startsWith("text/html")) return null;
    const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
    const marked = page.querySelector("[data-error-message]");
    return marked ? marked.textContent.trim() : null;
  }

  function show(elt, text) {
    clear(elt);
    const note = document.createElement("p");
    note.className = "form-error";
    note.setAttribute("role", "alert");
    note.dataset.htmxError = "";
    note.textContent = text;
    // In the form that was sent, under its fields; else after what asked (its table, for a row).
    const form = elt.closest("form");
    if (form) form.append(note);
    else (elt.closest("table") || elt).after(note);
    notes.set(elt, note);
  }

  function clear(elt) {
    notes.get(elt)?.remove();
    notes.delete(elt);
  }

  document.addEventListener("htmx:beforeRequest", (event) => clear(event.target));

  // A 400 that is an error page or plain text (a refused request, not a form's errors) is an
  // error like the others, not a fragment to swap in.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail;
    if (detail.xhr.status === 400 && markedMessage(detail.xhr) !== null) {
      detail.shouldSwap = false;
      detail.isError = true;
    }
  });

  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    show(event.target, markedMessage(xhr) || BY_STATUS[xhr.status] || SERVER_ERROR);
  });

  for (const name of ["htmx:sendError", "htmx:timeout"]) {
    document.addEventListener(name, (event) => show(event.target, UNREACHABLE));
  }
})();
