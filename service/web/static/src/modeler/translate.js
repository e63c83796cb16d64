// bpmn-js's translate service with the words the server translated (config.strings, from
// service/web/check_messages.py: one catalog holds every string). The palette, the context pad, the
// properties panel and bpmnlint's button all ask it; a string it does not know stays as bpmn-js wrote it.
export default function translateModule(strings) {
  function translate(template, replacements) {
    const text = Object.hasOwn(strings, template) ? strings[template] : template;
    const values = replacements || {};
    return text.replace(/{([^}]+)}/g, (whole, key) => (Object.hasOwn(values, key) ? String(values[key]) : whole));
  }
  return { translate: ["value", translate] };
}
