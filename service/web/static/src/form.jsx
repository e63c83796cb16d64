// The task form island: @rjsf/core renders the task's JSON Schema + UI schema. Validation is the
// server's (the same jsonschema that guards the REST API): its 422 field errors are shown next
// to the fields through `extraErrors`. Client-side validation is off, so no schema is compiled
// in the browser (ajv would need 'unsafe-eval', which the Content-Security-Policy refuses).
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";
import Form from "@rjsf/core";
import validator from "@rjsf/validator-ajv8";
import { toExtraErrors } from "./form_errors.js";

function TaskForm({ config, csrf, labels, alertBox }) {
  const [formData, setFormData] = useState(config.formData || {});
  const [extraErrors, setExtraErrors] = useState({});
  const [busy, setBusy] = useState(false);

  async function submit({ formData: data }) {
    setBusy(true);
    alertBox.hidden = true;
    try {
      const response = await fetch(config.submitUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ data }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok && body.redirect) {
        window.location.assign(body.redirect);
        return;
      }
      setExtraErrors(toExtraErrors(body.errors));
      alertBox.textContent = response.status === 422 ? labels.error : `${labels.failed} ${body.message || ""}`;
      alertBox.hidden = false;
      alertBox.focus();
    } finally {
      setBusy(false);
    }
  }

  return (
    <Form
      schema={config.schema}
      uiSchema={{ ...config.ui, "ui:submitButtonOptions": { submitText: labels.submit, props: { disabled: busy } } }}
      formData={formData}
      validator={validator}
      noValidate
      noHtml5Validate
      showErrorList={false}
      extraErrors={extraErrors}
      onChange={(event) => setFormData(event.formData)}
      onSubmit={submit}
    />
  );
}

const host = document.getElementById("task-form");
if (host) {
  const config = JSON.parse(document.getElementById(host.dataset.config).textContent);
  const alertBox = document.getElementById("form-error");
  alertBox.tabIndex = -1;
  const labels = {
    submit: host.dataset.submitLabel,
    error: host.dataset.errorLabel,
    failed: host.dataset.failedLabel,
  };
  createRoot(host).render(
    <StrictMode>
      <TaskForm config={config} csrf={host.dataset.csrf} labels={labels} alertBox={alertBox} />
    </StrictMode>,
  );
}
