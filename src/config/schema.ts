import { z } from 'zod';
import { BACKEND_SETTINGS, LOSS_DISPLAY_NAMES, lossKind, OPTIMIZER_NAMES, optimizerName } from '../core/names.js';
import { ACCURACY_OPTIONS, type AccuracyOption } from '../core/run-spec.js';
import { parseBoolean, parseSize } from './values.js';

/** Validators for single `[PROCESS]` / `[MONITOR]` values; each takes the raw string. */
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

const number = (what: string) =>
  z
    .string()
    .trim()
    .refine((s) => NUMBER_RE.test(s), { message: `must be ${what}` })
    .transform(Number);

export const positiveNumber = number('a positive number').pipe(z.number().positive('must be a positive number'));
export const positiveInt = number('a positive integer').pipe(
  z.number().int('must be a positive integer').positive('must be a positive integer'),
);
export const nonNegativeInt = number('an integer >= 0').pipe(
  z.number().int('must be an integer >= 0').min(0, 'must be an integer >= 0'),
);
export const integer = number('an integer').pipe(z.number().int('must be an integer'));

export const boolean = z.string().transform((s, ctx) => {
  const b = parseBoolean(s);
  if (b === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be True or False' });
    return z.NEVER;
  }
  return b;
});

export const size = z.string().transform((s, ctx) => {
  const b = parseSize(s);
  if (b === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a size such as 500M, 1G or 2T' });
    return z.NEVER;
  }
  return b;
});

export const optimizer = z.string().transform((s, ctx) => {
  const o = optimizerName(s);
  if (!o) {
    ctx.addIssue({ code: 'custom', message: `unknown optimizer; known: ${OPTIMIZER_NAMES.join(', ')}` });
    return z.NEVER;
  }
  return o;
});

export const lossName = z.string().refine((s) => lossKind(s) !== undefined, {
  message: `unknown loss; known: ${LOSS_DISPLAY_NAMES.join(', ')} (or class_loss_function + path_to_class_loss_function for your own)`,
});

export const backend = z.string().transform((s, ctx) => {
  const b = s.trim().toLowerCase();
  if (!(BACKEND_SETTINGS as readonly string[]).includes(b)) {
    ctx.addIssue({ code: 'custom', message: `unknown backend; known: ${BACKEND_SETTINGS.join(', ')}` });
    return z.NEVER;
  }
  return b as (typeof BACKEND_SETTINGS)[number];
});

export const nonNegativeNumber = number('a number >= 0').pipe(z.number().min(0, 'must be a number >= 0'));

export const accuracy = z.string().transform((s, ctx) => {
  const a = s.trim().toLowerCase();
  if (!(ACCURACY_OPTIONS as readonly string[]).includes(a)) {
    ctx.addIssue({ code: 'custom', message: `must be one of ${ACCURACY_OPTIONS.join(', ')}` });
    return z.NEVER;
  }
  return a as AccuracyOption;
});

export const nameList = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== ''),
);

/** The first message of a failed zod parse, for one-line errors. */
export function firstIssue(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'invalid value';
}
