"""Pearson's chi-square test of sampled frequencies against a distribution, for the samplers'
tests (n-gram models, mixtures)."""
import math

import numpy as np


def chi_square_critical(df: int, z: float = 3.719) -> float:
    """Wilson–Hilferty: the chi-square quantile at the normal quantile z (3.719: p = 1e-4)."""
    c = 2.0 / (9.0 * df)
    return df * (1.0 - c + z * math.sqrt(c)) ** 3


def chi_square(observed: np.ndarray, expected: np.ndarray) -> tuple[float, int]:
    """Pearson's statistic, cells with expected < 5 pooled into one."""
    small = expected < 5
    obs = np.append(observed[~small], observed[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    return float(((obs - exp) ** 2 / exp).sum()), len(exp) - 1
