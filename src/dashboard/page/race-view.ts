import { getJson, type RaceAnswer, type RaceView, type Summary } from './api.js';
import { clear, h, notice, reportTable } from './dom.js';
import { RACE_NUMERIC_FROM, raceCells, raceHead, raceKeyTitle, raceLegend } from '../../race/table.js';

/**
 * The race panel (`[MONITOR] multiplicity = auto`), above the runs table: the race's line, and by
 * data key where it stands, the runs spent against max_repeats × configurations, and the table
 * `mosaic status` prints (the best, those racing, those eliminated or equivalent with their round
 * and p). Hidden when the experiment is no race; read again when runs are queued or finish, or a
 * round is decided.
 */
export interface RacePanel {
  el: HTMLElement;
  onSummary(s: Summary, previous: Summary | undefined): void;
}

/** What of the live mark moves the race: the statuses' counts and the decisions recorded (`live.ts`). */
const raceMark = (s: Summary) => `${s.mark.split('|')[0]}${s.mark.split('|race ')[1] ?? ''}`;

export function racePanel(): RacePanel {
  const body = h('div', { class: 'race-body' });
  const line = h('span', { class: 'race-line', id: 'race-line' });
  const el = h('details', { class: 'race-panel', id: 'race', open: true }, h('summary', {}, 'Race: ', line), body);
  el.hidden = true;
  let loading = 0;

  const draw = (race: RaceView) => {
    line.textContent = `${race.line} (${race.criterion}, α = ${race.alpha})`;
    clear(body);
    for (const k of race.keys) {
      const spent = h('span', { class: 'mini-fill' });
      spent.style.width = `${k.budget ? Math.min(100, (100 * k.runs) / k.budget) : 0}%`;
      const table = reportTable(raceHead(race), k.entries.map(raceCells), RACE_NUMERIC_FROM);
      table.classList.add('race-table');
      table.querySelectorAll('tbody tr').forEach((tr, i) => {
        const state = k.entries[i]!.state;
        tr.setAttribute('data-state', state);
        tr.classList.add(`race-${state}`);
      });
      body.append(
        h(
          'div',
          { class: 'race-key', 'data-key': k.dataKey },
          h(
            'p',
            { class: 'race-title' },
            h('span', { class: 'mini-bar', title: `${k.runs} of ${k.budget} runs` }, spent),
            ' ',
            raceKeyTitle(k, race),
          ),
          table,
          h('p', { class: 'muted race-legend' }, raceLegend(k, race)),
        ),
      );
    }
  };

  const load = async () => {
    const mine = ++loading;
    try {
      const { race } = await getJson<RaceAnswer>('/api/race');
      if (mine !== loading) return;
      el.hidden = race === null;
      if (race) draw(race);
    } catch (e) {
      if (mine !== loading || el.hidden) return;
      clear(body);
      body.append(notice((e as Error).message, 'error'));
    }
  };
  void load();
  return {
    el,
    onSummary: (s, previous) => {
      if (previous && raceMark(s) !== raceMark(previous)) void load();
    },
  };
}
