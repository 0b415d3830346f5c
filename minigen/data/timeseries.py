"""Generated multichannel time series with labelled anomalies (the zoo's F4 anomaly fixture).  Nothing is
downloaded; the same seed gives the same series on every machine.

    ts = anomaly_series(seed=0)
    ts.train            # (4000, 5) float32: clean, for training (and calibrating a threshold)
    ts.test             # (4000, 5) float32: the continuation of the same process, with anomalies
    ts.labels           # (4000,) int64: 1 inside an anomalous segment
    ts.events           # [(start, end, kind, channel), ...] end exclusive; kind in KINDS
    ts.train_labels     # (4000,) int64, ts.train_events: the same for the training segment (none by default)

The process: three latent sinusoids s_k(t) = sin(2 pi t / P_k + phi_k) with periods P_k drawn from
[15, 70] steps; each channel is a fixed random mixture of them plus white noise,

    x_c(t) = sum_k A_ck s_k(t) + sigma eps_c(t),       A_ck ~ +-U(0.3, 1),  sigma = ``noise``

so the channels are correlated and every window carries the same three phases.  The test segment
continues the time axis and then receives ``n_events`` non-overlapping anomalies, each in one channel,
cycling through the kinds:

    "spike"      1-3 steps offset by +-(3-4) x the channel's std
    "level"      a 30-60 step segment shifted by +-(0.8-1.2) x the channel's std
    "frequency"  a 40-80 step segment where the channel's mixture uses periods P_k / 2.5 (faster)
    "amplitude"  a 30-60 step segment where the channel's signal (not its noise) is scaled by 1.8

The anomalies are subtle on purpose: none leaves the range of normal values by much, so a detector that
only looks at magnitudes (an untrained model) finds few of them; the cross-channel and temporal structure
gives them away.

Events are at least ``gap`` steps apart and away from the segment's ends.

``train_events`` > 0 *contaminates* the training segment with that many unlabelled-to-the-model anomalies of
the same kinds (as real training data is; CNTS's detector exists to find them), drawn from a separate
stream ``default_rng([seed, 8])`` after the test segment's, so the default series (``train_events=0``),
on which M3GAN's results rest, is bit for bit what it always was.  Their size is measured against the
clean training segment's std, like the test anomalies'.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ANOMALY_KINDS", "AnomalySeries", "anomaly_series"]

ANOMALY_KINDS = ("spike", "level", "frequency", "amplitude")


@dataclass(repr=False)
class AnomalySeries:
    name: str
    train: np.ndarray
    test: np.ndarray
    labels: np.ndarray
    events: list = field(default_factory=list)
    periods: tuple = ()
    train_labels: np.ndarray | None = None
    train_events: list = field(default_factory=list)

    @property
    def n_channels(self) -> int:
        return self.train.shape[1]


def _signal(t, A, periods, phases, speed=1.0):
    s = np.sin(2 * np.pi * t[:, None] * speed / np.asarray(periods)[None, :] + np.asarray(phases)[None, :])
    return s @ A.T                                     # (T, C)


def anomaly_series(n_train: int = 4000, n_test: int = 4000, n_channels: int = 5, n_events: int = 16,
                   noise: float = 0.1, gap: int = 120, seed: int = 0, train_events: int = 0) -> AnomalySeries:
    """The F4 anomaly fixture (see the module doc)."""
    g = np.random.default_rng([seed, 7])
    periods = tuple(float(p) for p in g.uniform(15, 70, size=3))
    phases = g.uniform(0, 2 * np.pi, size=3)
    A = g.uniform(0.3, 1.0, size=(n_channels, 3)) * g.choice([-1.0, 1.0], size=(n_channels, 3))
    t = np.arange(n_train + n_test, dtype=np.float64)
    clean = _signal(t, A, periods, phases)
    x = clean + noise * g.normal(size=clean.shape)
    train, test = x[:n_train].copy(), x[n_train:].copy()
    test_clean = clean[n_train:]
    std = train.std(0)
    labels, events = _inject(test, test_clean, t[n_train:], std, n_events, gap, g, A, periods, phases)
    train_labels, train_event_list = np.zeros(n_train, dtype=np.int64), []
    if train_events:
        # a separate stream: the default series (train_events=0) draws exactly what it always drew
        train_labels, train_event_list = _inject(train, clean[:n_train], t[:n_train], std, train_events, gap,
                                                 np.random.default_rng([seed, 8]), A, periods, phases)
    return AnomalySeries("anomaly_series", train.astype(np.float32), test.astype(np.float32), labels, events,
                         periods, train_labels, train_event_list)


def _inject(x, x_clean, t, std, n_events, gap, g, A, periods, phases):
    """Add ``n_events`` anomalies to the segment ``x`` (in place; ``x_clean`` its noiseless signal, ``t`` its
    time axis) with draws from ``g``; returns (labels, events)."""
    n = x.shape[0]
    labels = np.zeros(n, dtype=np.int64)
    events = []
    pos = gap
    slot = (n - 2 * gap) // n_events
    for i in range(n_events):
        kind = ANOMALY_KINDS[i % len(ANOMALY_KINDS)]
        ch = int(g.integers(0, x.shape[1]))
        length = {"spike": int(g.integers(1, 4)), "level": int(g.integers(30, 61)),
                  "frequency": int(g.integers(40, 81)), "amplitude": int(g.integers(30, 61))}[kind]
        start = pos + int(g.integers(0, max(1, slot - length - gap // 2)))
        end = min(start + length, n - gap // 2)
        sign = g.choice([-1.0, 1.0])
        if kind == "spike":
            x[start:end, ch] += sign * g.uniform(3, 4) * std[ch]
        elif kind == "level":
            x[start:end, ch] += sign * g.uniform(0.8, 1.2) * std[ch]
        elif kind == "frequency":
            fast = _signal(t[start:end], A[ch:ch + 1], periods, phases, speed=2.5)[:, 0]
            x[start:end, ch] += fast - x_clean[start:end, ch]
        else:
            x[start:end, ch] += 0.8 * x_clean[start:end, ch]
        labels[start:end] = 1
        events.append((start, end, kind, ch))
        pos += slot
    return labels, events
