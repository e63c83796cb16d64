// The public report island: the SOP's intake form (@rjsf/core, as on the task page), the evidence,
// the choice anonim / rahasia / biasa with its explanation, and the identity fields (only for
// rahasia and biasa). Validation is the server's: its 422 errors are shown next to the fields, in the
// page's language. On success the tracking code and the secret are shown once, here; they are in
// no page the server renders and in no cookie; "Salin" copies them and "Unduh" saves them as a text file.
import { StrictMode, useEffect, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import Form from "@rjsf/core";
import validator from "@rjsf/validator-ajv8";
import { toExtraErrors } from "./form_errors.js";

function grouped(digits) {
  return String(digits).replace(/(\d{4})(?=\d)/g, "$1 ");
}

// The receipt's text: the two numbers, the follow-up page's address and the date (copied or downloaded).
function receiptText(receipt, config) {
  const { labels } = config;
  const address = new URL(config.followUpUrl, window.location.href).href;
  const date = new Date().toLocaleString(document.documentElement.lang || "id");
  return [
    labels.fileTitle,
    `${labels.code}: ${grouped(receipt.tracking_code)}`,
    `${labels.secret}: ${grouped(receipt.secret)}`,
    `${labels.followUpAddress}: ${address}`,
    `${labels.date}: ${date}`,
    "",
  ].join("\n");
}

// navigator.clipboard where the browser allows it; else the numbers are selected for a manual copy.
async function copyReceipt(receipt, config, codes) {
  try {
    await navigator.clipboard.writeText(receiptText(receipt, config));
    return true;
  } catch {
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.selectAllChildren(codes);
    return false;
  }
}

function downloadReceipt(receipt, config) {
  const blob = new Blob([receiptText(receipt, config)], { type: "text/plain;charset=utf-8" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `laporan-${receipt.tracking_code}.txt`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function Receipt({ receipt, config }) {
  const { labels } = config;
  const [notice, setNotice] = useState("");
  const codes = useRef(null);
  const box = useRef(null);
  useEffect(() => { box.current.focus(); }, []); // once: the buttons keep the focus afterwards
  return (
    <section className="receipt card" aria-labelledby="receipt-title" ref={box} tabIndex={-1}>
      <h2 id="receipt-title">{labels.receiptTitle}</h2>
      <p>{labels.receiptIntro}</p>
      <dl className="receipt-codes" ref={codes}>
        <dt>{labels.code}</dt>
        <dd><output id="tracking-code">{grouped(receipt.tracking_code)}</output></dd>
        <dt>{labels.secret}</dt>
        <dd><output id="secret">{grouped(receipt.secret)}</output></dd>
      </dl>
      <p className="receipt-actions">
        <button type="button" id="receipt-copy" title={labels.copyHelp} aria-describedby="receipt-notice"
          onClick={async () => setNotice(await copyReceipt(receipt, config, codes.current) ? labels.copied : labels.copyFailed)}>
          {labels.copy}
        </button>
        <button type="button" id="receipt-download" title={labels.downloadHelp} aria-describedby="receipt-notice"
          onClick={() => { downloadReceipt(receipt, config); setNotice(labels.downloaded); }}>
          {labels.download}
        </button>
      </p>
      <p id="receipt-notice" role="status" className={notice ? "ok" : undefined}>{notice}</p>
      <p className="warn" role="note">{labels.writeDown}</p>
      {receipt.mailed ? <p id="receipt-mailed">{labels.mailed}</p> : null}
      <p><a href={config.followUpUrl}>{labels.followUp}</a></p>
    </section>
  );
}

function Identity({ fields, values, setValues, errors }) {
  return fields.map((field) => {
    const id = `identity_${field.name}`;
    const error = errors[field.name];
    const described = [field.help ? `${id}-help` : null, error ? `${id}-error` : null].filter(Boolean).join(" ");
    return (
      <div className="form-group" key={field.name}>
        <label htmlFor={id}>{field.label}{field.required ? " *" : ""}</label>
        <input id={id} name={field.name} type={field.type} autoComplete={field.autocomplete}
          value={values[field.name] || ""} aria-invalid={error ? "true" : undefined}
          aria-describedby={described || undefined}
          onChange={(event) => setValues({ ...values, [field.name]: event.target.value })} />
        {field.help ? <p className="help-block" id={`${id}-help`}>{field.help}</p> : null}
        {error ? <p className="error-detail" id={`${id}-error`}>{error}</p> : null}
      </div>
    );
  });
}

function ReportForm({ config, csrf, alertBox }) {
  const { labels } = config;
  const [formData, setFormData] = useState({});
  const [mode, setMode] = useState("");
  const [identity, setIdentity] = useState({});
  const [extraErrors, setExtraErrors] = useState({});
  const [sideErrors, setSideErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [receipt, setReceipt] = useState(null);
  const withIdentity = mode === "rahasia" || mode === "biasa";

  async function submit({ formData: data }) {
    setBusy(true);
    alertBox.hidden = true;
    try {
      const filled = Object.fromEntries(Object.entries(identity).filter(([, v]) => v && v.trim() !== ""));
      const response = await fetch(config.submitUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ unit: config.unit, definition_key: config.definitionKey, mode,
                               data, identity: withIdentity ? filled : null }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.status === 201) {
        setReceipt(body);
        return;
      }
      const errors = body.errors || [];
      const side = {};
      for (const { field, message } of errors) {
        if (field === "mode") side.mode = message;
        else if (field === "identity") side.identity = message;
        else if (String(field).startsWith("identity.")) side[String(field).slice(9)] = message;
      }
      setSideErrors(side);
      setExtraErrors(toExtraErrors(errors.filter(({ field }) => field !== "mode" && !String(field).startsWith("identity"))));
      alertBox.textContent = body.message || labels.failed;
      alertBox.hidden = false;
      alertBox.focus();
    } catch {
      alertBox.textContent = labels.failed;
      alertBox.hidden = false;
    } finally {
      setBusy(false);
    }
  }

  if (receipt) return <Receipt receipt={receipt} config={config} />;
  return (
    <Form
      schema={config.schema}
      uiSchema={config.ui}
      formData={formData}
      validator={validator}
      noValidate
      noHtml5Validate
      showErrorList={false}
      extraErrors={extraErrors}
      onChange={(event) => setFormData(event.formData)}
      onSubmit={submit}
    >
      <fieldset className="modes" aria-describedby={sideErrors.mode ? "mode-error" : undefined}>
        <legend>{labels.modeLegend} *</legend>
        {config.modes.map((choice) => (
          <div className="mode" key={choice.value}>
            <input type="radio" id={`mode_${choice.value}`} name="mode" value={choice.value}
              checked={mode === choice.value} aria-describedby={`mode_${choice.value}-help`}
              onChange={() => setMode(choice.value)} />
            <label htmlFor={`mode_${choice.value}`}>{choice.label}</label>
            <p className="help-block" id={`mode_${choice.value}-help`}>{choice.help}</p>
          </div>
        ))}
        {sideErrors.mode ? <p className="error-detail" id="mode-error">{sideErrors.mode}</p> : null}
        {sideErrors.identity ? <p className="error-detail" id="identity-error">{sideErrors.identity}</p> : null}
      </fieldset>
      {withIdentity ? (
        <fieldset className="identity" id="identity">
          <legend>{labels.identityLegend}</legend>
          <p className="help-block">{labels.identityHelp}</p>
          <Identity fields={config.identityFields} values={identity} setValues={setIdentity} errors={sideErrors} />
        </fieldset>
      ) : null}
      <p><button type="submit" className="primary" disabled={busy}>{labels.submit}</button></p>
    </Form>
  );
}

const host = document.getElementById("report-form");
if (host) {
  const config = JSON.parse(document.getElementById(host.dataset.config).textContent);
  const alertBox = document.getElementById("form-error");
  alertBox.tabIndex = -1;
  createRoot(host).render(
    <StrictMode>
      <ReportForm config={config} csrf={host.dataset.csrf} alertBox={alertBox} />
    </StrictMode>,
  );
}
