"""The smoothed unbounded model and the ∞-gram: hand arithmetic, an independent reference
implementation of the formula, sums to 1, batch = step by step, save/load, evaluation."""
from collections import Counter

import numpy as np
import pytest

from nextword.errors import NextwordError
from nextword.evaluate import evaluate
from nextword.generate import SamplingConfig, generate
from nextword.infinigram import InfiniGram, SuffixArrayIndex, UnboundedNgram, infinigram_report
from nextword.model import load_model

D = 0.9


@pytest.fixture
def tiny(two_sentences):
    return SuffixArrayIndex.from_sentences(two_sentences)


def test_kneser_ney_by_hand(tiny):
    """Corpus </s> a b </s> a c </s>; |V| = 5 (<unk> </s> a b c); D = 0.9.
    Level 0 counts a(w) = N1+(• w): a 1, b 1, c 1, </s> 2 (after b, after c): 5 in all, 4 words.
    Context "a": N1+(• a b) = 1 (</s> before it), N1+(• a •) = 2 pairs, N1+(a •) = 2.
    Context "<s> a" begins with <s>: raw counts c(<s> a b) = 1, c(<s> a) = 2, N1+ = 2."""
    lm = UnboundedNgram(tiny, discount=D)
    p_uniform = 1 / 5
    p0_b = (1 - D + D * 4 * p_uniform) / 5                  # 0.164
    p1_b = (1 - D + D * 2 * p0_b) / 2                        # 0.1976
    p2_b = (1 - D + D * 2 * p1_b) / 2                        # 0.22784
    assert lm.prob("b", ()) == pytest.approx(p0_b)
    assert lm.prob("b", ("a",)) == pytest.approx(p1_b)
    assert lm.prob("b", ("<s>", "a")) == pytest.approx(p2_b)
    assert lm.prob("b", ("c", "<s>", "a")) == pytest.approx(p2_b)    # "c <s> a": never seen
    # </s> after "<s> a b": "b" is followed by </s> only, N1+(• b </s>) = 1 = N1+(• b •);
    # "a b" is not anchored: N1+(• a b </s>) = 1, N1+(• a b •) = 1; "<s> a b": raw 1 / 1
    p0_end = (2 - D + D * 4 * p_uniform) / 5
    p1_end = (1 - D + D * 1 * p0_end) / 1
    p2_end = (1 - D + D * 1 * p1_end) / 1
    p3_end = (1 - D + D * 1 * p2_end) / 1
    assert lm.prob("</s>", ("<s>", "a", "b")) == pytest.approx(p3_end)
    # an unseen word: only the uniform level reaches it
    assert lm.prob("<unk>", ("a",)) == pytest.approx(D * 2 / 2 * D * 4 / 5 * p_uniform)
    assert lm.prob("<s>", ("a",)) == 0.0


def reference_kneser_ney(sentences, history, word, discount=D):
    """The docstring's formula, counted straight from the token list with Counters."""
    tokens = ["</s>"]
    for sentence in sentences:
        tokens += list(sentence) + ["</s>"]
    vocab = {"<unk>", "</s>"} | set(tokens)
    history = ["</s>" if w == "<s>" else w for w in history]

    def a_counts(h):
        k = len(h)
        if k and h[0] == "</s>":                              # raw counts after <s>
            return Counter(tokens[p + k] for p in range(len(tokens) - k) if tokens[p:p + k] == h)
        start = 1 if k == 0 else 0                            # level 0: positions 1..N-1
        pairs = {(tokens[p - 1] if p else None, tokens[p + k])
                 for p in range(start, len(tokens) - k) if tokens[p:p + k] == h}
        return Counter(w for _, w in pairs)                   # N1+(• h w)

    p = 1 / (len(vocab))                                       # |V| = all but <s>
    for k in range(0, len(history) + 1):
        h = history[len(history) - k:]
        counts = a_counts(h)
        total = sum(counts.values())
        if total == 0:
            break
        p = (max(counts[word] - discount, 0) + discount * len(counts) * p) / total
    return p


def test_against_a_reference_implementation(random_corpus):
    index = SuffixArrayIndex.from_sentences(random_corpus)
    lm = UnboundedNgram(index)
    rng = np.random.default_rng(3)
    words = [w for w in index.vocab.tokens if w != "<s>"]
    for _ in range(40):
        sentence = random_corpus[int(rng.integers(len(random_corpus)))]
        cut = int(rng.integers(0, len(sentence) + 1))
        history = ["<s>"] + sentence[:cut] if rng.random() < 0.7 else sentence[:cut]
        word = words[int(rng.integers(len(words)))] if rng.random() < 0.5 else \
            (sentence + ["</s>"])[cut]
        assert lm.prob(word, tuple(history)) == pytest.approx(
            reference_kneser_ney(random_corpus, history, word), rel=1e-12)


