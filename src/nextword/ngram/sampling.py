"""Sampling an n-gram model many sentences at a time: pick the backoff level, then a word.

A backoff model's distribution after a history h (contexts h_{n-1} ⊃ ... ⊃ h_1 ⊃ h_0 = ()) is a
mixture over the levels j = n-1 .. 0, where E_j is the set of words stored after h_j::

    P(w | h) = bo(h_{n-1}) ··· bo(h_{j+1}) · p(h_j, w)      for w in E_j but not in E_{j+1}

Every suffix of a stored n-gram is stored, so E_{j+1} ⊆ E_j, and the mass of level j is

    M_j = bo(h_{n-1}) ··· bo(h_{j+1}) · (S_j(h_j) − X_j(h_{j+1}))
    S_j(c) = sum of p(c, w) over the words w stored after c               (explicit mass)
    X_j(c') = sum of p(suffix(c'), w) over the words w stored after c'    (what level j+1 took)

both precomputed once per table with np.bincount. A draw picks level j with probability
∝ M_j, then a word of E_j with probability ∝ p(h_j, w) by inverse CDF over the contiguous rows
of h_j's children, redrawing (rarely) a word that level j+1 already covers. Temperature T
raises every p and bo to 1/T, so the same decomposition holds with p^(1/T) and bo^(1/T).
Add-δ's "uniform" fallback is two levels: the stored words of the longest seen context, and
the rest of the vocabulary, each with bo(h) / |V|.

Top-k reads the levels too (`_top_k`): the k most probable words are among the first words of
each level in decreasing order of p, the children of h_j sorted once per context, so a history
reads about k words of each level, not the vocabulary; the draw is then among those k (with
top-p among them if asked), for k up to |V| / TOP_K_SHARE. The whole distribution serves the
rest: a larger k, top-p alone, add-δ's uniform fallback with top-k or top-p, the rare draws
whose redraws keep failing, and models where a suffix is missing (a pruned ARPA file) without
top-k. It is computed once per distinct history of the batch (`NgramModel.distributions`,
(B, V), from the children of each history's stored contexts; then `sampling_distributions`).

Random numbers are a hash of (seed, sentence number, step, draw), not a stream: sentence i is
the same text whatever the batch size or how many sentences come before it in a batch.
"""
from __future__ import annotations

import math
from typing import Iterator

import numpy as np

from nextword.generate import (BATCH_SENTENCES, SamplingConfig, sampling_distributions, seed_key,  # noqa: F401
                               uniforms)
from nextword.ngram.counts import NO_HISTORY, ragged_ranges, sorted_search
from nextword.text.vocabulary import BOS_ID, EOS_ID

REDRAWS = 3                 # rejection rounds; then an exact search of the level's own words
FULL_BATCH_CELLS = 1 << 22  # (B, V) cells of one full-distribution batch
CANCELLATION = 1e-9         # S_j − X_j below this share of S_j: too few digits left to trust
SCAN = 8                    # contexts with at most this many children: their CDF is counted
TOP_K_SHARE = 16            # top-k by levels for k <= V / this, else the whole distribution
TOP_K_HISTORIES = 4096      # histories whose k best words are found together
TOP_K_CELLS = 1 << 21       # cells of one padded matrix of their candidates (_best)
SUFFIX_CHECK_AFTER = 50_000  # histories read by levels before the suffixes are checked
MARGIN = 1e-9               # level 0 is read this far (relatively) below the k-th value: rounding
LOOKAHEAD = 4               # batches of sentences started past the first one not yet finished


