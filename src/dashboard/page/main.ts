import { getJson, postJson, type Choices, type Summary } from './api.js';
import { compareView } from './compare-view.js';
import { cdView } from './cd-view.js';
import { $, clear, h, notice } from './dom.js';
import { figureView } from './figures-view.js';
import { significant } from '../../core/format.js';
import { heartbeatText, isSilent } from '../../core/heartbeat.js';
import { duration } from './format.js';
import { overlayView } from './overlay-view.js';
import { runView } from './run-view.js';
import { runsView } from './runs-view.js';
import type { View } from './view.js';

/**
 * The dashboard page: a header with the experiment's live state (statuses, progress, ETA,
 * pause), the running runs, and one view at a time chosen by the address's #fragment.
 */
const ORDER = ['running', 'pending', 'done', 'error', 'failed', 'diverged'] as const;
let summary: Summary | undefined;
/** When the page got `summary` (its clock): the heartbeat ages shown grow from there, once a second. */
let summaryAt = 0;
let current: View | undefined;
let choices: Choices | undefined;
let choicesMark = '';

async function freshChoices(): Promise<Choices> {
  if (!choices || (summary && summary.mark.split('|')[0] !== choicesMark)) {
    choices = await getJson<Choices>('/api/choices');
    // the view across datasets is offered once two data keys have finished runs
    ($('cd-tab') as HTMLAnchorElement).hidden = choices.doneDatasetKeys.length < 2;
    choicesMark = summary?.mark.split('|')[0] ?? '';
  }
  return choices;
}

function drawHeader(s: Summary): void {
  $('db').textContent = s.db;
  document.title = `Mosaic · ${s.db}`;
  const counts = $('counts');
  clear(counts);
  counts.append(h('span', { class: 'total' }, `${s.total.toLocaleString('en')} runs`));
  for (const st of ORDER)
    if (s.counts[st] || st === 'done' || st === 'running')
      counts.append(
        h(
          'span',
          { class: `count s-${st}`, 'data-count': st },
          h('b', {}, (s.counts[st] ?? 0).toLocaleString('en')),
          ` ${st}`,
        ),
      );
  if (s.workersAlive)
    counts.append(
      h(
        'span',
        { class: 'workers', title: 'worker processes holding running runs' },
        `${s.workersAlive} worker${s.workersAlive === 1 ? '' : 's'}`,
      ),
    );
  ($('progress-fill') as HTMLElement).style.width = `${(100 * s.progress).toFixed(1)}%`;
  const open = (s.counts.running ?? 0) + (s.counts.pending ?? 0);
  $('progress-text').textContent =
    `${(100 * s.progress).toFixed(s.progress < 1 && s.progress > 0.99 ? 1 : 0)}%${open && s.etaSeconds !== null && !s.paused ? ` · ETA ${duration(s.etaSeconds)}` : open ? '' : ' · finished'}`;
  const pause = $('pause') as HTMLButtonElement;
  pause.hidden = false;
  pause.textContent = s.paused ? 'Resume' : 'Pause';
  pause.classList.toggle('primary', s.paused);
  pause.dataset.paused = String(s.paused);
  const hint = $('hint');
  hint.hidden = !s.hint;
  hint.textContent = s.hint ?? '';
  drawRunning(s);
}

function drawRunning(s: Summary): void {
  const box = $('running');
  clear(box);
  box.hidden = s.running.length === 0;
  if (!s.running.length) return;
  const shown = s.running.slice(0, 8);
  box.append(
    h('div', { class: 'running-title' }, `Training now (${s.running.length})`),
    h(
      'div',
      { class: 'running-cards' },
      ...shown.map((r) => {
        const fill = h('span', { class: 'mini-fill' });
        fill.style.width = `${r.epochsTarget ? (100 * r.epochsDone) / r.epochsTarget : 0}%`;
        return h(
          'a',
          { class: 'run-card', href: `#/run/${r.runId}`, 'data-run': r.runId },
          h(
            'div',
            { class: 'card-top' },
            h('b', {}, `#${r.runId}`),
            h('span', { class: 'pipeline-small', title: r.pipeline }, r.pipeline),
          ),
          h(
            'div',
            { class: 'card-mid' },
            h('span', { class: 'mini-bar wide' }, fill),
            h('span', { class: 'epoch', 'data-epoch': r.epochsDone }, `epoch ${r.epochsDone}/${r.epochsTarget}`),
          ),
          h(
            'div',
            { class: 'card-bottom muted' },
            r.last
              ? `train ${significant(r.last.train_loss, 3)} · test ${significant(r.last.test_loss, 3)}${r.last.test_acc !== null ? ` · acc ${significant(r.last.test_acc, 3)}` : ''}`
              : 'first epoch…',
            r.device ? ` · ${r.device}` : '',
          ),
          r.heartbeatAgeSeconds === null
            ? null
            : h('div', {
                class: 'card-beat muted',
                'data-age': r.heartbeatAgeSeconds,
                'data-host': r.host ?? '',
              }),
        );
      }),
      s.running.length > shown.length
        ? h('div', { class: 'more muted' }, `+${s.running.length - shown.length} more`)
        : null,
    ),
  );
  drawHeartbeats();
}

