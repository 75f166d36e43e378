/* A form for every key of a scenario document (the TOML file as JSON), built from the
   document's own structure: text, numbers, true/false, lists, tables and lists of tables. */
"use strict";
const ScenarioEditor = (() => {
  const { el } = BG;
  let doc = null;
  let counter = 0;

  const isTable = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const isTableList = (v) => Array.isArray(v) && v.length > 0 && v.every(isTable);
  const kindOf = (v) => (typeof v === "boolean" ? "bool" : typeof v === "number" ? (Number.isInteger(v) ? "int" : "float") : "text");

  /** What a list of tables calls one item: its role or name, else its number. */
  function itemName(key, item, i) {
    return `${key}: ${item.role || item.name || i + 1}`;
  }

  function input(path, value) {
    const id = "scn-k" + (++counter);
    const label = el("label", { for: id, text: String(path[path.length - 1]) });
    const attrs = { id, "data-path": JSON.stringify(path) };
    let field;
    if (Array.isArray(value) && value.length && value.every(Array.isArray)) {
      // a list of lists (patience = [[1, 0.7], [2, 0.3]]): entries separated by semicolons, their values by commas
      const help = "scn-h" + counter;
      const text = value.map((row) => row.join(", ")).join("; ");
      field = el("input", { ...attrs, type: "text", value: text, "data-kind": "rows", spellcheck: "false", "aria-describedby": help });
      return el("div", { class: "field" }, [label, field, el("p", { id: help, class: "help", text: BG.t("rows_help") })]);
    } else if (Array.isArray(value)) {
      // a list of plain values: one text field, entries separated by commas
      const kind = value.length ? kindOf(value[0]) : "int";
      field = el("input", { ...attrs, type: "text", value: value.join(", "), "data-kind": "list-" + kind, spellcheck: "false" });
    } else if (typeof value === "boolean") {
      field = el("input", { ...attrs, type: "checkbox", "data-kind": "bool" });
      field.checked = value;
      return el("label", { class: "check" }, [field, " " + path[path.length - 1]]);
    } else if (typeof value === "number") {
      field = el("input", { ...attrs, type: "number", step: "any", inputmode: "decimal", value: String(value), "data-kind": kindOf(value) });
    } else if (String(value).length > 60 || String(value).includes("\n")) {
      field = el("textarea", { ...attrs, rows: "3", "data-kind": "text" });
      field.value = value;
    } else {
      field = el("input", { ...attrs, type: "text", value: String(value), "data-kind": "text" });
    }
    return el("div", { class: "field" }, [label, field]);
  }

  function table(path, obj, title) {
    const plain = [];
    const nested = [];
    for (const [k, v] of Object.entries(obj)) {
      if (isTable(v)) nested.push(table([...path, k], v, k));
      else if (isTableList(v)) v.forEach((item, i) => nested.push(table([...path, k, i], item, itemName(k, item, i))));
      else plain.push(input([...path, k], v));
    }
    const body = [el("div", { class: "keys" }, plain), ...nested];
    if (title === null) return el("div", {}, body);
    return el("fieldset", {}, [el("legend", { text: title }), ...body]);
  }

  /** Fill ``container`` with a field per key of ``document``; ``onChange`` runs on every edit. */
  function render(container, document, onChange) {
    // no edit events while the fields are replaced (removing a focused, edited field fires "change")
    container.oninput = null;
    container.onchange = null;
    doc = JSON.parse(JSON.stringify(document));
    counter = 0;
    container.replaceChildren(table([], doc, null));
    container.oninput = onChange;
    container.onchange = onChange;
  }

  function read(node) {
    const kind = node.dataset.kind;
    if (kind === "bool") return node.checked;
    if (kind === "text") return node.value;
    const number = (s) => (s.trim() === "" ? null : Number(s));
    if (kind === "int" || kind === "float") return number(node.value);
    if (!node.value.trim()) return [];
    if (kind === "rows") return node.value.split(";").filter((row) => row.trim()).map((row) => row.split(",").map(number));
    const parts = node.value.split(",").map((s) => s.trim());
    return kind === "list-text" ? parts : parts.map(number);
  }

  /** The document with the form's values (an emptied number is sent as null: the server names it). */
  function collect(container) {
    const out = JSON.parse(JSON.stringify(doc));
    for (const node of container.querySelectorAll("[data-path]")) {
      const path = JSON.parse(node.dataset.path);
      let at = out;
      for (const k of path.slice(0, -1)) at = at[k];
      at[path[path.length - 1]] = read(node);
    }
    return out;
  }

  return { render, collect };
})();
