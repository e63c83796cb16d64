// Alur's properties panel: what an SOP needs, in the user's language. Groups "Pelaksana" (the lane,
// i.e. the role doing the step), "Formulir" (the step's form, picked from the forms the page lists),
// "Mutu Baku" (Kelengkapan, Waktu with a picker, Output); bpmn-js's general, documentation, timer,
// condition and message groups stay; Camunda's engine groups (asynchronous continuations, job
// execution, listeners, extension properties …) are hidden unless "advanced" is switched on.
//
// The Waktu picker writes both the step's Mutu Baku text (``waktu``) and its SLA timer
// (``hari_kerja(10)`` …) in one undoable command. The words for "n <unit>" come from the server
// (config.waktu, made by service/documents/waktu.py: the rule the SOP document and the SLA report read
// a step's Waktu from its timer with), so the text written is the text they print.
import { h } from "@bpmn-io/properties-panel/preact";
import {
  NumberFieldEntry,
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isNumberFieldEntryEdited,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited,
} from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { is, isAny } from "bpmn-js/lib/util/ModelUtil";
import { alurProperty, laneOf, slaTimer, timerDefinition, timerText } from "./steps";

const LOW_PRIORITY = 100; // after bpmn-js's and Camunda's providers: this one filters their groups
/** bpmn-js groups an SOP needs; every other group is an engine setting, shown only in advanced mode. */
const KEPT_GROUPS = new Set(["general", "documentation", "timer", "message", "signal", "error", "escalation", "link",
  "compensation", "multiInstance", "CamundaPlatform__Condition", "CamundaPlatform__CallActivity"]);
const STEP_TYPES = ["bpmn:UserTask", "bpmn:StartEvent", "bpmn:IntermediateThrowEvent", "bpmn:EndEvent"];
const FORM_TYPES = ["bpmn:UserTask", "bpmn:StartEvent"];
const MULTI = "properties-panel.multi-command-executor";

// --- writing camunda:properties ----------------------------------------------------------------------

/** Commands setting Alur properties ``values`` (name → text) on ``element``, creating the holders. */
function propertyCommands(bpmnFactory, element, values) {
  const bo = element.businessObject;
  const commands = [];
  let ext = bo.get("extensionElements");
  if (!ext) {
    ext = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    ext.$parent = bo;
    commands.push({ cmd: "element.updateModdleProperties",
      context: { element, moddleElement: bo, properties: { extensionElements: ext } } });
  }
  let holder = (ext.get("values") || []).find((v) => is(v, "camunda:Properties"));
  if (!holder) {
    holder = bpmnFactory.create("camunda:Properties", { values: [] });
    holder.$parent = ext;
    commands.push({ cmd: "element.updateModdleProperties",
      context: { element, moddleElement: ext, properties: { values: [...(ext.get("values") || []), holder] } } });
  }
  const added = [];
  for (const [name, value] of Object.entries(values)) {
    const found = (holder.get("values") || []).find((p) => p.get("name") === name);
    if (found) {
      commands.push({ cmd: "element.updateModdleProperties",
        context: { element, moddleElement: found, properties: { value } } });
    } else {
      const created = bpmnFactory.create("camunda:Property", { name, value });
      created.$parent = holder;
      added.push(created);
    }
  }
  if (added.length) {
    commands.push({ cmd: "element.updateModdleProperties",
      context: { element, moddleElement: holder, properties: { values: [...(holder.get("values") || []), ...added] } } });
  }
  return commands;
}

// --- Waktu: the picker's value and what it writes ----------------------------------------------------

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** {unit, n, tail} of a timer expression that calls one of the picker's functions, else null. */
export function parseTimer(units, text) {
  for (const unit of units) {
    const found = new RegExp(`^${escapeRegExp(unit.function)}\\(\\s*(\\d+)\\s*(,[^()]*)?\\)$`).exec(text.trim());
    if (found) return { unit, n: Number(found[1]), tail: found[2] || "" };
  }
  return null;
}

/** {unit, n} of a Mutu Baku text that reads like one of the picker's units ("14 hari kerja"), else null. */
export function parseWaktuText(units, text) {
  const byLength = [...units].sort((a, b) => b.template.length - a.template.length);
  for (const unit of byLength) {
    const pattern = escapeRegExp(unit.template).replace(escapeRegExp("{n}"), "(\\d+)");
    const found = new RegExp(`^${pattern}$`, "i").exec((text || "").trim());
    if (found) return { unit, n: Number(found[1]), tail: "" };
  }
  return null;
}

export function waktuWords(unit, n) {
  return unit.template.replace("{n}", String(n));
}

