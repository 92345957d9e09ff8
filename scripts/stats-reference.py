#!/usr/bin/env python3
"""Reference values of Mosaic's statistics, computed with SciPy, for test/analysis/stats-reference.test.ts.

Run from the repository's root:

    apt-get install python3-scipy        # python3 + NumPy + SciPy, nothing else (SciPy >= 1.15)
    python3 scripts/stats-reference.py   # writes test/fixtures/stats-reference.json

The data sets below are frozen literals; every value in the JSON is what SciPy answers for them
(the TypeScript tests hold the JSON as facts and check src/analysis/*.ts against it to 1e-6
relative). Running the script again with the same SciPy writes the same file, byte for byte.

SciPy >= 1.15 is needed: its wilcoxon(method='auto') uses an exact permutation test for n <= 13
with ties or zeros (gh-21567); 1.10 (Debian 12's python3-scipy) used the exact table with a
truncated statistic under ties, and the normal approximation with zeros. The script refuses older
versions rather than write other facts.

What is computed, per data set:
- paired: ttest_rel (t, df, two-sided p, 95% CI of the mean difference), wilcoxon(a, b) with its
  defaults (statistic, p; and which method 'auto' took, by SciPy's own rule), TOST p-values from two
  one-sided ttest_rel calls on a + rope and a - rope;
- independent: ttest_ind(equal_var=False) (Welch: t, df, p, 95% CI), mannwhitneyu with its
  defaults and with method='exact' and 'asymptotic', TOST from two one-sided Welch tests;
- Friedman tables: friedmanchisquare, average ranks (scipy.stats.rankdata, rank 1 = best),
  Iman-Davenport F and its p from scipy.stats.f;
- studentized_range.ppf(1 - alpha, k, inf) / sqrt(2) (Nemenyi q_alpha) and the critical difference;
  studentized_range.cdf at a few points;
- nct.cdf / nct.sf on a grid, and where they are below 1e-6 (where SciPy's are accurate in absolute
  terms only, or NaN) the same tail integrated with scipy.integrate.quad;
- repeats needed for 80%/90% power of the two-sided t-tests: the smallest n whose power (with nct,
  as statsmodels' TTestIndPower / TTestPower define it) reaches the target, by search over n.

Confidence intervals are diff +/- t.ppf(1 - (1 - level)/2, df) * se with SciPy's t quantile (the
same numbers as the results' confidence_interval() of recent SciPy, which 1.10 lacked for Welch).
Non-finite numbers are written as the strings "NaN", "Infinity", "-Infinity".
"""

import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
from scipy import integrate, optimize, special, stats

VERSION = tuple(int(x) for x in scipy.__version__.split('.')[:2])
if VERSION < (1, 15):
    sys.exit(f'SciPy {scipy.__version__} is too old: wilcoxon\'s defaults changed in 1.15 (see the top of this script)')

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'stats-reference.json')

# ---------------------------------------------------------------------------------------------
# Frozen data sets

