import { getJson, type Choices } from './api.js';
import type { Chart } from './charts.js';
import { clear, h, notice, select, textField } from './dom.js';
import { charts, readForm, writeForm, type View } from './view.js';

const forms = {
  metaplot: { dataset: '', criterion: 'test_loss', pool: '' },
  perfanalysis: { dataset: '', criterion: 'test_loss', pool: '' },
};

/** metaplot or perfanalysis: the commands' own Vega-Lite spec, built by the server, drawn interactive; its settings kept in the address. */
export function figureView(kind: 'metaplot' | 'perfanalysis', choices: Choices, params: URLSearchParams): View {
  const form = forms[kind];
  readForm(form, params);
  if (!form.dataset || !choices.doneDatasetKeys.includes(form.dataset)) form.dataset = choices.doneDatasetKeys[0] ?? '';
  const el = h('div', { class: 'figure-view' });
  const box = h('div', { class: 'chart', id: `${kind}-chart` });
  const notes = h('div', { class: 'notes' });
  let chart: Chart | undefined;
  let gone = false;
  const run = async () => {
    chart?.finalize();
    chart = undefined;
    clear(box);
    clear(notes);
    writeForm(kind, form);
    if (!form.dataset) {
      box.append(notice('No finished run yet: the figure appears once runs are done.'));
      return;
    }
    try {
      const p = new URLSearchParams(Object.entries(form).filter(([, v]) => v));
      const [fig, { draw }] = await Promise.all([
        getJson<{ spec: object; notes: string[] }>(`/api/figures/${kind}`, p),
        charts(),
      ]);
      if (gone) return;
      chart = await draw(box, fig.spec, `${kind}-${form.criterion}`);
      notes.append(...fig.notes.map((n) => h('p', { class: 'note' }, `note: ${n}`)));
    } catch (e) {
      box.append(notice((e as Error).message, 'error'));
    }
  };
  el.append(
    h(
      'div',
      { class: 'controls' },
      h(
        'label',
        {},
        'dataset key ',
        select(
          'dataset',
          choices.doneDatasetKeys.map((d) => ({ value: d })),
          form.dataset,
          (v) => {
            form.dataset = v;
            void run();
          },
        ),
      ),
      h(
        'label',
        {},
        'criterion ',
        select(
          'criterion',
          choices.criteria.filter((c) => kind === 'metaplot' || c !== 'nb_params').map((c) => ({ value: c })),
          form.criterion,
          (v) => {
            form.criterion = v;
            void run();
          },
        ),
      ),
      textField('pool', form.pool, { placeholder: 'pool: lr,width', size: 14 }, (v) => {
        form.pool = v;
        void run();
      }),
      h(
        'span',
        { class: 'muted' },
        `the figure of mosaic ${kind} · hover for values, drag and wheel on the curve to zoom`,
      ),
    ),
    box,
    notes,
  );
  void run();
  return {
    el,
    dispose: () => {
      gone = true;
      chart?.finalize();
    },
  };
}
