// What a process owner calls an element: its name and lane, never its id; and the facts of a step
// (its lane, its SLA timer) read from the diagram as the server reads them.
import { is } from "bpmn-js/lib/util/ModelUtil";

const CAMUNDA_PROPERTIES = "camunda:Properties";

/** The lane holding ``element`` (a flow node), or null. */
export function laneOf(registry, element) {
  const bo = element && element.businessObject;
  if (!bo) return null;
  const lane = registry.filter((e) => is(e, "bpmn:Lane") && (e.businessObject.flowNodeRef || []).includes(bo))[0];
  return lane || null;
}

/** The value of Alur property ``name`` (a camunda:property under the element's extensionElements). */
export function alurProperty(element, name) {
  const ext = element.businessObject.get("extensionElements");
  const holder = ext && (ext.get("values") || []).find((v) => is(v, CAMUNDA_PROPERTIES));
  const found = holder && (holder.get("values") || []).find((p) => p.get("name") === name);
  return found ? found.get("value") || "" : undefined;
}

export function timerDefinition(element) {
  return (element.businessObject.get("eventDefinitions") || []).find((d) => is(d, "bpmn:TimerEventDefinition"));
}

export function timerText(element) {
  const definition = element && timerDefinition(element);
  if (!definition) return "";
  const expression = definition.get("timeDuration") || definition.get("timeDate") || definition.get("timeCycle");
  return ((expression && expression.get("body")) || "").trim();
}

/**
 * The SLA timer of a step, by the rule of service/engine/compiler.py ``sla_timers``: of the timer
 * boundary events attached to it, the one that escalates (``eskalasi_ke``), else the first with a text.
 */
export function slaTimer(element) {
  const timers = (element.attachers || []).filter((a) => is(a, "bpmn:BoundaryEvent") && timerDefinition(a));
  const texts = timers.filter((a) => timerText(a));
  const escalating = texts.filter((a) => alurProperty(a, "eskalasi_ke") !== undefined);
  return escalating[escalating.length - 1] || texts[0] || timers[0] || null; // the last escalating one wins there too
}

function quoted(name) {
  return `“${name.replace(/\s+/g, " ").trim()}”`;
}

/** How the check list names the element with id ``id``: “name” (lane X), or its kind and lane. */
export function describe(modeler, config, t, id) {
  const registry = modeler.get("elementRegistry");
  if (!id) return t("diagram");
  let element = registry.get(id);
  if (!element) {
    element = registry.filter((e) => is(e, "bpmn:Participant") && e.businessObject.processRef
      && e.businessObject.processRef.id === id)[0];
    if (!element) return t("diagram");
  }
  const bo = element.businessObject;
  const name = (bo.get("name") || "").trim();
  if (is(element, "bpmn:Participant") || is(element, "bpmn:Process")) {
    return name ? `${config.kinds["bpmn:Process"]} ${quoted(name)}` : config.kinds["bpmn:Process"];
  }
  if (is(element, "bpmn:SequenceFlow") && !name) {
    return t("flowFrom").replace("{a}", describe(modeler, config, t, bo.sourceRef && bo.sourceRef.id))
      .replace("{b}", describe(modeler, config, t, bo.targetRef && bo.targetRef.id));
  }
  if (is(element, "bpmn:BoundaryEvent") && element.host) {
    const host = describe(modeler, config, t, element.host.id);
    return name ? `${quoted(name)} (${t("timerOf").replace("{name}", host)})` : t("timerOf").replace("{name}", host);
  }
  const kind = config.kinds[element.type] || element.type.replace("bpmn:", "");
  const lane = is(element, "bpmn:Lane") ? null : laneOf(registry, element);
  const laneName = lane && (lane.businessObject.get("name") || "").trim();
  const what = name ? quoted(name) : kind;
  return laneName ? `${what} (${t("lane").replace("{name}", laneName)})` : what;
}
