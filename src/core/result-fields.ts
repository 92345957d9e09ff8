/**
 * The figures a finished run records in `run_results`, in one list: the store's columns, the
 * analysis criteria, the dashboard's table and the run page all read it. Adding a result field is
 * one entry here (and its computation in `engine/run/metrics.ts`, which the type then requires);
 * databases made before it get its column when next opened (`store/schema.ts`, `addResultColumns`).
 *
 * - `column`: the column in `run_results` (the original's names: `duration(s)`);
 * - `criterion`: the name `compare`, `metaplot` and the selectors take, or null when it is not one;
 * - `better`: which way is better when it is a criterion;
 * - `nullable`: null when the run measured no accuracy;
 * - `integer`: a count (stored as INTEGER, printed without decimals);
 * - `tableLabel`: the column's header in the dashboard's runs table, for the fields it shows.
 */
export const RESULT_FIELDS = [
  {
    name: 'train_loss',
    column: 'train_loss',
    criterion: 'train_loss',
    better: 'lower',
    tableLabel: 'train loss',
    about: 'train loss at the last epoch',
  },
  {
    name: 'test_loss',
    column: 'test_loss',
    criterion: 'test_loss',
    better: 'lower',
    tableLabel: 'test loss',
    about: 'test loss at the last epoch',
  },
  {
    name: 'train_acc',
    column: 'train_acc',
    criterion: 'train_acc',
    better: 'higher',
    nullable: true,
    tableLabel: 'train acc',
    about: 'train accuracy at the last epoch',
  },
  {
    name: 'test_acc',
    column: 'test_acc',
    criterion: 'test_acc',
    better: 'higher',
    nullable: true,
    tableLabel: 'test acc',
    about: 'test accuracy at the last epoch',
  },
  {
    name: 'nb_params',
    column: 'nb_params',
    criterion: 'nb_params',
    better: 'lower',
    integer: true,
    tableLabel: 'params',
    about: 'trainable parameters',
  },
  {
    name: 'duration_s',
    column: 'duration(s)',
    criterion: 'duration(s)',
    better: 'lower',
    tableLabel: 'time (s)',
    about: 'training time, seconds',
  },
  { name: 'epochs', column: 'epochs', criterion: 'epochs', better: 'lower', integer: true, about: 'epochs trained' },
  {
    name: 'overfit',
    column: 'overfit',
    criterion: 'overfit',
    better: 'lower',
    about: "|test − train| at the last epoch over the curves' range",
  },
  {
    name: 'trainability',
    column: 'trainability',
    criterion: 'trainability',
    better: 'lower',
    about: 'mean of the test-loss curve',
  },
  {
    name: 'slope',
    column: 'slope',
    criterion: 'slope',
    better: 'lower',
    about: 'mean change of the train loss per epoch over the last 10%',
  },
  {
    name: 'slope_std_plus',
    column: 'slope_std_plus',
    criterion: null,
    better: null,
    about: 'spread of the changes above the slope',
  },
  {
    name: 'slope_std_minus',
    column: 'slope_std_minus',
    criterion: null,
    better: null,
    about: 'spread of the changes below the slope',
  },
  {
    name: 'best_test_loss',
    column: 'best_test_loss',
    criterion: 'best_test_loss',
    better: 'lower',
    about: 'lowest test loss',
  },
  {
    name: 'best_epoch',
    column: 'best_epoch',
    criterion: 'best_epoch',
    better: 'lower',
    integer: true,
    about: 'epoch of the lowest test loss',
  },
] as const;

export type ResultField = (typeof RESULT_FIELDS)[number];
export type ResultName = ResultField['name'];

/** A finished run's figures, one per field of `RESULT_FIELDS`. */
export type RunResults = { [F in ResultField as F['name']]: F extends { nullable: true } ? number | null : number };

/** The fields the dashboard's runs table shows, in this order. */
export type TableField = Extract<ResultField, { tableLabel: string }>;
export const TABLE_FIELDS: readonly TableField[] = RESULT_FIELDS.filter((f): f is TableField => 'tableLabel' in f);
/** A runs table row's results. */
export type TableResults = { [F in TableField as F['name']]: number | null };

/** The fields that are criteria, by criterion name. */
export const CRITERION_FIELDS: ReadonlyMap<string, ResultField> = new Map(
  RESULT_FIELDS.filter((f) => f.criterion !== null).map((f) => [f.criterion as string, f]),
);