# ---- the sampler ---------------------------------------------------------------------------
class NgramSampler:
    """Draw tokens for many histories at once from `model` under `config` (see module doc)."""

    def __init__(self, model, config: SamplingConfig = SamplingConfig()):
        self.model, self.config = model, config
        self.n, self.V = model.order, model.vocab_size
        t = model.tables
        self.uniform = t.fallback != "backoff"
        self.top_k = config.top_k if config.top_k is not None and config.top_k < self.V else None
        # top-k under the backoff rule: the k best words read level by level (_top_k), while k
        # is a small share of the vocabulary (at k = V/10 the whole distribution was faster)
        self.top_k_levels = (self.top_k is not None and not self.uniform
                             and self.top_k * TOP_K_SHARE <= self.V)
        top_p = config.top_p is not None and config.top_p < 1
        self.full = not self.top_k_levels and (self.top_k is not None or top_p)
        if not self.full and not self.top_k_levels and not self.uniform and self.n > 1:
            suffix = model.suffix_rows()
            self.full = not _suffixes_stored(suffix)
        if self.top_k_levels:
            self._rank_tables()
        if self.full or self.top_k_levels:
            return
        T = config.temperature
        n, V = self.n, self.V
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # weight[k][row] = p^(1/T) of table k's entries; cum[k] its running sum from 0
            self.weight = [None] + [np.nan_to_num(np.exp(np.asarray(t.logprob[k], np.float64) / T))
                                    for k in range(1, n + 1)]
        self.weight[1][BOS_ID] = 0.0
        self.cum = [None] + [_running_sum(w) for w in self.weight[1:]]
        self.end, self.explicit, self.shadow_cum, self.children = ([None] * n for _ in range(4))
        shadow_mass = [None] * n            # X_j per context: for the level tables only
        for j in range(1, n):               # contexts of length j: rows of table j
            size = V if j == 1 else len(model.keys[j])
            parents = model.keys[j + 1] // V
            count = np.bincount(parents, minlength=size)
            # children: rows end - count .. end - 1 of table j+1 (the first row is not kept: 8
            # bytes a context; the counts, at most |V|, in 32 bits: 4 more)
            self.end[j] = np.cumsum(count)
            self.children[j] = count.astype(np.int32)
            del count
            self.explicit[j] = _absent_rows(
                np.bincount(parents, weights=self.weight[j + 1], minlength=size), 0.0)
            if not self.uniform:
                shadow = self.weight[j][suffix[j + 1]]
                shadow_mass[j] = np.bincount(parents, weights=shadow, minlength=size)
                self.shadow_cum[j] = _running_sum(shadow)
                del shadow
        self.explicit0 = float(self.weight[1].sum())
        self.stored0 = int(np.count_nonzero(np.asarray(t.logprob[1]) > -np.inf))   # all but <s>
        if not self.uniform and n > 1:
            self._level_tables(suffix, shadow_mass)

    def _level_tables(self, suffix: list, shadow_mass: list) -> None:
        """Per stored context c = h_{j+1} (a row of table j+1), what level j keeps after it:
        net[j+1][c] = S_j(suffix(c)) − X_j(c), 0 when c's children are all of its suffix's
        (E_{j+1} = E_j), and unsure[j+1][c] when that difference lost its digits (see
        _backoff_levels). A history whose h_{j+1} is not stored keeps all of S_j(h_j), unsure
        only if those words' weights all underflowed (lost[j][h_j]). Like `explicit` and
        `log_bo`, each ends with the entries that the rows NO_HISTORY and NOT_FOUND read."""
        n, t = self.n, self.model.tables
        self.net, self.unsure, self.lost = ([None] * n for _ in range(3))
        # ln bo(h_j) by row: 0 before <s>, the unseen-context value where h_j is not stored
        self.log_bo = [None] + [_absent_rows(np.asarray(t.logbackoff[j], np.float64), 0.0,
                                             t.unseen_context_logbackoff) for j in range(1, n)]
        for j in range(0, n - 1):
            if j == 0:
                lower, here = self.explicit0, self.stored0
            else:
                lower, here = self.explicit[j][suffix[j + 1]], self.children[j][suffix[j + 1]]
            above, shadow = self.children[j + 1], shadow_mass[j + 1]
            net = np.where(above == here, 0.0, lower - shadow)
            self.net[j + 1] = _absent_rows(net, 0.0)
            self.unsure[j + 1] = _absent_rows(
                (above != here) & (net <= CANCELLATION * (net + shadow)), False)
            if j:
                self.lost[j] = _absent_rows(
                    (self.children[j] > 0) & (self.explicit[j][:-2] <= 0), False)

    # ---- states --------------------------------------------------------------------------
    def start(self, size: int) -> list:
        return start_contexts(self.n, size)

    def advance(self, contexts: list, words: np.ndarray) -> list:
        return advance_contexts(self.model, contexts, words)

    # ---- one token per history -----------------------------------------------------------
    def draw(self, contexts: list, key, sentence: np.ndarray, step: np.ndarray) -> np.ndarray:
        """One token for each history (rows of `contexts`), sentence/step numbering the draws."""
        if self.full:
            return self._draw_full(contexts, key, sentence, step, np.arange(len(sentence)))
        if self.top_k_levels:
            return self._draw_top_k(contexts, key, sentence, step)
        if self.n == 1:
            levels = np.zeros((len(sentence), 1))
            levels[:, 0] = self.explicit0
            return self._draw_levels(contexts, key, sentence, step, levels, self._backoff_word,
                                     lambda rows, level, ids: np.ones(ids.shape, dtype=bool))
        if self.uniform:
            return self._draw_uniform(contexts, key, sentence, step)
        return self._draw_levels(contexts, key, sentence, step, self._backoff_levels(contexts),
                                 self._backoff_word, self._in_backoff_level(contexts),
                                 self._backoff_word_by_search)

    def _backoff_levels(self, contexts: list) -> np.ndarray:
        """M_j for every history, columns j = n-1 .. 0 (top level first); and which histories
        are unsure: S_j − X_j lost its digits to cancellation (level j+1 took nearly all of
        level j's words), so that a large bo^(1/T) would magnify rounding into mass; those
        get no levels (all zero), hence the exact draw. Per level, one gather of the
        precomputed tables (_level_tables) for the stored h_{j+1}, S_j(h_j) for the rest; a
        row NOT_FOUND or NO_HISTORY reads the entries past each table's end."""
        n, T = self.n, self.config.temperature
        size = len(contexts[1])
        levels = np.empty((size, n))
        scale = np.empty((size, n))              # ln bo(h_{n-1}) + ... + ln bo(h_{j+1}), / T
        unsure = np.zeros(size, dtype=bool)
        log_bo = np.zeros(size)                  # ln bo(h_{n-1}) + ... + ln bo(h_{j+1})
        for j in range(n - 1, -1, -1):
            c = contexts[j]
            lower = self.explicit[j].take(c) if j else np.full(size, self.explicit0)
            if j == n - 1:
                mass = lower
            else:
                above = contexts[j + 1]
                stored = above >= 0
                mass = np.where(stored, self.net[j + 1].take(above), lower)
                unsure |= np.where(stored, self.unsure[j + 1].take(above),
                                   self.lost[j].take(c) if j else self.explicit0 <= 0)
            scale[:, n - 1 - j] = log_bo / T
            levels[:, n - 1 - j] = np.maximum(mass, 0.0)
            if j > 0:
                log_bo += self.log_bo[j].take(c)
        with np.errstate(over="ignore", invalid="ignore"):
            weighted = np.exp(scale) * levels
        # bo^(1/T) past the float range (a model with bo > 1, Katz's, at a low T: e^(27/0.03)):
        # those rows in logs, relative to their largest level (a draw reads only the ratios)
        overflow = np.flatnonzero(~np.isfinite(weighted).all(axis=1))
        if len(overflow):
            with np.errstate(divide="ignore", invalid="ignore"):
                logs = np.log(levels[overflow]) + scale[overflow]
                logs -= logs.max(axis=1, keepdims=True)
            weighted[overflow] = np.nan_to_num(np.exp(logs), nan=0.0)
        weighted[unsure] = 0.0
        return weighted

    def _draw_levels(self, contexts, key, sentence, step, levels, draw_word, in_level,
                     finish=None) -> np.ndarray:
        """Pick a level ∝ its mass, then a word in it, redrawing rejected words."""
        total = levels.sum(axis=1)
        target = uniforms(key, sentence, step, 0) * total
        level = (np.cumsum(levels, axis=1) <= target[:, None]).sum(axis=1)
        level = np.minimum(level, levels.shape[1] - 1)
        words = np.full(len(sentence), -1, dtype=np.int64)
        pending = np.flatnonzero(total > 0)
        for attempt in range(1, REDRAWS + 1):
            if not len(pending):
                break
            u = uniforms(key, sentence[pending], step[pending], attempt)
            got = draw_word(contexts, pending, level[pending], u)
            words[pending] = got
            pending = pending[got < 0]
        if finish is not None and len(pending):
            u = uniforms(key, sentence[pending], step[pending], REDRAWS + 1)
            words[pending] = finish(contexts, pending, level[pending], u)
        left = np.flatnonzero((words < 0) & (total > 0))
        if len(left):       # still rejected: the exact draw, kept to the level already chosen
            words[left] = self._draw_full(contexts, key, sentence, step, left, in_level, level)
        left = np.flatnonzero(~(total > 0))     # NaN too: never a word left at -1
        if len(left):       # no level to trust or all underflowed (tiny T): the exact draw
            words[left] = self._draw_full(contexts, key, sentence, step, left)
        return words

    def _explicit_word(self, j: int, context_rows: np.ndarray, u: np.ndarray):
        """A word stored after each j-word context ∝ p^(1/T) (inverse CDF over its children);
        the row drawn in table j+1 too. j = 0: the unigram table."""
        if j == 0:
            cum, lo, hi = self.cum[1], np.zeros(len(u), dtype=np.int64), np.full(len(u), self.V)
        else:
            cum, hi = self.cum[j + 1], self.end[j][context_rows]
            lo = hi - self.children[j][context_rows]
        target = cum[lo] + u * (cum[hi] - cum[lo])
        row = np.clip(_inverse_cdf(cum, target, lo, hi, j > 0), lo, np.maximum(hi - 1, lo))
        word = row if j == 0 else self.model.keys[j + 1][row] % self.V
        ok = (hi > lo) & (self.weight[j + 1][row] > 0)
        return word, ok

    def _backoff_word(self, contexts, rows, level, u) -> np.ndarray:
        """Word ids (-1: rejected) for `rows` at their levels (column index, top level first)."""
        n = self.n
        out = np.full(len(rows), -1, dtype=np.int64)
        for column in np.unique(level).tolist():
            j = n - 1 - column
            at = np.flatnonzero(level == column)
            r = rows[at]
            word, ok = self._explicit_word(j, contexts[j][r] if j else None, u[at])
            if j < n - 1:                      # level j+1 covers the words stored after h_{j+1}
                above = contexts[j + 1][r]
                ok &= ~((above >= 0) & (self.model.extend(j + 2, above, word) >= 0))
            out[at] = np.where(ok, word, -1)
        return out

    def _in_backoff_level(self, contexts):
        """mask(rows, columns, ids (B, V)): is each id a word of level j = n-1-column, stored
        after h_j (every id at j = 0) and not after h_{j+1}?"""
        n = self.n

        def stored_after(j, rows, ids):
            if j == 0:
                return np.ones(ids.shape, dtype=bool)
            c = np.repeat(contexts[j][rows], ids.shape[1])
            return (self.model.extend(j + 1, c, ids.ravel()) >= 0).reshape(ids.shape)

        def mask(rows, level, ids):
            out = np.zeros(ids.shape, dtype=bool)
            for column in np.unique(level).tolist():
                j = n - 1 - column
                at = level == column
                out[at] = stored_after(j, rows[at], ids[at])
                if j < n - 1:
                    out[at] &= ~stored_after(j + 1, rows[at], ids[at])
            return out
        return mask

    def _backoff_word_by_search(self, contexts, rows, level, u) -> np.ndarray:
        """Word ids for `rows` at their levels without rejection: inverse CDF over the words
        of E_j not in E_{j+1}. Children rows are sorted by word, so that CDF at a row r of
        h_j's children is  (cum_j(r) − cum_j(first)) − (shadow cum of h_{j+1}'s children with a
        word <= word(r)), monotone in r: a binary search, all rows in step. -1 where rounding
        left the answer in E_{j+1} (the caller then takes the exact full draw)."""
        n, V = self.n, self.V
        out = np.full(len(rows), -1, dtype=np.int64)
        for column in np.unique(level).tolist():
            j = n - 1 - column
            at = np.flatnonzero(level == column)
            r = rows[at]
            if j == n - 1:                    # top level: nothing to exclude, no rejection
                out[at] = self._explicit_word(j, contexts[j][r], u[at])[0]
                continue
            cum = self.cum[j + 1]
            if j == 0:
                lo, hi = np.zeros(len(r), dtype=np.int64), np.full(len(r), V)
            else:
                c = contexts[j][r]
                hi = self.end[j][c]
                lo = hi - self.children[j][c]
            above = contexts[j + 1][r]
            found = above >= 0
            safe = np.maximum(above, 0)
            s_lo = np.where(found, self.end[j + 1][safe] - self.children[j + 1][safe], 0)
            scum, keys = self.shadow_cum[j + 1], self.model.keys[j + 2]

            def mass_through(row):              # complement CDF up to and including `row`
                word = row if j == 0 else self.model.keys[j + 1][row] % V
                k = np.where(found, np.searchsorted(keys, safe * V + word, side="right"), s_lo)
                return (cum[row + 1] - cum[lo]) - (scum[k] - scum[s_lo])

            total = mass_through(np.maximum(hi - 1, lo))
            target = u[at] * total
            a, b = lo.copy(), np.maximum(hi - 1, lo)      # answer in [a, b]
            while True:
                open_ = a < b
                if not open_.any():
                    break
                mid = (a + b) // 2
                right = mass_through(mid) <= target      # the answer lies after mid
                a = np.where(open_ & right, mid + 1, a)
                b = np.where(open_ & ~right, mid, b)
            word = a if j == 0 else self.model.keys[j + 1][a] % V
            ok = (total > 0) & (self.weight[j + 1][a] > 0)
            ok &= ~(found & (self.model.extend(j + 2, above, word) >= 0))
            out[at] = np.where(ok, word, -1)
        return out

    def _draw_uniform(self, contexts, key, sentence, step) -> np.ndarray:
        """Add-δ style: the longest seen context h decides; its stored words ∝ p(h, w)^(1/T),
        every other word (not <s>) with (bo(h) / |V|)^(1/T)."""
        t, n, T = self.model.tables, self.n, self.config.temperature
        size = len(sentence)
        longest = np.zeros(size, dtype=np.int64)
        for j in range(1, n):
            c = contexts[j]
            seen = c >= 0
            seen[seen] = ~np.isnan(t.logbackoff[j][c[seen]])
            longest[seen] = j
        levels = np.zeros((size, 2))        # column 0: stored words, column 1: the rest
        levels[longest == 0, 0] = self.explicit0
        for j in range(1, n):
            at = np.flatnonzero(longest == j)
            c = contexts[j][at]
            levels[at, 0] = self.explicit[j][c]
            with np.errstate(divide="ignore"):
                share = np.exp((t.logbackoff[j][c] - math.log(self.model.vocab.num_outcomes)) / T)
            levels[at, 1] = share * (self.model.vocab.num_outcomes - self.children[j][c])

        def in_level(rows, level, ids):     # (B,) rows, their columns, (B, V) ids -> mask
            j = longest[rows][:, None]
            stored = np.zeros(ids.shape, dtype=bool)
            for depth in range(1, n):
                at = (j[:, 0] == depth)
                if at.any():
                    c = np.repeat(contexts[depth][rows[at]], ids.shape[1])
                    stored[at] = (self.model.extend(depth + 1, c, ids[at].ravel()) >= 0
                                  ).reshape(-1, ids.shape[1])
            stored[j[:, 0] == 0] = True
            return np.where(level[:, None] == 0, stored, ~stored)

        return self._draw_levels(contexts, key, sentence, step, levels,
                                 lambda c, rows, level, u: self._uniform_word(c, rows, level, u,
                                                                              longest[rows]),
                                 in_level)

    def _uniform_word(self, contexts, rows, level, u, longest) -> np.ndarray:
        out = np.full(len(rows), -1, dtype=np.int64)
        for j in np.unique(longest).tolist():
            at = np.flatnonzero(longest == j)
            c = contexts[j][rows[at]] if j else None
            stored = level[at] == 0
            word, ok = self._explicit_word(j, c, u[at])
            # the rest: any id but <s>, redrawn if it is stored after h
            other = np.minimum((u[at] * (self.V - 1)).astype(np.int64), self.V - 2)
            other += other >= BOS_ID
            if j:
                free = self.model.extend(j + 1, c, other) < 0
            else:
                free = np.zeros(len(at), dtype=bool)
            out[at] = np.where(stored, np.where(ok, word, -1), np.where(free, other, -1))
        return out

    def _draw_full(self, contexts, key, sentence, step, rows, within=None, level=None) -> np.ndarray:
        """Exact draws from the whole distribution over the vocabulary, computed once per
        distinct history (at a sentence start every row shares one) in batches of
        FULL_BATCH_CELLS cells; `within(rows, level, ids)` -> mask keeps the ids of a level
        already chosen."""
        V = self.V
        which, first = self._histories(contexts, rows, level)
        u = uniforms(key, sentence[rows], step[rows], REDRAWS + 1)
        out = np.empty(len(rows), dtype=np.int64)
        per = max(1, FULL_BATCH_CELLS // V)
        words = np.arange(V, dtype=np.int64)
        for at in range(0, len(first), per):
            r = first[at:at + per]
            b = len(r)
            logprobs = self.model.distributions(
                [None] + [contexts[j][r] for j in range(1, self.n)], b)
            logprobs[:, BOS_ID] = -np.inf
            probs = sampling_distributions(logprobs, self.config)
            if within is not None:
                probs = np.where(within(r, level[r], np.tile(words, (b, 1))), probs, 0.0)
            mine = np.flatnonzero((which >= at) & (which < at + b))     # rows of these histories
            out[mine] = _inverse_cdf_rows(probs, which[mine] - at, u[mine])
        return out

    def _histories(self, contexts, rows, level=None) -> tuple:
        """(which, first): the distinct histories of `rows` (their context rows, and the level
        if any), numbered 0.. in sorted order, and a row of `contexts` holding each."""
        which = np.zeros(len(rows), dtype=np.int64)
        for column in [contexts[j][rows] for j in range(1, self.n)] + (
                [level[rows]] if level is not None else []):
            shifted = column - column.min()
            _, which = np.unique(which * (int(shifted.max()) + 1) + shifted, return_inverse=True)
        first = np.zeros(int(which.max()) + 1 if len(rows) else 0, dtype=np.int64)
        first[which[::-1]] = rows[::-1]
        return which, first

    # ---- top-k, level by level -----------------------------------------------------------
    def _rank_tables(self) -> None:
        """The words of level 0 (all but <s>) by decreasing ln p(w), ties by id; and for each
        table k >= 2 an array of its rows in which a context's block of children, once
        `_ranked` has sorted it, lies by decreasing ln p(h, w) (ties by id). Blocks are sorted
        when a history first reads them, so that sampling a few sentences sorts a few blocks,
        not the tables (all of WikiText-2's 5-gram: ~1 s)."""
        lp1 = np.asarray(self.model.tables.logprob[1], np.float64)
        ranked = np.argsort(-lp1, kind="stable")
        self.ranked0 = ranked[ranked != BOS_ID]
        self.ranked0_logprob = lp1[self.ranked0]
        self.ranked0_negated = -self.ranked0_logprob                 # increasing: searchsorted
        self.ranked = [None] * (self.n + 1)                      # made on first use
        self.sorted_blocks = [None] * self.n
        # is every suffix of a stored n-gram stored? Then a word stored after h_{j'}, j' > j+1,
        # is stored after h_{j+1} too, and one probe tells whether a level-j word is covered.
        # Asked (None until then) once SUFFIX_CHECK_AFTER histories have been read: the check
        # reads every table (0.06 s for PTB's 5-gram, 0.19 s for WikiText-2's), which a short
        # run would not win back (one probe throughout: top-k 24% faster at 10,000 PTB sentences)
        self.one_probe, self.histories_read = None, 0

    def _ranked(self, j: int, contexts: np.ndarray, lo: np.ndarray,
                count: np.ndarray) -> np.ndarray:
        """Table j+1's rows with the blocks of these j-word contexts sorted (see _rank_tables)."""
        k = j + 1
        if self.ranked[k] is None:
            size = len(self.model.keys[k])
            self.ranked[k] = np.arange(size, dtype=np.int32 if size < 2 ** 31 else np.int64)
            self.sorted_blocks[j] = np.zeros(self.V if j == 1 else len(self.model.keys[j]),
                                             dtype=bool)
        todo = np.flatnonzero(~self.sorted_blocks[j][contexts] & (count > 1))
        if len(todo):
            contexts, first = np.unique(contexts[todo], return_index=True)
            lo, count = lo[todo][first], count[todo][first]
            rows = ragged_ranges(lo, count)
            block = np.repeat(np.arange(len(lo)), count)
            lp = np.asarray(self.model.tables.logprob[k])[rows]
            self.ranked[k][rows] = rows[np.lexsort((-lp, block))]
            self.sorted_blocks[j][contexts] = True
        return self.ranked[k]

    def _top_k(self, contexts: list, size: int) -> tuple:
        """The k words of largest ln P(w | h) after each of `size` histories (context rows),
        ties by lower id, as (ids, ln P), each (size, k) in increasing id order, with the same
        values as `NgramModel.distributions`; and `unsure`, the histories whose k-th value a
        word left unread might equal (they take the whole distribution instead).

        A word's ln P is that of its highest level: ln p(h_j, w) + B_{j+1} for a child w of
        the stored h_j not stored after any h_{j'}, j' > j (a probe per higher stored context;
        of h_{j+1} alone once the model is known to store every suffix), and ln p(w) + B_1 at
        level 0. Each level is read from the top of its ranked words (the
        children of h_j by decreasing ln p; the vocabulary at level 0) down to whichever comes
        first: the end, a value below tau (less a margin for the rounding of the sums), or
        k more words than the levels above store (only those can be taken by a higher level).
        tau, a lower bound of the k-th value, is the k-th value of the words kept at a level
        above, the largest such. The first word left unread bounds the rest of its level: where
        it is not below the k-th value chosen, `unsure`."""
        model, t, n, V, k = self.model, self.model.tables, self.n, self.V, self.top_k
        backed = [None] * n + [np.zeros(size)]
        for j in range(n - 1, 0, -1):
            backed[j] = backed[j + 1] + model._context_logbackoff(j, contexts[j])
        hist, word, value = [], [], []
        above = np.zeros(size, dtype=np.int64)       # words stored after the contexts read
        tau = np.full(size, -np.inf)                 # a lower bound of the k-th value
        edge = np.full(size, -np.inf)                # the best value left unread
        for j in range(n - 1, -1, -1):
            if j == 0:
                has = np.arange(size)
                lo = np.zeros(size, dtype=np.int64)
                count = np.full(size, len(self.ranked0))
                most = np.minimum(count, k + above)
                logprob = self.ranked0_logprob
                take = np.minimum(most, np.searchsorted(
                    self.ranked0_negated, backed[1] - tau + MARGIN * (1 + np.abs(tau)),
                    side="right"))
                ranked = None
            else:
                c = contexts[j]
                has = np.flatnonzero(c >= 0)
                if not len(has):
                    continue
                lo, count = model.children(j, c[has])
                most = np.minimum(count, k + above[has])
                ranked = self._ranked(j, c[has], lo, count)
                logprob = np.asarray(t.logprob[j + 1])
                take = _count_at_least(logprob, ranked, lo, most, tau[has] - backed[j + 1][has]
                                       - MARGIN * (1 + np.abs(tau[has])))
            place = ragged_ranges(lo, take)
            rows = place if ranked is None else ranked[place]
            h = np.repeat(has, take)
            cut = np.flatnonzero(take < count)
            if len(cut):
                unread = lo[cut] + take[cut]
                unread = unread if ranked is None else ranked[unread]
                at = has[cut]
                edge[at] = np.maximum(edge[at], logprob[unread] + backed[j + 1][at])
            if j == 0:
                w = self.ranked0[rows]
                v = self.ranked0_logprob[rows] + backed[1][h]
            else:
                w = model.keys[j + 1][rows] % V
                v = np.asarray(logprob[rows], np.float64) + backed[j + 1][h]
                above[has] += count
            # not <s>, and not stored after a higher context (asked of those not found so far;
            # of the next one up alone where every suffix is stored)
            mine = w != BOS_ID
            for higher in range(j + 1, min(j + 2, n) if self.one_probe else n):
                at = np.flatnonzero(mine)
                c = contexts[higher][h[at]]
                stored = np.flatnonzero(c >= 0)
                at = at[stored]
                mine[at] = model.extend(higher + 1, c[stored], w[at]) < 0
            # tau: the k-th word kept at this level (read in decreasing order), where there is one
            nth = np.cumsum(mine)
            nth -= np.repeat(np.concatenate([[0], nth])[np.cumsum(take) - take], take)
            kth_at = np.flatnonzero(mine & (nth == k))
            tau[h[kth_at]] = np.maximum(tau[h[kth_at]], v[kth_at])
            hist.append(h[mine])
            word.append(w[mine])
            value.append(v[mine])
        hist, word, value = np.concatenate(hist), np.concatenate(word), np.concatenate(value)
        sure = np.flatnonzero(value >= tau[hist])       # below tau: not among the k best
        ids, logprobs, kth = _best(hist[sure], word[sure], value[sure], size, k, V)
        self.histories_read += size
        if self.one_probe is None and self.histories_read >= SUFFIX_CHECK_AFTER:
            self.one_probe = n > 1 and _suffixes_stored(model.suffix_rows())
        return ids, logprobs, ~(edge < kth)          # nan-safe: a tie, or fewer than k

    def _draw_top_k(self, contexts, key, sentence, step) -> np.ndarray:
        """Draws among the k best words of each history (`_top_k`, once per distinct history),
        then top-p among them if asked: what `_draw_full` draws, with the same numbers, without
        the whole distribution; histories `_top_k` is unsure of go to `_draw_full`."""
        rows = np.arange(len(sentence))
        which, first = self._histories(contexts, rows)
        u = uniforms(key, sentence, step, REDRAWS + 1)
        out = np.empty(len(rows), dtype=np.int64)
        config = SamplingConfig(temperature=self.config.temperature, top_p=self.config.top_p)
        unsure = []
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(0, len(first) + TOP_K_HISTORIES,
                                                         TOP_K_HISTORIES))
        for chunk, at in enumerate(range(0, len(first), TOP_K_HISTORIES)):
            r = first[at:at + TOP_K_HISTORIES]
            ids, logprobs, doubt = self._top_k([None] + [c[r] for c in contexts[1:]], len(r))
            probs = sampling_distributions(logprobs, config)
            mine = order[bounds[chunk]:bounds[chunk + 1]]
            i = which[mine] - at
            out[mine] = ids[i, _inverse_cdf_rows(probs, i, u[mine])]
            unsure.append(mine[doubt[i]])
        unsure = np.concatenate(unsure) if unsure else np.empty(0, dtype=np.int64)
        if len(unsure):
            out[unsure] = self._draw_full(contexts, key, sentence, step, unsure)
        return out

    # ---- whole sentences -----------------------------------------------------------------
    def sentences(self, count: int, seed: int | None = None, batch_size: int = BATCH_SENTENCES,
                  first: int = 0) -> Iterator[np.ndarray]:
        """`count` sentences of word ids (no markers), in order; sentence i depends only on
        (seed, first + i). `batch_size` sentences advance side by side, and a row whose
        sentence ends takes the next sentence at once, so every step draws for a full batch
        (one NumPy call per step serves batch_size rows, not the few long sentences left at
        the end of a batch). Finished sentences are yielded in order, a block at a time."""
        key = seed_key(seed)
        max_length = self.config.max_length
        end = first + count
        numbers = np.empty(0, dtype=np.int64)      # the sentence of each live row
        steps = np.empty(0, dtype=np.int64)        # words drawn so far in it
        contexts = self.start(0)
        owner, drawn = [], []                      # tokens drawn, not yet yielded
        started = emitted = first
        while emitted < end:
            # a long sentence holds back the ones after it: start none more than LOOKAHEAD
            # batches past the last one yielded, so what waits stays bounded
            room = min(batch_size - len(numbers), end - started,
                       emitted + LOOKAHEAD * batch_size - started)
            if room > 0:
                numbers = np.concatenate([numbers, np.arange(started, started + room)])
                steps = np.concatenate([steps, np.zeros(room, dtype=np.int64)])
                contexts = [None] + [np.concatenate([c, fresh]) for c, fresh in
                                     zip(contexts[1:], self.start(room)[1:])]
                started += room
            if len(numbers):
                words = self.draw(contexts, key, numbers, steps)
                going = words != EOS_ID
                owner.append(numbers[going])
                drawn.append(words[going].astype(np.int32))
                steps += 1
                keep = np.flatnonzero(going & (steps < max_length))
                numbers, steps = numbers[keep], steps[keep]
                contexts = self.advance([None] + [c[keep] for c in contexts[1:]], words[keep])
            done = int(numbers.min()) if len(numbers) else started    # all below have ended
            if done - emitted >= batch_size or done == end or (not len(numbers) and done > emitted):
                owner, drawn, blocks = _split_finished(owner, drawn, emitted, done)
                yield from blocks
                emitted = done