# Paired: a[i] and b[i] measured on the same seed / fold. Integer data where the ties and zeros of
# the differences must be exactly what the name says.
PAIRED = {
    # n = 6, all differences positive, no ties: the smallest exact two-sided p, 2/2^6
    'exact_n6_all_positive': ([12, 15, 11, 18, 14, 16], [10, 11, 10, 13, 11, 10]),
    # n = 8, mixed signs, no ties or zeros: exact Wilcoxon distribution
    'exact_n8': ([81.2, 79.9, 84.1, 80.6, 82.3, 78.8, 83.0, 81.7], [80.0, 80.6, 82.2, 80.1, 79.1, 79.2, 80.4, 82.5]),
    # n = 20 and n = 40, all positive, distinct: exact p = 2/2^20 and 2/2^40 (tiny)
    'exact_n20_tiny_p': (
        [732, 785, 773, 825, 890, 809, 769, 753, 798, 793, 754, 805, 754, 844, 843, 843, 781, 821, 795, 784],
        [724, 752, 764, 808, 875, 790, 732, 719, 762, 768, 723, 782, 715, 840, 817, 827, 774, 800, 773, 746],
    ),
    'exact_n40_tiny_p': (
        [831, 815, 695, 810, 798, 803, 757, 789, 793, 848, 813, 800, 861, 778, 784, 727, 863, 839, 837, 827,
         804, 809, 790, 792, 802, 860, 822, 798, 777, 775, 864, 820, 803, 786, 756, 797, 835, 784, 791, 791],
        [791, 754, 623, 778, 774, 723, 723, 727, 724, 784, 780, 753, 849, 752, 739, 706, 832, 790, 819, 771,
         760, 768, 731, 777, 782, 810, 795, 740, 760, 739, 801, 809, 795, 715, 689, 775, 796, 742, 785, 784],
    ),
    # n = 30 and n = 50 (the last size of the exact distribution), no ties or zeros
    'exact_n30': (
        [853, 780, 812, 799, 782, 780, 825, 788, 794, 801, 847, 827, 815, 777, 745, 838, 839, 794, 822, 831,
         833, 837, 782, 861, 750, 834, 820, 835, 875, 859],
        [836, 823, 863, 774, 794, 787, 831, 807, 839, 773, 882, 830, 791, 813, 797, 879, 812, 847, 837, 881,
         842, 863, 821, 917, 792, 788, 791, 849, 827, 869],
    ),
    'exact_n50': (
        [880, 830, 752, 803, 823, 792, 827, 797, 827, 858, 773, 808, 781, 805, 753, 777, 792, 836, 846, 747,
         768, 826, 720, 781, 796, 850, 828, 787, 785, 790, 861, 783, 788, 814, 795, 792, 755, 800, 782, 847,
         826, 799, 827, 786, 842, 800, 823, 748, 814, 732],
        [999, 862, 653, 759, 894, 746, 776, 910, 774, 789, 785, 813, 709, 806, 633, 827, 893, 748, 798, 856,
         664, 853, 758, 665, 881, 774, 809, 712, 726, 693, 913, 726, 723, 747, 863, 686, 780, 757, 692, 871,
         832, 788, 729, 893, 730, 908, 795, 734, 718, 750],
    ),
    # n = 10 with tied |differences| (no zeros): exact permutation distribution (n <= 13)
    'permutation_ties_n10': ([14, 12, 17, 11, 15, 13, 16, 12, 18, 10], [12, 13, 14, 9, 13, 12, 13, 10, 15, 11]),
    # n = 12 with two zero differences and ties
    'permutation_zeros_n12': ([21, 25, 19, 23, 30, 22, 27, 24, 26, 20, 28, 22], [19, 25, 20, 20, 26, 22, 24, 21, 21, 18, 23, 23]),
    # n = 13 (the last size of the permutation test), one zero, no ties
    'permutation_zero_n13': (
        [50, 61, 47, 55, 58, 49, 62, 53, 57, 60, 52, 59, 56],
        [49, 59, 50, 51, 53, 49, 55, 45, 48, 50, 63, 47, 43],
    ),
    # all differences equal to 1: every |d| tied, t-test without variance
    'constant_shift_n5': ([3, 5, 7, 9, 11], [2, 4, 6, 8, 10]),
    # n = 14 with ties: normal approximation with the tie correction
    'approx_ties_n14': (
        [31, 35, 28, 40, 33, 37, 29, 36, 34, 38, 30, 39, 32, 41],
        [29, 33, 29, 36, 31, 34, 28, 33, 31, 34, 32, 35, 29, 37],
    ),
    # n = 25 with three zeros and many ties
    'approx_zeros_ties_n25': (
        [822, 847, 840, 809, 738, 838, 794, 699, 815, 740, 748, 775, 851, 785, 811, 870, 864, 796, 790, 750,
         772, 817, 816, 804, 840],
        [815, 839, 835, 809, 733, 844, 792, 703, 807, 744, 743, 775, 858, 783, 805, 879, 862, 787, 784, 750,
         769, 818, 815, 810, 831],
    ),
    # n = 55 pairs with ten zeros (45 left): SciPy decides on 55 > 50, normal approximation
    'approx_zeros_n55': (
        [860, 769, 815, 791, 770, 824, 794, 824, 798, 757, 796, 802, 838, 764, 798, 731, 826, 757, 728, 798,
         844, 739, 756, 770, 755, 815, 768, 771, 823, 770, 817, 761, 752, 727, 874, 787, 810, 799, 806, 802,
         876, 758, 738, 760, 747, 830, 833, 762, 744, 786, 856, 687, 821, 757, 842],
        [871, 785, 805, 796, 771, 824, 781, 843, 795, 758, 778, 820, 819, 764, 782, 754, 807, 768, 717, 788,
         843, 721, 756, 783, 778, 797, 745, 769, 846, 756, 827, 774, 752, 750, 889, 787, 788, 788, 806, 802,
         875, 771, 738, 759, 728, 816, 841, 757, 744, 786, 849, 666, 809, 753, 824],
    ),
    # n = 60 accuracies (three decimals, as a model reports them): normal approximation
    'approx_n60': (
        [0.794, 0.827, 0.834, 0.885, 0.857, 0.816, 0.815, 0.839, 0.773, 0.798, 0.845, 0.898, 0.792, 0.798, 0.81,
         0.867, 0.798, 0.873, 0.752, 0.791, 0.79, 0.839, 0.852, 0.725, 0.754, 0.817, 0.767, 0.724, 0.852, 0.825,
         0.825, 0.776, 0.851, 0.788, 0.855, 0.754, 0.757, 0.81, 0.765, 0.834, 0.813, 0.754, 0.804, 0.782, 0.846,
         0.768, 0.778, 0.861, 0.912, 0.9, 0.803, 0.811, 0.877, 0.794, 0.751, 0.806, 0.823, 0.759, 0.718, 0.728],
        [0.772, 0.834, 0.829, 0.873, 0.836, 0.814, 0.797, 0.849, 0.772, 0.81, 0.815, 0.89, 0.799, 0.797, 0.806,
         0.845, 0.822, 0.886, 0.751, 0.732, 0.763, 0.834, 0.83, 0.675, 0.751, 0.816, 0.735, 0.706, 0.83, 0.827,
         0.778, 0.734, 0.832, 0.766, 0.887, 0.734, 0.753, 0.794, 0.743, 0.833, 0.839, 0.738, 0.81, 0.781, 0.85,
         0.767, 0.816, 0.828, 0.899, 0.87, 0.756, 0.802, 0.905, 0.804, 0.767, 0.808, 0.813, 0.791, 0.703, 0.75],
    ),
}

