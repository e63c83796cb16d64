// The modeler page: bpmn-js Modeler with Alur's own properties panel (modeler/properties.js: the
// lane, the form, the Mutu Baku with the Waktu picker; Camunda's engine groups only in "advanced"),
// bpmn-js in the user's language (modeler/translate.js), one check list merging Alur's deploy
// checks and bpmnlint (modeler/checklist.js), save as draft / approve / activate after a
// confirmation dialog, and a side-by-side diff of two revisions.
// Everything the page needs comes in <script type="application/json" id="modeler-config">;
// strings are translated by the server. No inline script, no eval: it runs under script-src 'self'.
import BpmnModeler from "bpmn-js/lib/Modeler";
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import lintModule from "bpmn-js-bpmnlint";
import bpmnlintConfig from "../../../../.bpmnlintrc"; // the project's one bpmnlint config (tests/sops/test_bpmnlint.py)
import translateModule from "./modeler/translate";
import { AlurPropertiesModule } from "./modeler/properties";
import createCheckList from "./modeler/checklist";

import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css";
import "@bpmn-io/properties-panel/dist/assets/properties-panel.css";
import "bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css";
import "./modeler.css";

const config = JSON.parse(document.getElementById("modeler-config").textContent);
const t = (name, n) => (config.messages[name] || name).replace("{n}", String(n));
const status = document.getElementById("modeler-status");
const canvasHost = document.getElementById("canvas");

function say(text, kind = "info") {
  status.textContent = text;
  status.dataset.kind = kind;
}

async function send(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": config.csrf },
    body: JSON.stringify(body || {}),
  });
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = { message: t("saveFailed"), errors: [] };
  }
  return { ok: response.ok, status: response.status, data };
}

const modeler = new BpmnModeler({
  container: canvasHost,
  propertiesPanel: { // Alur's groups open, the rest closed
    parent: "#properties",
    layout: { groups: Object.fromEntries(["alur-pelaksana", "alur-formulir", "alur-mutu-baku"]
      .map((id) => [id, { open: true }])) },
  },
  linting: { bpmnlint: bpmnlintConfig, active: true },
  alur: { forms: config.forms, waktu: config.waktu, messages: config.messages },
  additionalModules: [
    BpmnPropertiesPanelModule,
    BpmnPropertiesProviderModule,
    CamundaPlatformPropertiesProviderModule,
    CamundaBehaviorsModule,
    lintModule,
    AlurPropertiesModule,
    translateModule(config.strings),
  ],
  moddleExtensions: { camunda: camundaModdle },
});

const advanced = document.getElementById("advanced-properties");
advanced.addEventListener("change", () => modeler.get("alurPropertiesProvider").setAdvanced(advanced.checked));

// --- the check list: Alur's deploy checks and bpmnlint ------------------------------------------------

const checks = createCheckList(modeler, config, (name, n) => t(name, n),
  document.getElementById("check-list"), document.getElementById("check-summary"));
let checkTimer = null;
let checkRun = 0;

async function runCheck() {
  const run = ++checkRun;
  checks.checking();
  const { xml } = await modeler.saveXML({ format: true });
  let result;
  try {
    result = await send(config.urls.check, { xml });
  } catch {
    if (run === checkRun) checks.error(t("networkError"));
    return;
  }
  if (run !== checkRun) return; // a newer edit is being checked
  checks.setAlur(result.ok ? result.data.errors || [] : result.data.errors || [{ message: result.data.message }]);
}

function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(runCheck, 600);
}

// --- save, approve, activate -----------------------------------------------------------------------

let dirty = false;

function busy(button, on) {
  if (button) button.disabled = on;
}

async function save(button) {
  busy(button, true);
  say(t("saving"));
  try {
    const { xml } = await modeler.saveXML({ format: true });
    const result = await send(config.urls.save, { xml, checksum: config.checksum });
    if (!result.ok) {
      say(`${t("saveFailed")} ${result.data.message || ""}`, "error");
      if (result.data.errors && result.data.errors.length) checks.setAlur(result.data.errors);
      return;
    }
    dirty = false;
    checks.setAlur([]);
    const outcome = result.data.outcome;
    say(t(outcome, result.data.version), "ok");
    if (outcome === "created" || result.data.version !== config.version) {
      window.location.assign(result.data.url);
    } else {
      config.checksum = result.data.checksum;
      document.body.dataset.saved = String(Date.now());
    }
  } catch {
    say(t("networkError"), "error");
  } finally {
    busy(button, false);
  }
}

async function transition(button, url, body, message) {
  busy(button, true);
  try {
    const result = await send(url, body);
    if (!result.ok) {
      say(`${result.data.message || ""} ${(result.data.errors || []).map((e) => e.message).join("; ")}`, "error");
      return;
    }
    say(t(message), "ok");
    window.location.reload();
  } catch {
    say(t("networkError"), "error");
  } finally {
    busy(button, false);
  }
}

