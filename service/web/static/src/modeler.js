// The modeler page: bpmn-js Modeler with the Camunda 7 properties panel, bpmnlint (its
// .bpmnlintrc compiled at build time) and Alur's own deploy checks shown on the elements, a form
// picker, save as draft / approve / activate, and a side-by-side diff of two revisions.
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
const FORM_TYPES = new Set(["bpmn:UserTask", "bpmn:StartEvent"]);

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
  propertiesPanel: { parent: "#properties" },
  linting: { bpmnlint: bpmnlintConfig, active: true },
  additionalModules: [
    BpmnPropertiesPanelModule,
    BpmnPropertiesProviderModule,
    CamundaPlatformPropertiesProviderModule,
    CamundaBehaviorsModule,
    lintModule,
  ],
  moddleExtensions: { camunda: camundaModdle },
});

// --- Alur's deploy checks on the elements ---------------------------------------------------------

const checkList = document.getElementById("check-list");
const checkSummary = document.getElementById("check-summary");
let shownChecks = [];

function clearChecks() {
  const overlays = modeler.get("overlays");
  const canvas = modeler.get("canvas");
  overlays.remove({ type: "alur-check" });
  for (const id of shownChecks) canvas.removeMarker(id, "alur-check-error");
  shownChecks = [];
  checkList.replaceChildren();
}

function focusElement(id) {
  const element = modeler.get("elementRegistry").get(id);
  if (!element) return;
  modeler.get("selection").select(element);
  modeler.get("canvas").scrollToElement(element);
}

// On a shape: its top-left corner; on a sequence flow: the middle of its middle segment.
function badgePosition(element) {
  const points = element.waypoints;
  if (!points || points.length < 2) return { top: -12, left: -12 };
  const left = Math.min(...points.map((p) => p.x));
  const top = Math.min(...points.map((p) => p.y));
  const i = Math.floor((points.length - 1) / 2);
  const x = (points[i].x + points[i + 1].x) / 2;
  const y = (points[i].y + points[i + 1].y) / 2;
  return { left: x - left - 11, top: y - top - 11 };
}

function showChecks(errors) {
  clearChecks();
  const registry = modeler.get("elementRegistry");
  const overlays = modeler.get("overlays");
  const canvas = modeler.get("canvas");
  const byElement = new Map();
  for (const problem of errors) {
    const item = document.createElement("li");
    const where = [problem.element_id, problem.line ? t("line", problem.line) : null].filter(Boolean).join(", ");
    const text = `${where ? `${where}: ` : ""}${problem.message || ""}`;
    if (problem.element_id && registry.get(problem.element_id)) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = text;
      button.addEventListener("click", () => focusElement(problem.element_id));
      item.append(button);
      if (!byElement.has(problem.element_id)) byElement.set(problem.element_id, []);
      byElement.get(problem.element_id).push(problem.message || "");
    } else {
      item.textContent = text;
    }
    checkList.append(item);
  }
  for (const [id, messages] of byElement) {
    const badge = document.createElement("div");
    badge.className = "alur-check-overlay";
    badge.dataset.elementId = id;
    badge.setAttribute("role", "note");
    badge.textContent = "!";
    badge.title = messages.join("\n");
    overlays.add(id, "alur-check", { position: badgePosition(registry.get(id)), html: badge });
    canvas.addMarker(id, "alur-check-error");
    shownChecks.push(id);
  }
  checkSummary.textContent = errors.length ? t("problems", errors.length) : t("noProblems");
  checkSummary.dataset.count = String(errors.length);
}

let checkTimer = null;
let checkRun = 0;

async function runCheck() {
  const run = ++checkRun;
  checkSummary.textContent = t("checking");
  const { xml } = await modeler.saveXML({ format: true });
  let result;
  try {
    result = await send(config.urls.check, { xml });
  } catch {
    if (run === checkRun) checkSummary.textContent = t("networkError");
    return;
  }
  if (run !== checkRun) return; // a newer edit is being checked
  showChecks(result.ok ? result.data.errors || [] : result.data.errors || [{ message: result.data.message }]);
}

function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(runCheck, 600);
}

// --- form picker -----------------------------------------------------------------------------------

const picker = document.getElementById("form-picker");
const pickerHint = document.getElementById("form-picker-hint");
let pickedElement = null;

function setPickerOptions(forms) {
  const none = new Option(t("formNone"), "");
  picker.replaceChildren(none, ...forms.map((f) => new Option(f.title ? `${f.key} — ${f.title}` : f.key, f.key)));
}

function syncPicker() {
  const selected = modeler.get("selection").get();
  const element = selected.length === 1 && FORM_TYPES.has(selected[0].type) ? selected[0] : null;
  pickedElement = element;
  picker.disabled = !element || !config.canSave;
  pickerHint.textContent = element ? "" : t("formHint");
  const value = element ? element.businessObject.get("camunda:formKey") || "" : "";
  if (value && ![...picker.options].some((o) => o.value === value)) picker.append(new Option(value, value));
  picker.value = value;
}

picker.addEventListener("change", () => {
  if (!pickedElement) return;
  modeler.get("modeling").updateProperties(pickedElement, { "camunda:formKey": picker.value || undefined });
});

fetch(config.urls.forms, { credentials: "same-origin", headers: { Accept: "application/json" } })
  .then((response) => (response.ok ? response.json() : { forms: [] }))
  .then((data) => {
    setPickerOptions(data.forms || []);
    syncPicker();
  });

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
      if (result.data.errors && result.data.errors.length) showChecks(result.data.errors);
      return;
    }
    dirty = false;
    showChecks([]);
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

const saveButton = document.getElementById("save-draft");
if (saveButton) saveButton.addEventListener("click", () => save(saveButton));
const approveButton = document.getElementById("approve");
if (approveButton) {
  approveButton.addEventListener("click", () => transition(approveButton, config.urls.approve, {}, "approved"));
}
const activateButton = document.getElementById("activate");
if (activateButton) {
  activateButton.addEventListener("click", () => {
    const effective = document.getElementById("effective-on");
    const body = effective && effective.value ? { effective_on: effective.value } : {};
    transition(activateButton, config.urls.activate, body, "activated");
  });
}

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
    events.on("selection.changed", syncPicker);
    events.on("element.changed", ({ element }) => {
      if (element === pickedElement) syncPicker();
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
