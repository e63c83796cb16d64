// The decision editor page: one decision table of an SOP revision in dmn-js's Modeler (decision
// table view); "Save draft" posts the table's DMN XML to the page's own URL, which saves it as a
// draft revision through Alur's deploy checks (as the modeler's save does). The table comes in
// <script type="application/json" id="decision-config">; strings are translated by the server.
// No inline script, no eval: it runs under script-src 'self'.
import DmnModeler from "dmn-js/lib/Modeler";

import "dmn-js/dist/assets/diagram-js.css";
import "dmn-js/dist/assets/dmn-js-shared.css";
import "dmn-js/dist/assets/dmn-js-drd.css";
import "dmn-js/dist/assets/dmn-js-decision-table.css";
import "dmn-js/dist/assets/dmn-js-decision-table-controls.css";
import "dmn-js/dist/assets/dmn-js-literal-expression.css";
import "dmn-js/dist/assets/dmn-font/css/dmn-embedded.css";
import "./decisions.css";

const config = JSON.parse(document.getElementById("decision-config").textContent);
const t = (name, n) => (config.messages[name] || name).replace("{n}", String(n));
const status = document.getElementById("decision-status");
const problems = document.getElementById("decision-problems");
const host = document.getElementById("decision-table");

function say(text, kind = "info") {
  status.textContent = text;
  status.dataset.kind = kind;
}

function showProblems(errors) {
  problems.replaceChildren(...(errors || []).map((error) => {
    const li = document.createElement("li");
    const where = error.line ? ` (${t("line", error.line)})` : "";
    li.textContent = `${error.text || error.message || ""}${where}`;
    return li;
  }));
}

const modeler = new DmnModeler({ container: host, common: { keyboard: { bindTo: window } } });
host.alurModeler = modeler; // the tests drive dmn-js's API through it
let dirty = false;

async function save(button) {
  button.disabled = true;
  say(t("saving"));
  try {
    const { xml } = await modeler.saveXML({ format: true });
    const response = await fetch(config.urls.save, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": config.csrf },
      body: JSON.stringify({ xml, checksum: config.checksum }),
    });
    let data = {};
    try {
      data = await response.json();
    } catch {
      data = { message: t("saveFailed"), errors: [] };
    }
    if (!response.ok) {
      say(`${t("saveFailed")} ${data.message || ""}`, "error");
      showProblems(data.errors);
      return;
    }
    dirty = false;
    showProblems([]);
    say(t(data.outcome, data.version), "ok");
    if (data.version !== config.version) {
      window.location.assign(data.decision_url);
    } else {
      config.checksum = data.checksum;
      document.body.dataset.saved = String(Date.now());
    }
  } catch {
    say(t("networkError"), "error");
  } finally {
    button.disabled = false;
  }
}

const saveButton = document.getElementById("save-decision");
if (saveButton) saveButton.addEventListener("click", () => save(saveButton));

say(t("loading"));
modeler.importXML(config.dmn)
  .then(() => {
    const view = modeler.getViews().find((v) => v.type === "decisionTable" && v.element.id === config.decisionId);
    if (!view) throw new Error(config.decisionId);
    return modeler.open(view);
  })
  .then(() => {
    modeler.getActiveViewer().get("eventBus").on("elements.changed", () => {
      dirty = true;
      say(t("unsaved"));
    });
    say("");
    host.dataset.rendered = "true";
  })
  .catch((error) => {
    host.dataset.rendered = "error";
    say(`${t("loadFailed")} ${error && error.message ? error.message : ""}`, "error");
  });

window.addEventListener("beforeunload", (event) => {
  if (dirty && config.canSave) event.preventDefault();
});