/** Each running card's `nodeB · last heartbeat 3 s ago`, or past a third of the timeout `silent for 85 s; taken back at 600 s`. */
function drawHeartbeats(): void {
  if (!summary) return;
  const since = (Date.now() - summaryAt) / 1000;
  for (const el of document.querySelectorAll<HTMLElement>('#running .card-beat')) {
    const age = Number(el.dataset.age) + since;
    const host = el.dataset.host ? `${el.dataset.host} · ` : '';
    el.textContent = `${host}${heartbeatText(age, summary.heartbeatTimeout)}`;
    el.classList.toggle('silent', isSilent(age, summary.heartbeatTimeout));
  }
}

function connect(): void {
  const live = $('live');
  const events = new EventSource('/api/events');
  events.addEventListener('open', () => live.classList.replace('off', 'on'));
  events.addEventListener('error', () => live.classList.replace('on', 'off'));
  events.addEventListener('problem', (e) => {
    const hint = $('hint');
    hint.hidden = false;
    hint.textContent = `The database could not be read just now: ${(JSON.parse((e as MessageEvent<string>).data) as { error: string }).error}`;
  });
  events.addEventListener('summary', (e) => {
    const previous = summary;
    summary = JSON.parse((e as MessageEvent<string>).data) as Summary;
    summaryAt = Date.now();
    drawHeader(summary);
    current?.onSummary?.(summary, previous);
  });
}

async function togglePause(): Promise<void> {
  const button = $('pause') as HTMLButtonElement;
  button.disabled = true;
  try {
    const s = await postJson<Summary>('/api/control/pause', { paused: !(summary?.paused ?? false) });
    const previous = summary;
    summary = s;
    summaryAt = Date.now();
    drawHeader(s);
    current?.onSummary?.(s, previous);
  } catch (e) {
    const hint = $('hint');
    hint.hidden = false;
    hint.textContent = (e as Error).message;
  } finally {
    button.disabled = false;
  }
}

async function route(): Promise<void> {
  const [path, search] = location.hash.replace(/^#/, '').split('?') as [string, string | undefined];
  const params = new URLSearchParams(search ?? '');
  const parts = path.split('/').filter(Boolean);
  const name = parts[0] ?? 'runs';
  current?.dispose?.();
  current = undefined;
  const main = $('view');
  clear(main);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#tabs a'))
    a.classList.toggle('active', a.dataset.view === name);
  const runTab = $('run-tab') as HTMLAnchorElement;
  runTab.hidden = name !== 'run';
  try {
    if (name === 'runs' || !['run', 'overlay', 'compare', 'cd', 'metaplot', 'perfanalysis'].includes(name)) {
      // the table does not wait for the menus
      current = runsView(freshChoices());
      main.append(current.el);
      return;
    }
    const c = await freshChoices();
    if (name === 'run' && /^\d+$/.test(parts[1] ?? '')) {
      runTab.textContent = `Run ${parts[1]}`;
      current = runView(Number(parts[1]));
    } else if (name === 'overlay')
      current = overlayView(
        (params.get('ids') ?? '')
          .split(',')
          .filter((x) => /^\d+$/.test(x))
          .map(Number),
      );
    else if (name === 'compare') current = compareView(c, params);
    else if (name === 'cd') current = cdView(c);
    else if (name === 'metaplot' || name === 'perfanalysis') current = figureView(name, c, params);
    else current = runsView(Promise.resolve(c));
    main.append(current.el);
  } catch (e) {
    main.append(notice((e as Error).message, 'error'));
  }
}

function start(): void {
  $('pause').addEventListener('click', () => void togglePause());
  window.addEventListener('hashchange', () => void route());
  connect();
  setInterval(drawHeartbeats, 1000);
  void route();
}

start();