@pytest.mark.parametrize("model_class", [UnboundedNgram, InfiniGram])
def test_distributions_sum_to_one(model_class, random_corpus):
    lm = model_class(SuffixArrayIndex.from_sentences(random_corpus))
    rng = np.random.default_rng(0)
    for sentence in random_corpus[:60]:
        state = lm.initial_state()
        for token in list(lm.vocab.encode(sentence)) + [int(rng.integers(3, len(lm.vocab)))]:
            probs = np.exp(lm.next_logprobs(state))
            assert probs.sum() == pytest.approx(1.0, abs=1e-12)
            assert probs[1] == 0.0                              # <s> is never predicted
            if model_class is UnboundedNgram:
                assert (np.delete(probs, 1) > 0).all()          # smoothed: every word has mass
            state = lm.advance(state, token)


@pytest.mark.parametrize("model_class", [UnboundedNgram, InfiniGram])
def test_batched_scoring_equals_step_by_step(model_class, random_corpus):
    lm = model_class(SuffixArrayIndex.from_sentences(random_corpus[:150]))
    held_out = [lm.vocab.encode(s) for s in random_corpus[150:]] + [lm.vocab.encode(["w1"] * 12)]
    for sentence, batch_logprobs in zip(held_out, lm.sentence_logprobs(held_out)):
        state, steps = lm.initial_state(), []
        for token in list(sentence) + [2]:
            steps.append(lm.next_logprobs(state)[token])
            state = lm.advance(state, int(token))
        assert np.allclose(batch_logprobs, steps, rtol=1e-12, atol=0)


def test_infinigram_by_hand(tiny):
    """P∞(w | h) = c(h_K w) / c(h_K), K the longest suffix followed by something."""
    lm = InfiniGram(tiny)
    assert lm.prob("b", ("<s>", "a")) == pytest.approx(1 / 2)
    assert lm.prob("a", ("c", "<s>")) == pytest.approx(2 / 2)        # "<s>" is followed by a twice
    assert lm.prob("b", ("zebra",)) == pytest.approx(1 / 6)          # empty context: c(b) / 6
    assert lm.prob("c", ("a", "b")) == 0.0                           # unseen after "a b"
    assert not lm.normalised


def test_infinigram_evaluation_refuses_a_perplexity(tiny):
    lm = InfiniGram(tiny)
    with pytest.raises(NextwordError, match="∞-gram gives probability 0"):
        evaluate(lm, [["a", "c"]])
    result = evaluate(lm, [["a", "b"], ["b", "b"]], allow_unnormalised=True)
    assert result.perplexity == float("inf")


def test_infinigram_report_by_hand(tiny):
    """Held out: <s> a c </s> and <s> b a </s>.
    a | <s>: K = 1 ("<s>" -> a a), guess a, right.      c | <s> a: K = 2, followers b, c (tie: b,
    the smaller id), wrong, answered.                   </s> | <s> a c: K = 3, -> </s>, right.
    b | <s>: guess a, wrong, P = 0.   a | <s> b: "<s> b" unseen, "b" -> </s>: wrong, P = 0.
    </s> | <s> b a: "b a" unseen, "a" -> b, c: guess b, wrong, P = 0.
    Accuracy 2/6, answered 3/6, suffix lengths 1, 2, 3, 1, 1, 1."""
    sentences = [tiny.vocab.encode(["a", "c"]), tiny.vocab.encode(["b", "a"])]
    report = infinigram_report(tiny, sentences)
    assert report["tokens"] == 6
    assert report["accuracy"] == pytest.approx(2 / 6)
    assert report["answered"] == pytest.approx(3 / 6)
    assert report["suffix_length_histogram"] == [0, 4, 1, 1]
    assert report["suffix_longer_than_4"] == 0.0


def test_load_model_gives_both_models(tmp_path, random_corpus):
    index = SuffixArrayIndex.from_sentences(random_corpus[:150])
    index.save(tmp_path / "ix")
    smoothed = load_model(tmp_path / "ix")
    infinigram = load_model(tmp_path / "ix" / "infinigram")
    assert isinstance(smoothed, UnboundedNgram) and isinstance(infinigram, InfiniGram)
    held_out = random_corpus[150:]
    loaded = evaluate(smoothed, held_out)
    direct = evaluate(UnboundedNgram(index), held_out)
    assert loaded.perplexity == pytest.approx(direct.perplexity, rel=1e-12)
    assert loaded.tokens == sum(len(s) + 1 for s in held_out)
    assert np.isfinite(loaded.perplexity)


def test_generation_is_seeded_and_follows_the_corpus(tiny):
    for lm in (UnboundedNgram(tiny), InfiniGram(tiny)):
        config = SamplingConfig(temperature=0.8, top_k=3, top_p=0.95, max_length=10)
        first = generate(lm, 5, seed=4, config=config)
        assert first == generate(lm, 5, seed=4, config=config)
    # the ∞-gram can only copy: every sentence it samples is a training sentence
    assert all(s in (["a", "b"], ["a", "c"]) for s in generate(InfiniGram(tiny), 20, seed=1))


def test_bad_discount(tiny):
    with pytest.raises(NextwordError, match="discount"):
        UnboundedNgram(tiny, discount=1.5)
