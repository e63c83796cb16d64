// The server's 422 field errors ({field: "a.b", message}) as @rjsf's `extraErrors` tree.
export function toExtraErrors(errors) {
  const extra = {};
  for (const { field, message } of errors || []) {
    let node = extra;
    for (const part of String(field || "").split(".").filter((p) => p !== "" && p !== "data")) {
      node[part] = node[part] || {};
      node = node[part];
    }
    node.__errors = [...(node.__errors || []), message];
  }
  return extra;
}
