"""What variable pay costs: the payout curve, attainment spreads and the payout simulation.

A person's payout on a KPI is a factor of their variable pay at target, read off the payout
curve at their attainment (actual / target): nothing below `payout.threshold`, the attainment
itself up to 100%, `1 + accelerator x (attainment - 1)` above it, and no more than at
`payout.cap`. Attainment is drawn from the distribution the scenario sets
(`motivation.attainment`, or a KPI's own `attainment`). The expected payout factor of a KPI is
computed exactly (numerical integration), so the motivation model can price weights linearly;
the simulation draws people to show how far above that the year may land (the 90th percentile).
"""

from __future__ import annotations

import itertools
import math
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optim.schema import Attainment, Motivation, Payout

# Normal attainment is integrated over mean +- this many standard deviations (the rest of the
# probability is below 1e-30).
_NORMAL_REACH_SD = 12.0
# Integration pieces are at most this share of a standard deviation wide, with Gauss-Legendre
# nodes in each: exact for the piecewise-linear payout, to ~1e-12 for smooth densities.
_PIECE_SD = 0.25
_NODES = 16
# Draws held in memory at once in the simulation (people x samples), to bound memory.
_DRAWS_PER_CHUNK = 2_000_000


@dataclass(frozen=True)
class AttainmentLaw:
    """The distribution of one KPI's attainment, by its mean and standard deviation.

    `uniform` and `triangular` are symmetric around the mean (half-widths sd x sqrt 3 and
    sd x sqrt 6); `lognormal` has the given mean and sd of attainment itself (not of its log).
    """

    distribution: str
    mean: float
    sd: float

    def support(self) -> tuple[float, float]:
        """Where the density lives (or where all but a negligible share of it does)."""
        if self.distribution == "uniform":
            half = self.sd * math.sqrt(3.0)
            return self.mean - half, self.mean + half
        if self.distribution == "triangular":
            half = self.sd * math.sqrt(6.0)
            return self.mean - half, self.mean + half
        if self.distribution == "lognormal":
            mu, sigma = self.log_parameters()
            reach = _NORMAL_REACH_SD * sigma
            return math.exp(mu - reach), math.exp(mu + reach)
        return self.mean - _NORMAL_REACH_SD * self.sd, self.mean + _NORMAL_REACH_SD * self.sd

    def kinks(self) -> tuple[float, ...]:
        """Points where the density is not smooth (integration pieces start there)."""
        low, high = self.support()
        if self.distribution == "triangular":
            return (low, self.mean, high)
        return (low, high)

    def log_parameters(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2.0, math.sqrt(sigma2)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        low, high = self.support()
        if self.distribution == "uniform":
            return np.where((x >= low) & (x <= high), 1.0 / (high - low), 0.0)
        if self.distribution == "triangular":
            half = high - self.mean
            return np.clip(1.0 - np.abs(x - self.mean) / half, 0.0, None) / half
        if self.distribution == "lognormal":
            mu, sigma = self.log_parameters()
            positive = np.maximum(x, 1e-300)
            z = (np.log(positive) - mu) / sigma
            density = np.exp(-0.5 * z * z) / (positive * sigma * math.sqrt(2.0 * math.pi))
            return np.where(x > 0, density, 0.0)
        z = (x - self.mean) / self.sd
        return np.exp(-0.5 * z * z) / (self.sd * math.sqrt(2.0 * math.pi))

    def cdf(self, x: float) -> float:
        low, high = self.support()
        if x <= low and self.distribution != "normal":
            return 0.0
        if x >= high and self.distribution != "normal":
            return 1.0
        if self.distribution == "uniform":
            return (x - low) / (high - low)
        if self.distribution == "triangular":
            half = high - self.mean
            if x <= self.mean:
                return 0.5 * ((x - low) / half) ** 2
            return 1.0 - 0.5 * ((high - x) / half) ** 2
        if self.distribution == "lognormal":
            mu, sigma = self.log_parameters()
            return 0.5 * (1.0 + math.erf((math.log(x) - mu) / (sigma * math.sqrt(2.0))))
        return 0.5 * (1.0 + math.erf((x - self.mean) / (self.sd * math.sqrt(2.0))))

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        if self.sd == 0:
            return np.full(shape, self.mean)
        low, high = self.support()
        if self.distribution == "uniform":
            return rng.uniform(low, high, shape)
        if self.distribution == "triangular":
            return rng.triangular(low, self.mean, high, shape)
        if self.distribution == "lognormal":
            mu, sigma = self.log_parameters()
            return rng.lognormal(mu, sigma, shape)
        return rng.normal(self.mean, self.sd, shape)


def attainment_law(motivation: Motivation, kpi: str) -> AttainmentLaw:
    """The KPI's attainment distribution: its own keys, the rest from `motivation.attainment`."""
    base: Attainment = motivation.attainment
    own = motivation.kpis[kpi].attainment if kpi in motivation.kpis else None
    return AttainmentLaw(
        distribution=(own.distribution if own and own.distribution else base.distribution),
        mean=own.mean if own and own.mean is not None else base.mean,
        sd=own.sd if own and own.sd is not None else base.sd,
    )


def payout_factor(attainment: np.ndarray, payout: Payout) -> np.ndarray:
    """Share of the variable pay at target paid at each attainment (the payout curve)."""
    capped = np.minimum(attainment, payout.cap)
    curve = np.where(capped <= 1.0, capped, 1.0 + payout.accelerator * (capped - 1.0))
    return np.where(attainment < payout.threshold, 0.0, curve)


def expected_payout_factor(law: AttainmentLaw, payout: Payout) -> float:
    """E[payout factor] under the law: the integral of the curve over [threshold, cap] against
    the density, plus the capped payout times the chance of reaching the cap."""
    cap_value = float(payout_factor(np.array([payout.cap]), payout)[0])
    if law.sd == 0:
        return float(payout_factor(np.array([law.mean]), payout)[0])
    above_cap = 1.0 - law.cdf(payout.cap)
    low, high = law.support()
    start, stop = max(payout.threshold, low), min(payout.cap, high)
    if stop <= start:
        return cap_value * above_cap
    cuts = {start, stop, *(k for k in (*law.kinks(), 1.0) if start < k < stop)}
    edges = sorted(cuts)
    pieces = []
    for left, right in itertools.pairwise(edges):
        if law.distribution == "lognormal":  # smooth in log(attainment): pieces even there
            sigma = law.log_parameters()[1]
            count = max(1, math.ceil(math.log(right / left) / (_PIECE_SD * sigma)))
            pieces.append(np.geomspace(left, right, count + 1))
        else:
            count = max(1, math.ceil((right - left) / (_PIECE_SD * law.sd)))
            pieces.append(np.linspace(left, right, count + 1))
    bounds = np.unique(np.concatenate(pieces))
    nodes, node_weights = np.polynomial.legendre.leggauss(_NODES)
    lows, highs = bounds[:-1, None], bounds[1:, None]
    x = (lows + highs) / 2.0 + (highs - lows) / 2.0 * nodes[None, :]
    integrand = payout_factor(x, payout) * law.pdf(x)
    inside = float(((highs - lows) / 2.0 * integrand * node_weights[None, :]).sum())
    return inside + cap_value * above_cap


def simulate_role_cost(
    weights: dict[str, float],
    laws: dict[str, AttainmentLaw],
    payout: Payout,
    *,
    people: int,
    target_variable_pay: float,
    samples: int,
    seed: int,
    role: str,
) -> np.ndarray:
    """`samples` draws of a role's variable pay for the year.

    Each of the role's `people` carries an equal share of its variable pay at target and
    draws its own attainment on every KPI, independently of the others; the role's cost is the
    sum over its people. The random stream depends only on the seed and the role's name, so a
    role's figures do not change when other roles are added.
    """
    totals = np.zeros(samples)
    if people <= 0 or not weights:
        return totals
    rng = np.random.default_rng([seed, zlib.crc32(role.encode())])
    per_person = target_variable_pay / people
    chunk = max(1, _DRAWS_PER_CHUNK // people)
    for begin in range(0, samples, chunk):
        size = min(chunk, samples - begin)
        paid = np.zeros(size)
        for kpi in sorted(weights):
            draws = laws[kpi].sample(rng, (size, people))
            paid += weights[kpi] * payout_factor(draws, payout).sum(axis=1)
        totals[begin : begin + size] = per_person * paid
    return totals


def kpi_payout_table(motivation: Motivation) -> pd.DataFrame:
    """Per KPI: its attainment spread and what it pays, as shares of the pay at target."""
    payout = motivation.payout
    rows = []
    for kpi in motivation.kpis:
        law = attainment_law(motivation, kpi)
        below = law.cdf(payout.threshold) if law.sd > 0 else float(law.mean < payout.threshold)
        at_cap = 1.0 - law.cdf(payout.cap) if law.sd > 0 else float(law.mean > payout.cap)
        rows.append(
            {
                "kpi": kpi,
                "distribution": law.distribution,
                "attainment_mean": law.mean,
                "attainment_sd": law.sd,
                "probability_below_threshold": below,
                "probability_at_cap": at_cap,
                "expected_payout_factor": expected_payout_factor(law, payout),
            }
        )
    columns = [
        "kpi", "distribution", "attainment_mean", "attainment_sd", "probability_below_threshold",
        "probability_at_cap", "expected_payout_factor",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
