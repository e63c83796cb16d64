// One check list: Alur's deploy checks (the server's answer, with its display text) and bpmnlint's
// reports (its rules in the user's language, config.lintRules), each naming the step by its name and
// lane. Alur's problems are marked on the diagram; a click on an item selects its element. bpmnlint's
// button on the canvas counts both, so it never says "no issues" while Alur's check has an error.
import { describe } from "./steps";

export default function createCheckList(modeler, config, t, listNode, summaryNode) {
  let alur = [];
  let lint = {};
  let alurChecked = false;
  let marked = [];

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

  function lintItems() {
    const items = [];
    for (const [id, issues] of Object.entries(lint)) {
      for (const issue of issues) {
        if (issue.category !== "error" && issue.category !== "warn") continue;
        const text = config.lintRules[issue.rule] || modeler.get("translate")(issue.message || "");
        items.push({ source: "lint", severity: issue.category === "error" ? "error" : "warning",
          id: issue.actualElementId || id, text, rule: issue.rule });
      }
    }
    return items;
  }

  function alurItems() {
    return alur.map((problem) => {
      const line = problem.line && !problem.element_id ? ` (${t("line", problem.line)})` : "";
      return { source: "alur", severity: "error", id: problem.element_id || null,
        text: `${problem.text || problem.message || ""}${line}` };
    });
  }

  function mark() {
    const registry = modeler.get("elementRegistry");
    const overlays = modeler.get("overlays");
    const canvas = modeler.get("canvas");
    overlays.remove({ type: "alur-check" });
    for (const id of marked) canvas.removeMarker(id, "alur-check-error");
    marked = [];
    const byElement = new Map();
    for (const problem of alur) {
      if (!problem.element_id || !registry.get(problem.element_id)) continue;
      if (!byElement.has(problem.element_id)) byElement.set(problem.element_id, []);
      byElement.get(problem.element_id).push(problem.text || problem.message || "");
    }
    for (const [id, texts] of byElement) {
      const badge = document.createElement("div");
      badge.className = "alur-check-overlay";
      badge.dataset.elementId = id;
      badge.setAttribute("role", "note");
      badge.textContent = "!";
      badge.title = texts.join("\n");
      overlays.add(id, "alur-check", { position: badgePosition(registry.get(id)), html: badge });
      canvas.addMarker(id, "alur-check-error");
      marked.push(id);
    }
  }

  function render() {
    const registry = modeler.get("elementRegistry");
    const items = [...alurItems(), ...lintItems()];
    const nodes = items.map((item) => {
      const li = document.createElement("li");
      li.dataset.source = item.source;
      li.dataset.severity = item.severity;
      if (item.id) li.dataset.elementId = item.id;
      if (item.rule) li.dataset.rule = item.rule;
      const where = describe(modeler, config, t, item.id);
      const tag = document.createElement("span");
      tag.className = `check-tag ${item.severity}`;
      tag.textContent = `${item.source === "alur" ? t("sourceAlur") : t("sourceLint")} · ${t(item.severity)}`;
      const text = `${where}: ${item.text}`;
      if (item.id && registry.get(item.id)) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "link";
        button.textContent = text;
        button.addEventListener("click", () => focusElement(item.id));
        li.append(tag, " ", button);
      } else {
        li.append(tag, " ", text);
      }
      return li;
    });
    listNode.replaceChildren(...nodes);
    const lintErrors = items.filter((i) => i.source === "lint" && i.severity === "error").length;
    const lintNotes = items.filter((i) => i.source === "lint").length;
    const blocking = alur.length + lintErrors;
    if (blocking) summaryNode.textContent = t("checkedProblems", blocking);
    else if (lintNotes) summaryNode.textContent = t("lintOnly", lintNotes);
    else summaryNode.textContent = alurChecked ? t("checkedClean") : t("checking");
    summaryNode.dataset.kind = blocking ? "error" : lintNotes ? "warning" : "ok";
    if (alurChecked) summaryNode.dataset.count = String(alur.length); // Alur's problems (saving needs 0)
    summaryNode.dataset.lint = String(lintNotes);
    const linting = modeler.get("linting");
    if (linting._button) linting._updateButton();
  }

  // bpmnlint's button counts Alur's problems as errors too (its own label, translated, says the sum)
  const linting = modeler.get("linting");
  const ownState = linting._setButtonState.bind(linting);
  linting._setButtonState = (counts) => ownState({ ...counts, errors: (counts.errors || 0) + alur.length });

  modeler.get("eventBus").on("linting.completed", ({ issues }) => {
    lint = issues || {};
    render();
  });

  return {
    checking() {
      summaryNode.textContent = t("checking");
    },
    setAlur(problems) {
      alur = problems || [];
      alurChecked = true;
      mark();
      render();
    },
    error(text) {
      summaryNode.textContent = text;
    },
  };
}