# Paired data sets whose answer SciPy leaves undefined (NaN) somewhere: ours is documented instead.
PAIRED_DEGENERATE = {
    'identical_n8': ([0.91, 0.88, 0.93, 0.9, 0.87, 0.92, 0.89, 0.9], [0.91, 0.88, 0.93, 0.9, 0.87, 0.92, 0.89, 0.9]),
    'identical_n20': (list(range(20)), list(range(20))),
    'one_pair': ([0.9], [0.8]),
}

# Independent samples.
INDEPENDENT = {
    # the samples of test/analysis/stats.test.ts
    'small_no_ties_6_5': ([19.1, 20.3, 21.7, 18.9, 22.4, 20.0], [23.5, 24.1, 22.8, 25.9, 24.6]),
    'small_ties_5_6': ([1.1, 2.2, 2.2, 3.5, 4.0], [2.2, 3.0, 3.5, 5.1, 6.3, 7.0]),
    'tiny_3_4': ([0.31, 0.27, 0.35], [0.29, 0.38, 0.41, 0.36]),
    # n1 = 8 <= 8: SciPy's 'auto' is exact
    'exact_8_9': ([0.812, 0.797, 0.824, 0.806, 0.819, 0.801, 0.815, 0.793],
                  [0.826, 0.833, 0.809, 0.841, 0.829, 0.837, 0.822, 0.845, 0.818]),
    # far apart: tiny Welch p; the exact Mann-Whitney p is 2/C(17, 8)
    'far_apart_8_9': ([0.412, 0.398, 0.405, 0.421, 0.409, 0.401, 0.416, 0.403],
                      [0.301, 0.297, 0.305, 0.293, 0.299, 0.308, 0.302, 0.296, 0.304]),
    # both samples above 8, no ties: SciPy's 'auto' is the normal approximation
    'no_ties_10_10': ([4.89, 5.36, 5.11, 5.63, 5.04, 6.24, 5.42, 5.39, 5.41, 3.54],
                      [6.04, 5.94, 6.41, 4.84, 7.83, 6.3, 4.99, 4.49, 5.92, 6.11]),
    # one sample of 5, the other of 40, no ties: SciPy's 'auto' is exact
    'no_ties_5_40': (
        [0.1641, 0.2046, 0.1679, 0.2276, 0.1638],
        [0.2481, 0.2989, 0.3786, 0.1996, 0.2268, 0.208, 0.2892, 0.1926, 0.2258, 0.2485, 0.2011, 0.2021, 0.2262,
         0.145, 0.1777, 0.2293, 0.2574, 0.2407, 0.1613, 0.2267, 0.2899, 0.2778, 0.2461, 0.2056, 0.2816, 0.2211,
         0.1915, 0.2099, 0.3224, 0.261, 0.308, 0.226, 0.2969, 0.2199, 0.2421, 0.3743, 0.2884, 0.2249, 0.2458,
         0.2663],
    ),
    'ties_12_15': ([3.7, 2.7, 2.0, 2.8, 3.0, 3.1, 3.8, 3.2, 3.5, 2.3, 3.5, 4.3],
                   [3.9, 3.6, 3.5, 4.5, 2.8, 3.3, 3.7, 3.8, 3.1, 3.6, 3.2, 3.5, 3.3, 2.7, 3.4]),
    'ties_30_35': (
        [0.916, 0.908, 0.904, 0.909, 0.899, 0.898, 0.876, 0.909, 0.947, 0.95, 0.936, 0.924, 0.896, 0.939, 0.909,
         0.909, 0.904, 0.912, 0.901, 0.908, 0.888, 0.903, 0.956, 0.909, 0.905, 0.921, 0.924, 0.888, 0.906, 0.928],
        [0.907, 0.903, 0.939, 0.883, 0.902, 0.887, 0.937, 0.851, 0.883, 0.887, 0.917, 0.915, 0.935, 0.861, 0.919,
         0.893, 0.883, 0.913, 0.877, 0.848, 0.891, 0.863, 0.884, 0.909, 0.908, 0.94, 0.895, 0.862, 0.881, 0.877,
         0.87, 0.911, 0.884, 0.851, 0.917],
    ),
    'identical_6_6': ([0.91, 0.88, 0.93, 0.9, 0.87, 0.92], [0.91, 0.88, 0.93, 0.9, 0.87, 0.92]),
}