/** The step's current Waktu as the picker shows it: from its SLA timer, else from its Mutu Baku text. */
function currentWaktu(units, element) {
  const timer = slaTimer(element);
  const text = timer ? timerText(timer) : "";
  if (text) return { timer, text, parsed: parseTimer(units, text) };
  return { timer, text: "", parsed: parseWaktuText(units, alurProperty(element, "waktu")) };
}

function writeWaktu(injector, element, unit, n) {
  const bpmnFactory = injector.get("bpmnFactory");
  const units = injector.get("config.alur").waktu;
  const before = currentWaktu(units, element);
  const words = waktuWords(unit, n);
  const commands = propertyCommands(bpmnFactory, element, { waktu: words });
  const timer = before.timer;
  if (timer) {
    const tail = before.parsed && before.parsed.unit === unit ? before.parsed.tail : "";
    const body = `${unit.function}(${n}${tail})`;
    const definition = timerDefinition(timer);
    const duration = definition.get("timeDuration");
    if (duration) {
      commands.push({ cmd: "element.updateModdleProperties",
        context: { element: timer, moddleElement: duration, properties: { body } } });
    } else {
      const expression = bpmnFactory.create("bpmn:FormalExpression", { body });
      expression.$parent = definition;
      commands.push({ cmd: "element.updateModdleProperties", context: { element: timer, moddleElement: definition,
        properties: { timeDuration: expression, timeDate: undefined, timeCycle: undefined } } });
    }
    // the timer's label says the limit ("Batas waktu 14 hari kerja"): it follows
    const oldWords = before.parsed ? waktuWords(before.parsed.unit, before.parsed.n) : null;
    const name = timer.businessObject.get("name") || "";
    if (oldWords && name.includes(oldWords) && oldWords !== words) {
      commands.push({ cmd: "element.updateProperties",
        context: { element: timer, properties: { name: name.replace(oldWords, words) } } });
    }
  }
  injector.get("commandStack").execute(MULTI, commands);
}

// --- the entries ---------------------------------------------------------------------------------------

function Note(props) {
  return h("div", { class: "bio-properties-panel-entry alur-note", "data-entry-id": props.id }, props.text);
}

function Performer(props) {
  const { element } = props;
  const registry = useService("elementRegistry");
  const { messages } = useService("config.alur");
  const lane = laneOf(registry, element);
  const name = lane && (lane.businessObject.get("name") || "").trim();
  const text = name ? messages.performerOf.replace("{name}", name) : messages.performerNone;
  return h(Note, { id: props.id, text });
}

function LaneRole(props) {
  const { element } = props;
  const modeling = useService("modeling");
  const debounce = useService("debounceInput");
  const { messages } = useService("config.alur");
  return h(TextFieldEntry, {
    element, id: "alur-peran", label: messages.performerRole, debounce,
    getValue: () => element.businessObject.get("name") || "",
    setValue: (value) => modeling.updateProperties(element, { name: value }),
  });
}

function FormKey(props) {
  const { element } = props;
  const modeling = useService("modeling");
  const { forms, messages } = useService("config.alur");
  const getValue = () => element.businessObject.get("camunda:formKey") || "";
  const getOptions = () => {
    const options = [{ value: "", label: messages.formNone },
      ...forms.map((f) => ({ value: f.key, label: f.title ? `${f.title} (${f.key})` : f.key }))];
    const current = getValue();
    if (current && !forms.some((f) => f.key === current)) options.push({ value: current, label: current });
    return options;
  };
  return h(SelectEntry, {
    element, id: "alur-formulir", label: messages.form, description: messages.formDescription, getValue, getOptions,
    setValue: (value) => modeling.updateProperties(element, { "camunda:formKey": value || undefined }),
  });
}

function standardText(props, name, label) {
  const { element } = props;
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  const { messages } = useService("config.alur");
  return h(TextAreaEntry, {
    element, id: `alur-${name}`, label: messages[label], debounce, rows: 2, autoResize: true,
    getValue: () => alurProperty(element, name) || "",
    setValue: (value) => injector.get("commandStack").execute(
      MULTI, propertyCommands(injector.get("bpmnFactory"), element, { [name]: value || "" })),
  });
}

function Requirements(props) {
  return standardText(props, "kelengkapan", "requirements");
}

function Output(props) {
  return standardText(props, "output", "output");
}

/** A unit chosen before an amount is given (a step with no Waktu yet), per element id. */
const pendingUnits = new Map();