def _suffixes_stored(suffix: list) -> bool:
    """Is the suffix of every stored n-gram stored (`NgramModel.suffix_rows`: none NOT_FOUND)?
    Not in a pruned ARPA file, for one."""
    return not any((rows < 0).any() for rows in suffix[2:])


def _count_at_least(values: np.ndarray, ranked: np.ndarray, lo: np.ndarray, most: np.ndarray,
                    floor: np.ndarray) -> np.ndarray:
    """How many of values[ranked[lo_i]], values[ranked[lo_i + 1]], ... (in decreasing order)
    are >= floor_i, up to most_i: a binary search in every block at once."""
    a, b = np.zeros(len(lo), dtype=np.int64), most.astype(np.int64)     # the answer in [a, b]
    while True:
        open_ = np.flatnonzero(a < b)
        if not len(open_):
            return a
        mid = (a[open_] + b[open_]) // 2
        high = values[ranked[lo[open_] + mid]] >= floor[open_]
        a[open_] = np.where(high, mid + 1, a[open_])
        b[open_] = np.where(high, b[open_], mid)


def _best(group: np.ndarray, word: np.ndarray, value: np.ndarray, size: int, k: int,
          none: int) -> tuple:
    """(ids, values, kth): the k largest values of each group 0..size-1, ties with the k-th by
    lower word, as (size, k) arrays in increasing word order, and the k-th value (size,); `none`
    (above every word) and -inf fill a group of fewer than k. Each group (a few dozen
    candidates) is a row of a padded matrix, in slabs of at most TOP_K_CELLS cells, whose k-th
    value a partition finds; the padding's words are none, none + 1, ..., so that every word
    of a row is distinct for the ties' rule."""
    order = np.argsort(group.astype(np.uint16 if size <= 1 << 16 else np.int64), kind="stable")
    group, word, value = group[order], word[order], value[order]
    starts = np.searchsorted(group, np.arange(size + 1))
    width = max(int(np.diff(starts).max()) if size else 0, k)
    ids = np.full((size, k), none, dtype=np.int64)
    values = np.full((size, k), -np.inf)
    kth = np.full(size, -np.inf)
    step = max(1, TOP_K_CELLS // width)
    for first in range(0, size, step):
        last = min(first + step, size)
        a, b = starts[first], starts[last]
        row = group[a:b] - first
        column = np.arange(a, b) - starts[group[a:b]]
        slab = np.full((last - first, width), -np.inf)
        slab[row, column] = value[a:b]
        named = np.tile(none + np.arange(width), (last - first, 1))     # padding: each its own
        named[row, column] = word[a:b]
        kth_value = -np.partition(-slab, k - 1, axis=1)[:, k - 1:k]
        keep = slab > kth_value
        tied = slab == kth_value
        room = k - np.count_nonzero(keep, axis=1)
        crowded = np.flatnonzero(np.count_nonzero(tied, axis=1) > room)
        if len(crowded):                  # more ties than room: the lower words
            tied_ids = np.sort(np.where(tied[crowded], named[crowded], np.iinfo(np.int64).max),
                               axis=1)
            last_id = np.take_along_axis(tied_ids, room[crowded, None] - 1, axis=1)
            tied[crowded] &= named[crowded] <= last_id
        keep |= tied                      # exactly k a row (padding tied at -inf if need be)
        chosen, valued = named[keep].reshape(-1, k), slab[keep].reshape(-1, k)
        by_id = np.argsort(chosen, axis=1)
        ids[first:last] = np.minimum(np.take_along_axis(chosen, by_id, axis=1), none)
        values[first:last] = np.take_along_axis(valued, by_id, axis=1)
        kth[first:last] = kth_value[:, 0]
    return ids, values, kth


def _absent_rows(values: np.ndarray, no_history, not_found=None) -> np.ndarray:
    """`values` (by context row) followed by what the rows NO_HISTORY (-2) and NOT_FOUND (-1)
    read as negative indices: one gather serves every history, no mask."""
    tail = [no_history, no_history if not_found is None else not_found]
    return np.concatenate([values, np.array(tail, dtype=values.dtype)])


def start_contexts(order: int, size: int) -> list:
    """Context rows after <s> for `size` sentences: [None, h_1, ..., h_{n-1}]."""
    return [None] + [np.full(size, BOS_ID if j == 1 else NO_HISTORY, dtype=np.int64)
                     for j in range(1, order)]


def advance_contexts(model, contexts: list, words: np.ndarray) -> list:
    """Context rows after reading `words`: h'_j = (h_{j-1}, w), the scorer's trie walk."""
    new = [None, words.astype(np.int64)]
    for j in range(2, model.order):
        new.append(model.extend(j, contexts[j - 1], words))
    return new


def _running_sum(values: np.ndarray) -> np.ndarray:
    """0, then the running sum of `values`, written once (not a running sum and a copy)."""
    out = np.empty(len(values) + 1)
    out[0] = 0.0
    np.cumsum(values, out=out[1:])
    return out


def _inverse_cdf_rows(probs: np.ndarray, row: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The column drawn for each u in [0, 1) from row[i] of `probs` (B, width; each row's
    mass at most about 1, as the distributions given are, so that the shift of 2i keeps the rows
    apart) by inverse CDF, never a column past the row's last with mass: one binary search over
    the rows' cumulative sums laid end to end, row i's shifted by 2i."""
    cdf = np.cumsum(probs, axis=1)
    width = probs.shape[1]
    target = u * cdf[row, -1] + 2.0 * row
    cdf += 2.0 * np.arange(len(probs))[:, None]
    pick = np.searchsorted(cdf.ravel(), target, side="right") - row * width
    # past the row's end (rounding): its last column with mass. Inside it, the first column
    # whose sum exceeds the target has mass (a column without any repeats the sum before it)
    past = np.flatnonzero(pick >= width)
    pick[past] = width - 1 - np.argmax(probs[row[past], ::-1] > 0, axis=1)
    return pick


def _inverse_cdf(cum: np.ndarray, target: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 large: bool) -> np.ndarray:
    """The last index i with cum[i] <= target (np.searchsorted(cum, target, "right") - 1), for
    targets in [cum[lo], cum[hi]]. Most contexts of a high order have a few children: their
    SCAN entries after lo are one short read each, counted instead of searched through the
    whole table (~22 dependent reads); the rest are searched, sorted first in a `large` table."""
    row = np.empty(len(target), dtype=np.int64)
    few = hi - lo <= SCAN
    at = np.flatnonzero(few)
    if len(at):
        window = np.minimum(lo[at, None] + np.arange(1, SCAN + 1), hi[at, None])
        row[at] = lo[at] + (cum[window] <= target[at, None]).sum(axis=1)
    at = np.flatnonzero(~few)
    if len(at):
        search = sorted_search if large else np.searchsorted
        row[at] = search(cum, target[at], side="right") - 1
    return row


def _split_finished(owner: list, drawn: list, begin: int, end: int) -> tuple:
    """The sentences numbered begin..end-1 (finished) as arrays, in order; the tokens of the
    others stay pending. Tokens were appended step by step, so a stable sort by sentence keeps
    each sentence's words in order."""
    owner = np.concatenate(owner)
    drawn = np.concatenate(drawn)
    mine = owner < end
    order = np.argsort(owner[mine], kind="stable")
    lengths = np.bincount(owner[mine] - begin, minlength=end - begin)
    words = drawn[mine][order]
    bounds = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    blocks = [words[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    return [owner[~mine]], [drawn[~mine]], blocks