# TOST: (kind, data set, rope, alpha)
TOST = [
    ('independent', 'small_no_ties_6_5', 5.0, 0.05),
    ('independent', 'small_no_ties_6_5', 2.0, 0.05),
    ('independent', 'ties_30_35', 0.03, 0.05),
    ('independent', 'ties_30_35', 0.01, 0.05),
    ('independent', 'exact_8_9', 0.02, 0.05),
    ('independent', 'identical_6_6', 0.01, 0.05),
    ('independent', 'no_ties_10_10', 1.5, 0.025),
    ('paired', 'exact_n8', 2.0, 0.05),
    ('paired', 'exact_n30', 30.0, 0.05),
    ('paired', 'exact_n30', 10.0, 0.05),
    ('paired', 'approx_n60', 0.02, 0.05),
    ('paired', 'approx_n60', 0.01, 0.05),
    ('paired', 'approx_zeros_n55', 3.0, 0.025),
]

# Friedman: datasets (rows) x models (columns), and which direction is better.
FRIEDMAN = {
    # 14 datasets x 4 models, accuracies (higher is better), no ties
    'accuracies_14x4': ('higher', [
        [0.843, 0.884, 0.875, 0.758], [0.662, 0.612, 0.898, 0.942], [0.685, 0.903, 0.741, 0.709],
        [0.777, 0.603, 0.755, 0.67], [0.849, 0.776, 0.904, 0.914], [0.711, 0.698, 0.929, 0.776],
        [0.634, 0.616, 0.947, 0.803], [0.619, 0.779, 0.776, 0.752], [0.933, 0.932, 0.644, 0.653],
        [0.743, 0.892, 0.818, 0.855], [0.802, 0.674, 0.886, 0.605], [0.844, 0.668, 0.765, 0.941],
        [0.789, 0.62, 0.75, 0.831], [0.62, 0.688, 0.606, 0.789]]),
    # 8 datasets x 5 models, losses (lower is better), ties within rows and one row tied throughout
    'losses_ties_8x5': ('lower', [
        [0.31, 0.29, 0.31, 0.35, 0.28], [0.52, 0.52, 0.49, 0.55, 0.52], [0.12, 0.11, 0.13, 0.11, 0.10],
        [0.40, 0.40, 0.40, 0.40, 0.40], [0.27, 0.25, 0.26, 0.30, 0.25], [0.61, 0.58, 0.60, 0.66, 0.57],
        [0.33, 0.33, 0.34, 0.36, 0.32], [0.45, 0.41, 0.44, 0.47, 0.41]]),
    # 5 datasets x 3 models, small
    'small_5x3': ('lower', [[1.2, 1.5, 1.4], [0.8, 0.9, 1.1], [2.3, 2.1, 2.6], [1.7, 1.9, 1.8], [0.6, 0.7, 0.9]]),
    # 6 datasets x 3 models, every dataset ranks the models the same: chi2 = N(k-1), F infinite
    'full_agreement_6x3': ('lower', [[1, 2, 3], [4, 6, 9], [0.1, 0.2, 0.3], [5, 7, 8], [2, 3, 4], [1, 5, 6]]),
}

