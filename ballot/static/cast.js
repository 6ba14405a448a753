// Casting from the review page. The ballot is sent in the background and the browser then goes to the
// receipt in place of this page in its history, so that Back after casting skips the review (which shows
// the receipt by then too). Without a script the form is sent as usual.
(function () {
  "use strict";
  const form = document.querySelector("form[data-cast]");
  if (!form || !window.fetch) return;
  let sending = false;
  function sendPlainly() {
    // Refused or unanswered: the form, sent as a browser would, shows why (a refused cast recorded nothing).
    const step = document.createElement("input");
    step.type = "hidden";
    step.name = "step";
    step.value = "cast";
    form.appendChild(step);
    HTMLFormElement.prototype.submit.call(form);
  }
  form.addEventListener("submit", async function (event) {
    if (!event.submitter || event.submitter.value !== "cast") return;
    event.preventDefault();
    if (sending) return;
    sending = true;
    event.submitter.setAttribute("aria-disabled", "true");
    const body = new URLSearchParams(new FormData(form));
    body.set("step", "cast");
    let response = null;
    try {
      response = await fetch(form.action, {method: "POST", body: body, credentials: "same-origin"});
    } catch (error) {
      response = null;
    }
    if (response && response.ok && response.redirected) {
      window.location.replace(response.url);
    } else {
      sendPlainly();
    }
  });
})();