function waktuState(injector, element) {
  const { waktu: units } = injector.get("config.alur");
  const current = currentWaktu(units, element);
  const unit = (current.parsed && current.parsed.unit) || pendingUnits.get(element.id)
    || units.find((u) => u.function === "hari_kerja") || units[0];
  return { units, current, unit, n: current.parsed ? current.parsed.n : undefined };
}

function WaktuAmount(props) {
  const { element } = props;
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  const { messages } = useService("config.alur");
  const state = waktuState(injector, element);
  let description;
  if (state.current.text && !state.current.parsed) {
    description = messages.timeOther.replace("{timer}", state.current.text);
  } else if (state.n !== undefined) {
    const words = waktuWords(state.unit, state.n);
    description = state.current.timer
      ? messages.timeWrites.replace("{text}", words).replace("{timer}", timerText(state.current.timer))
      : messages.timeTextOnly.replace("{text}", words);
  }
  return h(NumberFieldEntry, {
    element, id: "alur-waktu-jumlah", label: messages.timeAmount, debounce, min: 1, step: 1, description,
    getValue: () => state.n,
    validate: (value) => (value === undefined || value === null || value === "" || (Number.isInteger(Number(value))
      && Number(value) >= 1) ? null : messages.timeInvalid),
    setValue: (value) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) return;
      writeWaktu(injector, element, waktuState(injector, element).unit, n);
    },
  });
}

function WaktuUnit(props) {
  const { element } = props;
  const injector = useService("injector");
  const { messages } = useService("config.alur");
  const state = waktuState(injector, element);
  return h(SelectEntry, {
    element, id: "alur-waktu-satuan", label: messages.timeUnit,
    getValue: () => state.unit.function,
    getOptions: () => state.units.map((u) => ({ value: u.function, label: u.label })),
    setValue: (value) => {
      const unit = state.units.find((u) => u.function === value);
      if (!unit) return;
      const fresh = waktuState(injector, element);
      if (fresh.n === undefined) { // nothing to write yet: the amount comes next
        pendingUnits.set(element.id, unit);
        return;
      }
      writeWaktu(injector, element, unit, fresh.n);
    },
  });
}

// --- the provider --------------------------------------------------------------------------------------

export default function AlurPropertiesProvider(propertiesPanel, eventBus, config) {
  this._eventBus = eventBus;
  this._config = config;
  this.advanced = false;
  propertiesPanel.registerProvider(LOW_PRIORITY, this);
}

AlurPropertiesProvider.$inject = ["propertiesPanel", "eventBus", "config.alur"];

/** Show (or hide again) the engine groups Camunda's provider adds. */
AlurPropertiesProvider.prototype.setAdvanced = function setAdvanced(on) {
  this.advanced = Boolean(on);
  this._eventBus.fire("propertiesPanel.providersChanged");
};

AlurPropertiesProvider.prototype.getGroups = function getGroups(element) {
  return (groups) => {
    const { messages } = this._config;
    const kept = this.advanced ? groups : groups.filter((group) => KEPT_GROUPS.has(group.id));
    const ours = [];
    if (is(element, "bpmn:Lane")) {
      ours.push({ id: "alur-pelaksana", label: messages.groupPerformer,
        entries: [{ id: "alur-peran", component: LaneRole, isEdited: isTextFieldEntryEdited }] });
    } else if (isAny(element, ["bpmn:FlowNode"]) && !is(element, "bpmn:BoundaryEvent")) {
      ours.push({ id: "alur-pelaksana", label: messages.groupPerformer,
        entries: [{ id: "alur-lajur", component: Performer }] });
    }
    if (isAny(element, FORM_TYPES)) {
      ours.push({ id: "alur-formulir", label: messages.groupForm,
        entries: [{ id: "alur-formulir", component: FormKey, isEdited: isSelectEntryEdited }] });
    }
    if (isAny(element, STEP_TYPES)) {
      ours.push({ id: "alur-mutu-baku", label: messages.groupStandard, entries: [
        { id: "alur-kelengkapan", component: Requirements, isEdited: isTextAreaEntryEdited },
        { id: "alur-waktu-jumlah", component: WaktuAmount, isEdited: isNumberFieldEntryEdited },
        { id: "alur-waktu-satuan", component: WaktuUnit, isEdited: isSelectEntryEdited },
        { id: "alur-output", component: Output, isEdited: isTextAreaEntryEdited },
      ] });
    }
    const general = kept.findIndex((group) => group.id === "general");
    kept.splice(general + 1, 0, ...ours);
    return kept;
  };
};

export const AlurPropertiesModule = {
  __init__: ["alurPropertiesProvider"],
  alurPropertiesProvider: ["type", AlurPropertiesProvider],
};