NEMENYI_ALPHAS = [0.05, 0.10, 0.01]
NEMENYI_KS = [2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 50]
CD_CASES = [(4, 14, 0.05), (5, 8, 0.05), (3, 5, 0.10), (10, 30, 0.05), (2, 20, 0.01)]
RANGE_CDF = [(0.5, 2), (2.0, 3), (3.0, 5), (3.5, 10), (5.0, 20), (1.0, 7), (6.0, 10)]

NCT_T = [-4.0, -1.5, -0.5, 0.5, 1.0, 2.0, 3.5, 8.0]
NCT_DF = [1, 3, 10, 38, 200, 2000]
NCT_NC = [-1.0, 0.0, 0.7, 2.5, 6.0]

# Power: (difference, sd, paired, alpha, power)
POWER = [
    (0.5, 1.0, False, 0.05, 0.8), (1.0, 1.0, False, 0.05, 0.8), (0.8, 1.0, False, 0.05, 0.8),
    (0.2, 1.0, False, 0.05, 0.8), (0.01, 0.05, False, 0.05, 0.8), (2.0, 1.0, False, 0.05, 0.8),
    (3.0, 1.0, False, 0.05, 0.8), (0.5, 1.0, False, 0.01, 0.9), (0.03, 0.02, False, 0.05, 0.9),
    (0.5, 1.0, True, 0.05, 0.8), (1.0, 1.0, True, 0.05, 0.8), (0.2, 1.0, True, 0.05, 0.8),
    (2.0, 1.0, True, 0.05, 0.8), (3.0, 1.0, True, 0.05, 0.8), (0.5, 1.0, True, 0.01, 0.9),
    (0.004, 0.01, True, 0.05, 0.8), (0.1, 1.0, False, 0.05, 0.8),
]

# ---------------------------------------------------------------------------------------------


def num(x):
    x = float(x)
    if math.isnan(x):
        return 'NaN'
    if math.isinf(x):
        return 'Infinity' if x > 0 else '-Infinity'
    return x


def f64(xs):
    return np.asarray(xs, dtype=np.float64)


def t_ci(diff, se, df, level):
    half = stats.t.ppf(1 - (1 - level) / 2, df) * se
    return [num(diff - half), num(diff + half)]