/** ``button`` opens the dialog ``dialogId``; its confirm button runs ``action`` (Escape or Cancel: nothing). */
function confirmFirst(button, dialogId, prepare, action) {
  const dialog = document.getElementById(dialogId);
  if (!button || !dialog) return;
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "confirm") action();
    button.focus();
  });
  button.addEventListener("click", () => {
    if (prepare) prepare();
    dialog.returnValue = "";
    dialog.showModal();
  });
}

const saveButton = document.getElementById("save-draft");
if (saveButton) saveButton.addEventListener("click", () => save(saveButton));
const approveButton = document.getElementById("approve");
confirmFirst(approveButton, "confirm-approve", null,
  () => transition(approveButton, config.urls.approve, {}, "approved"));
const activateButton = document.getElementById("activate");
const effective = document.getElementById("effective-on");
confirmFirst(activateButton, "confirm-activate", () => {
  document.getElementById("confirm-activate-date").textContent = effective && effective.value
    ? effective.value : t("today");
}, () => {
  const body = effective && effective.value ? { effective_on: effective.value } : {};
  transition(activateButton, config.urls.activate, body, "activated");
});

// --- diff of two revisions -------------------------------------------------------------------------

const DIFF_MARKERS = { added: "alur-diff-added", removed: "alur-diff-removed", changed: "alur-diff-changed" };
const viewers = {};

function viewer(id) {
  if (!viewers[id]) viewers[id] = new NavigatedViewer({ container: document.getElementById(id) });
  return viewers[id];
}

async function loadInto(id, version) {
  const response = await fetch(`${config.urls.revisions}/${version}/diagram.bpmn`, { credentials: "same-origin" });
  if (!response.ok) throw new Error(t("loadFailed"));
  const shown = viewer(id);
  await shown.importXML(await response.text());
  shown.get("canvas").zoom("fit-viewport");
  return shown;
}

function mark(shown, items, kind) {
  const registry = shown.get("elementRegistry");
  const canvas = shown.get("canvas");
  for (const item of items) if (registry.get(item.id)) canvas.addMarker(item.id, DIFF_MARKERS[kind]);
}

async function showDiff() {
  const from = Number(document.getElementById("diff-from").value);
  const to = Number(document.getElementById("diff-to").value);
  const list = document.getElementById("diff-list");
  const result = await fetch(`${config.urls.diff}?from=${from}&to=${to}`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  const diff = await result.json();
  if (!result.ok) {
    list.replaceChildren(Object.assign(document.createElement("li"), { textContent: diff.message || "" }));
    return;
  }
  const [left, right] = await Promise.all([loadInto("diff-left", from), loadInto("diff-right", to)]);
  mark(left, diff.removed, "removed");
  mark(left, diff.changed, "changed");
  mark(right, diff.added, "added");
  mark(right, diff.changed, "changed");
  const items = [];
  for (const kind of ["added", "removed", "changed"]) {
    for (const item of diff[kind]) {
      const li = document.createElement("li");
      li.className = `diff-${kind}`;
      const facts = Object.entries(item.changes || {})
        .map(([fact, change]) => `${fact}: ${JSON.stringify(change.from)} → ${JSON.stringify(change.to)}`)
        .join("; ");
      li.textContent = `${t(kind)}: ${item.name || item.id} (${item.type})${facts ? ` — ${facts}` : ""}`;
      items.push(li);
    }
  }
  if (!items.length) items.push(Object.assign(document.createElement("li"), { textContent: t("diffEmpty") }));
  list.replaceChildren(...items);
  document.getElementById("diff").dataset.shown = `${from}-${to}`;
}

const diffButton = document.getElementById("diff-show");
if (diffButton) diffButton.addEventListener("click", () => showDiff().catch((e) => say(String(e.message || e), "error")));

// --- load ------------------------------------------------------------------------------------------

say(t("loading"));
fetch(config.urls.diagram, { credentials: "same-origin" })
  .then((response) => {
    if (!response.ok) throw new Error(t("loadFailed"));
    return response.text();
  })
  .then((xml) => modeler.importXML(xml))
  .then(() => {
    modeler.get("canvas").zoom("fit-viewport");
    const events = modeler.get("eventBus");
    events.on("commandStack.changed", () => {
      dirty = true;
      say(t("unsaved"));
      scheduleCheck();
    });
    say("");
    canvasHost.dataset.rendered = "true";
    runCheck();
  })
  .catch((error) => {
    canvasHost.dataset.rendered = "error";
    say(`${t("loadFailed")} ${error && error.message ? error.message : ""}`, "error");
  });

window.addEventListener("beforeunload", (event) => {
  if (dirty && config.canSave) event.preventDefault();
});
