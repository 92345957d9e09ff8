/** A small helper to build DOM: no framework, no innerHTML of data (text is always text). */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | null | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'class') el.className = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat())
    if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.firstChild.remove();
}

export const $ = (id: string) => document.getElementById(id)!;

/** A `<select>` with its options; `value` chosen. */
export function select(
  name: string,
  options: { value: string; label?: string }[],
  value: string,
  onChange: (v: string) => void,
): HTMLSelectElement {
  const s = h(
    'select',
    { name, 'aria-label': name, onchange: () => onChange(s.value) },
    ...options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label ?? o.value)),
  );
  s.value = value;
  return s;
}

export function statusChip(status: string): HTMLElement {
  return h('span', { class: `chip s-${status}` }, status);
}

export function notice(text: string, kind: 'error' | 'note' = 'note'): HTMLElement {
  return h('div', { class: `notice ${kind}` }, text);
}

/** A report's table: columns from `numericFrom` on are right-aligned numbers. */
export function reportTable(head: string[], rows: (string | number)[][], numericFrom: number): HTMLElement {
  return h(
    'table',
    { class: 'report' },
    h('thead', {}, h('tr', {}, ...head.map((c, i) => h('th', { class: i >= numericFrom ? 'num' : '' }, c)))),
    h(
      'tbody',
      {},
      ...rows.map((r) => h('tr', {}, ...r.map((c, i) => h('td', { class: i >= numericFrom ? 'num' : '' }, String(c))))),
    ),
  );
}

/** A labelled text field of a view's form (`pool`, `rope`): its trimmed value goes to `onChange` when it changes. */
export function textField(
  name: string,
  value: string,
  attrs: { placeholder: string; size: number; title?: string },
  onChange: (v: string) => void,
): HTMLElement {
  const input = h('input', { type: 'text', name, value, 'aria-label': name, ...attrs });
  input.addEventListener('change', () => onChange(input.value.trim()));
  return h('label', {}, `${name} `, input);
}

/** The criterion and grouping selects an analysis view starts with; `changed` runs after either changes. */
export function criterionAndBy(
  choices: { criteria: string[]; modelTypes: string[] },
  form: { criterion: string; by: string },
  changed: () => void,
): HTMLElement[] {
  const criteria = choices.criteria.map((c) => ({ value: c }));
  const groupings = [{ value: '', label: 'whole model chain' }, ...choices.modelTypes.map((t) => ({ value: t }))];
  return [
    h(
      'label',
      {},
      'criterion ',
      select('criterion', criteria, form.criterion, (v) => {
        form.criterion = v;
        changed();
      }),
    ),
    h(
      'label',
      {},
      'by ',
      select('by', groupings, form.by, (v) => {
        form.by = v;
        changed();
      }),
    ),
  ];
}