def wilcoxon_auto_method(a, b):
    """SciPy 1.15+'s choice in wilcoxon(method='auto') (scipy/stats/_wilcoxon.py)."""
    d = f64(a) - f64(b)
    nz = np.abs(d[d != 0])
    ties = len(np.unique(nz)) < len(nz)
    if len(d) > 50:
        return 'asymptotic'
    if not (ties or np.any(d == 0)):
        return 'exact'
    return 'permutation' if len(d) <= 13 else 'asymptotic'


def paired_entry(a, b):
    a, b = f64(a), f64(b)
    d = a - b
    n = len(d)
    with warnings.catch_warnings():
        # constant_shift_n5: differences without variance (t = inf, as SciPy answers)
        warnings.simplefilter('ignore', RuntimeWarning)
        tr = stats.ttest_rel(a, b)
    se = np.std(d, ddof=1) / math.sqrt(n) if n > 1 else math.nan
    w = stats.wilcoxon(a, b)
    return {
        'a': a.tolist(), 'b': b.tolist(),
        'ttest_rel': {'t': num(tr.statistic), 'df': num(tr.df), 'p': num(tr.pvalue), 'diff': num(np.mean(d)),
                      'ci95': t_ci(np.mean(d), se, n - 1, 0.95) if n > 1 else ['NaN', 'NaN']},
        'wilcoxon': {'statistic': num(w.statistic), 'p': num(w.pvalue), 'auto_method': wilcoxon_auto_method(a, b),
                     'n_nonzero': int(np.count_nonzero(d)), 'zeros': int(n - np.count_nonzero(d))},
    }


def mwu_auto_method(a, b):
    ties = len(np.unique(np.concatenate([a, b]))) < len(a) + len(b)
    if len(a) > 8 and len(b) > 8:
        return 'asymptotic'
    return 'asymptotic' if ties else 'exact'


def independent_entry(a, b):
    a, b = f64(a), f64(b)
    wt = stats.ttest_ind(a, b, equal_var=False)
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    diff = np.mean(a) - np.mean(b)
    mw = stats.mannwhitneyu(a, b)
    ties = len(np.unique(np.concatenate([a, b]))) < len(a) + len(b)
    return {
        'a': a.tolist(), 'b': b.tolist(),
        'welch': {'t': num(wt.statistic), 'df': num(wt.df), 'p': num(wt.pvalue), 'diff': num(diff),
                  'ci95': t_ci(diff, math.sqrt(va + vb), wt.df, 0.95)},
        'mannwhitneyu': {
            'u': num(mw.statistic), 'p': num(mw.pvalue), 'auto_method': mwu_auto_method(a, b), 'ties': bool(ties),
            'p_exact': None if ties else num(stats.mannwhitneyu(a, b, method='exact').pvalue),
            'p_asymptotic': num(stats.mannwhitneyu(a, b, method='asymptotic').pvalue),
        },
    }


def tost_entry(kind, name, rope, alpha):
    a, b = (f64(x) for x in (PAIRED if kind == 'paired' else INDEPENDENT)[name])
    if kind == 'paired':
        lower = stats.ttest_rel(a + rope, b, alternative='greater')
        upper = stats.ttest_rel(a - rope, b, alternative='less')
        d = a - b
        diff, se, df = np.mean(d), np.std(d, ddof=1) / math.sqrt(len(d)), len(d) - 1
    else:
        lower = stats.ttest_ind(a + rope, b, equal_var=False, alternative='greater')
        upper = stats.ttest_ind(a - rope, b, equal_var=False, alternative='less')
        diff = np.mean(a) - np.mean(b)
        se = math.sqrt(np.var(a, ddof=1) / len(a) + np.var(b, ddof=1) / len(b))
        df = stats.ttest_ind(a, b, equal_var=False).df
    return {'kind': kind, 'data': name, 'rope': rope, 'alpha': alpha,
            'p_lower': num(lower.pvalue), 'p_upper': num(upper.pvalue), 'p': num(max(lower.pvalue, upper.pvalue)),
            'diff': num(diff), 'ci': t_ci(diff, se, df, 1 - 2 * alpha)}


