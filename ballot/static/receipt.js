// The receipt page: copy the receipt, or print the page. Without a script the page says to write it down.
(function () {
  "use strict";
  const receipt = document.getElementById("receipt-value");
  const status = document.getElementById("receipt-status");
  const actions = document.querySelector(".receipt-actions");
  if (!receipt || !actions) return;
  actions.hidden = false;
  document.getElementById("copy-receipt").addEventListener("click", async function () {
    try {
      await navigator.clipboard.writeText(receipt.textContent.trim());
      status.textContent = "Receipt copied. Paste it somewhere you will find it again.";
    } catch (error) {
      status.textContent = "Your browser did not let this page copy the receipt: select it and copy it yourself.";
    }
  });
  document.getElementById("print-receipt").addEventListener("click", function () { window.print(); });
})();
