// Counter intake (Pengaduan langsung): the receipt's Print button, and the identity inputs switched off
// for an anonymous report (a disabled fieldset sends nothing, so no identity leaves the browser).
// The page works without this file: the button stays hidden and the server refuses an identity
// sent with an anonymous report.

const printButton = document.getElementById("print-receipt");
if (printButton) {
  printButton.hidden = false;
  printButton.addEventListener("click", () => window.print());
}

const identity = document.getElementById("counter-identity");
const modes = document.querySelectorAll('#counter-form input[name="mode"]');
function followMode() {
  const chosen = document.querySelector('#counter-form input[name="mode"]:checked');
  if (identity) identity.disabled = chosen !== null && chosen.value === "anonim";
}
modes.forEach((input) => input.addEventListener("change", followMode));
followMode();