def friedman_entry(better, table):
    t = f64(table)
    n, k = t.shape
    res = stats.friedmanchisquare(*[t[:, j] for j in range(k)])
    ranks = np.array([stats.rankdata(row if better == 'lower' else -row) for row in t])
    chi2 = float(res.statistic)
    room = n * (k - 1) - chi2
    ff = math.inf if room <= 1e-12 * n * (k - 1) else (n - 1) * chi2 / room
    ff_p = 0.0 if math.isinf(ff) else stats.f.sf(ff, k - 1, (k - 1) * (n - 1))
    return {'better': better, 'table': t.tolist(), 'avg_ranks': [num(x) for x in ranks.mean(axis=0)],
            'chi2': num(chi2), 'p': num(res.pvalue), 'ff': num(ff), 'ff_df': [k - 1, (k - 1) * (n - 1)], 'ff_p': num(ff_p)}


def nct_tail_by_quad(t, df, nc, upper):
    """P(T <= t) (or P(T > t)) of the noncentral t as E[Phi(+-(t S - nc))] over S = sqrt(chi2_df / df),
    integrated by quad in log scale around the integrand's peak."""
    sign = -1 if upper else 1

    def log_f(s):
        return special.log_ndtr(sign * (t * s - nc)) + stats.chi.logpdf(s * math.sqrt(df), df) + 0.5 * math.log(df)

    peak = optimize.minimize_scalar(lambda s: -log_f(s), bounds=(1e-9, 10), method='bounded', options={'xatol': 1e-12}).x
    top = log_f(peak)
    width = 20 / math.sqrt(2 * df)  # the density of S alone is narrower than this; the product more so
    value, _ = integrate.quad(lambda s: math.exp(log_f(s) - top) if s > 0 else 0.0, max(0.0, peak - width), peak + width,
                              points=[peak], epsabs=0, epsrel=1e-13, limit=500)
    return value * math.exp(top)


def nct_entry(t, df, nc):
    entry = {'t': t, 'df': df, 'nc': nc, 'cdf': num(stats.nct.cdf(t, df, nc)), 'sf': num(stats.nct.sf(t, df, nc))}
    # nct.cdf/sf are accurate in absolute terms only far in the tails (1e-16 where the value is
    # 1e-23, NaN at t = -4, nc = 6 for df = 38 and 2000): there the same probability is also
    # integrated by quad, to check relative accuracy
    for key, upper in (('cdf', False), ('sf', True)):
        if entry[key] == 'NaN' or entry[key] < 1e-6:
            entry[key + '_by_quad'] = num(nct_tail_by_quad(t, df, nc, upper))
    return entry


def power(d, n, paired, alpha):
    """statsmodels' two-sided t-test power: P(T > c) + P(T < -c), T noncentral t."""
    df = n - 1 if paired else 2 * n - 2
    nc = d * math.sqrt(n if paired else n / 2)
    c = stats.t.isf(alpha / 2, df)
    return stats.nct.sf(c, df, nc) + stats.nct.cdf(-c, df, nc)


def repeats_needed(diff, sd, paired, alpha, target):
    d = abs(diff) / sd
    lo, hi = 1, 2  # power(lo) < target unless lo == 1
    while power(d, hi, paired, alpha) < target:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if power(d, mid, paired, alpha) >= target:
            hi = mid
        else:
            lo = mid
    # the search assumes the power grows with n: check around the answer
    assert hi == 2 or power(d, hi - 1, paired, alpha) < target <= power(d, hi, paired, alpha)
    return hi


