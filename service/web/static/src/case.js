// The case diagram: the bpmn-js viewer (global BpmnJS from dist/bpmn-js) with the completed
// steps and the current tasks marked.
const host = document.getElementById("diagram");
if (host && window.BpmnJS) {
  const markers = JSON.parse(document.getElementById(host.dataset.markers).textContent);
  const viewer = new window.BpmnJS({ container: host });
  fetch(host.dataset.url, { credentials: "same-origin" })
    .then((response) => response.text())
    .then((xml) => viewer.importXML(xml))
    .then(() => {
      const canvas = viewer.get("canvas");
      const registry = viewer.get("elementRegistry");
      for (const id of markers.done) if (registry.get(id)) canvas.addMarker(id, "alur-done");
      for (const id of markers.current) if (registry.get(id)) canvas.addMarker(id, "alur-current");
      canvas.zoom("fit-viewport");
      host.dataset.rendered = "true";
    })
    .catch((error) => {
      host.dataset.rendered = "error";
      host.textContent = String(error && error.message ? error.message : error);
    });
}