def main():
    ref = {
        'generated_by': 'scripts/stats-reference.py',
        'scipy': scipy.__version__,
        'numpy': np.__version__,
        'paired': {name: paired_entry(*ab) for name, ab in PAIRED.items()},
        'paired_degenerate': {},
        'independent': {name: independent_entry(*ab) for name, ab in INDEPENDENT.items()},
        'tost': [tost_entry(*case) for case in TOST],
        'friedman': {name: friedman_entry(*bt) for name, bt in FRIEDMAN.items()},
        'nemenyi_q': [{'k': k, 'alpha': alpha, 'q': num(stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2))}
                      for alpha in NEMENYI_ALPHAS for k in NEMENYI_KS],
        'nemenyi_cd': [{'k': k, 'n': n, 'alpha': alpha,
                        'cd': num(stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2) * math.sqrt(k * (k + 1) / (6 * n)))}
                       for k, n, alpha in CD_CASES],
        'studentized_range_cdf': [{'q': q, 'k': k, 'cdf': num(stats.studentized_range.cdf(q, k, np.inf))} for q, k in RANGE_CDF],
        'nct': [nct_entry(t, df, nc) for df in NCT_DF for nc in NCT_NC for t in NCT_T],
        'power': [],
    }
    for name, (a, b) in PAIRED_DEGENERATE.items():
        a, b = f64(a), f64(b)
        with np.errstate(all='ignore'), warnings.catch_warnings():
            warnings.simplefilter('ignore')
            tr = stats.ttest_rel(a, b)
            w = stats.wilcoxon(a, b) if len(a) > 1 else None
        ref['paired_degenerate'][name] = {
            'a': a.tolist(), 'b': b.tolist(),
            'ttest_rel': {'t': num(tr.statistic), 'p': num(tr.pvalue)},
            'wilcoxon': None if w is None else {'statistic': num(w.statistic), 'p': num(w.pvalue)},
        }
    for diff, sd, paired, alpha, target in POWER:
        n = repeats_needed(diff, sd, paired, alpha, target)
        ref['power'].append({'diff': diff, 'sd': sd, 'paired': paired, 'alpha': alpha, 'power': target, 'n': n,
                             'power_at_n': num(power(abs(diff) / sd, n, paired, alpha)),
                             'power_at_n_minus_1': None if n == 2 else num(power(abs(diff) / sd, n - 1, paired, alpha))})
    check(ref)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w', encoding='utf-8') as f:
        f.write(dump(ref) + '\n')
    print(f'wrote {os.path.relpath(OUT)} with SciPy {scipy.__version__}')


def dump(x, indent=''):
    """JSON, indented, with lists of numbers on one line (a data set, a row of a table)."""
    inner = indent + '  '
    if isinstance(x, dict):
        if not x:
            return '{}'
        items = [f'{inner}{json.dumps(k)}: {dump(v, inner)}' for k, v in x.items()]
        return '{\n' + ',\n'.join(items) + '\n' + indent + '}'
    if isinstance(x, list):
        if all(not isinstance(v, (dict, list)) for v in x):
            return '[' + ', '.join(json.dumps(v, allow_nan=False) for v in x) + ']'
        return '[\n' + ',\n'.join(inner + dump(v, inner) for v in x) + '\n' + indent + ']'
    return json.dumps(x, allow_nan=False)


def check(ref):
    """The data sets are what their names say."""
    p = ref['paired']
    for name, entry in p.items():
        method = entry['wilcoxon']['auto_method']
        expected = name.split('_')[0]
        expected = {'exact': 'exact', 'permutation': 'permutation', 'approx': 'asymptotic'}.get(expected)
        if expected:
            assert method == expected, (name, method)
    assert p['approx_zeros_n55']['wilcoxon']['zeros'] == 10 and p['approx_zeros_ties_n25']['wilcoxon']['zeros'] == 3
    assert p['permutation_zeros_n12']['wilcoxon']['zeros'] == 2 and p['permutation_zero_n13']['wilcoxon']['zeros'] == 1
    ind = ref['independent']
    assert ind['no_ties_10_10']['mannwhitneyu']['auto_method'] == 'asymptotic' and not ind['no_ties_10_10']['mannwhitneyu']['ties']
    assert ind['no_ties_5_40']['mannwhitneyu']['auto_method'] == 'exact' and not ind['no_ties_5_40']['mannwhitneyu']['ties']
    assert ind['ties_12_15']['mannwhitneyu']['ties'] and ind['ties_30_35']['mannwhitneyu']['ties']


if __name__ == '__main__':
    main()
