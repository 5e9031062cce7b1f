"""`nextword experiment`: every experiment runs in smoke mode and writes its files; every
verdict is checked on constructed numbers whose answer is known; the measuring helpers are
checked against a peer or a hand-computed value."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from nextword.cli import main
from nextword.experiments import EXPERIMENTS, get_experiment
from nextword.experiments.base import DOES_NOT_HOLD, HOLDS, PARTLY, Settings, fmt
from nextword.experiments.runner import run_experiment


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory):
    """Each experiment once in smoke mode (about 10 CPU seconds for all 13)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("experiments")
    runs = {name: (run_experiment(name, Settings(smoke=True), root / name), root / name)
            for name in EXPERIMENTS}
    torch.set_num_threads(before)
    return runs


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_experiment_runs_and_writes_its_files(smoke_runs, name):
    outcome, folder = smoke_runs[name]
    module = get_experiment(name)
    record = json.loads((folder / "results.json").read_text())
    assert record["experiment"] == name and record["claim"] == module.CLAIM
    assert record["settings"]["smoke"] is True and record["seed"] == 0
    assert {"platform", "python", "numpy", "cpus"} <= set(record["machine"])
    assert record["verdict"]["outcome"] == outcome.verdict.outcome in (HOLDS, PARTLY, DOES_NOT_HOLD)
    # the verdict in the file is the one its function gives on the numbers in the file
    numbers = _floats(record["numbers"])
    assert module.verdict(numbers).as_dict() == record["verdict"]
    text = (folder / "results.md").read_text()
    assert f"Verdict: {outcome.verdict.outcome}" in text and "|---|" in text
    assert record["plots"]
    for plot in record["plots"]:
        assert (folder / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _floats(value):
    """results.json writes infinity as the string 'inf': read it back as a float."""
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return value


def test_plots_leave_pyplot_alone(smoke_runs):
    """Figures are made without pyplot: no figure is left open in a caller's pyplot."""
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []


# ---- the CLI ---------------------------------------------------------------------------------
def test_cli_list_and_errors(capsys):
    assert main(["experiment", "--list"]) in (0, None)
    out = capsys.readouterr().out
    for name in EXPERIMENTS:
        assert name in out
    assert "min" in out
    for args, message in [(["experiment", "nope"], "unknown experiment 'nope'"),
                          (["experiment"], "name an experiment"),
                          (["experiment", "ngram-delta", "--corpus", "brown"], "--corpus brown"),
                          (["experiment", "ngram-delta", "--budget", "soon"], "'soon' is not a duration")]:
        assert main(args) == 1
        err = capsys.readouterr().err
        assert err.startswith("nextword: error: ") and message in err and "Traceback" not in err


def test_cli_smoke_run(capsys, tmp_path):
    assert main(["experiment", "ngram-size", "--smoke", "--output", str(tmp_path / "out")]) in (0, None)
    out = capsys.readouterr().out
    assert out.startswith("ngram-size: holds")
    assert (tmp_path / "out" / "results.json").exists() and (tmp_path / "out" / "size.png").exists()


# ---- verdicts on constructed numbers -----------------------------------------------------------
def outcome(name, numbers):
    return get_experiment(name).verdict(numbers).outcome


def test_ngram_sparsity_verdict():
    def rows(context_shares, finite=True):
        return {"orders": [{"n": n, "unseen_ngram_share": 0.1 * n if n > 1 else 0.0,
                            "unseen_context_share": c, "mle_zero_prob_share": 0.05 if n > 1 else 0.0,
                            "mle_perplexity": math.inf if n > 1 else 600.0,
                            "add_delta_perplexity": 500.0 if finite else math.inf,
                            "kneser_ney_perplexity": 150.0} for n, c in zip(range(1, 5), context_shares)]}
    assert outcome("ngram-sparsity", rows([0, 0, 0.2, 0.5])) == HOLDS
    assert outcome("ngram-sparsity", rows([0, 0, 0.5, 0.2])) == PARTLY        # contexts not growing
    assert outcome("ngram-sparsity", rows([0, 0, 0.5, 0.2], finite=False)) == PARTLY


def test_ngram_order_verdict():
    def numbers(judge, test6=139.0):
        rows = []
        for est in ("katz", "modified-kneser-ney"):
            for n in range(1, 7):
                row = {"estimator": est, "n": n, "stored_ngrams": 1000 * n, "bytes": 8000 * n,
                       "test_perplexity": {5: 141.0, 6: test6}.get(n, 300.0 - n)}
                if est == "modified-kneser-ney":
                    row.update(unseen_test_ngram_share=0.15 * n, sample_judge_perplexity=judge[n - 1])
                rows.append(row)
        return {"rows": rows, "sampled_with": "modified-kneser-ney"}

    assert outcome("ngram-order", numbers([900, 400, 200, 150, 140, 130])) == HOLDS
    # samples no more coherent at n = 3, and a 5 -> 6 gain of (141 - 130) / 141 = 7.8% >= 2%
    assert outcome("ngram-order", numbers([900, 400, 450, 150, 140, 130], test6=130.0)) == PARTLY


def test_ngram_delta_verdict():
    def rows(zero, at_quarter):
        return {"best": {"2": {"delta": 0.01, "valid_perplexity": 200.0}},
                "rows": [{"n": n, "delta": d, "test_zero_prob_share": zero,
                          "valid_perplexity": {1.0: 400.0, 0.25: at_quarter}.get(d, 300.0)}
                         for n in (1, 2, 3) for d in (1.0, 0.25, 0.01)]}
    assert outcome("ngram-delta", rows(0.0, 300.0)) == HOLDS
    assert outcome("ngram-delta", rows(0.0, 450.0)) == PARTLY
    assert outcome("ngram-delta", rows(0.01, 450.0)) == DOES_NOT_HOLD


def test_ngram_size_verdict():
    def numbers(exponent, pruned_growth=True):
        rows, laws = [], []
        for pruned in (False, True):
            for tokens in (1e3, 1e4, 1e5):
                stored = tokens ** exponent if (not pruned or pruned_growth) else 50.0
                rows.append({"corpus": "ptb", "pruned": pruned, "train_tokens": tokens, "stored_ngrams": stored})
            laws.append({"corpus": "ptb", "pruned": pruned, "b": exponent})
        return {"rows": rows, "laws": laws}
    assert outcome("ngram-size", numbers(0.9)) == HOLDS
    assert outcome("ngram-size", numbers(0.3)) == PARTLY
    assert outcome("ngram-size", numbers(0.3, pruned_growth=False)) == PARTLY


def test_window_size_verdict():
    def numbers(ppl_by_window, lstm):
        rows = [{"model": "window", "window": w, "w_parameters": 100 * w + 10, "parameters": 1000 + 100 * w,
                 "valid_perplexity": p} for w, p in ppl_by_window.items()]
        rows.append({"model": "lstm", "hidden_dim": 64, "parameters": 1400, "valid_perplexity": lstm})
        return {"rows": rows}
    assert outcome("window-size", numbers({1: 400.0, 2: 300.0, 4: 280.0}, 250.0)) == HOLDS
    assert outcome("window-size", numbers({1: 400.0, 2: 300.0, 4: 280.0}, 290.0)) == PARTLY
    assert outcome("window-size", numbers({1: 300.0, 2: 290.0, 4: 280.0}, 290.0)) == PARTLY


def test_rnn_vs_window_verdict():
    def numbers(lstm100, rnn100, window100):
        values = {"lstm": (300.0, lstm100), "rnn": (320.0, rnn100), "window": (330.0, window100)}
        return {"window": 4, "rows": [{"model": m, "k": k, "valid_perplexity": v}
                                      for m, pair in values.items() for k, v in zip((5, 100), pair)]}
    assert outcome("rnn-vs-window", numbers(250.0, 300.0, 329.0)) == HOLDS
    assert outcome("rnn-vs-window", numbers(250.0, 319.0, 329.0)) == PARTLY     # RNN gains 0.3% < 3%
    assert outcome("rnn-vs-window", numbers(299.0, 319.0, 300.0)) == DOES_NOT_HOLD


def test_vanishing_gradient_verdict():
    def numbers(rnn, lstm):
        curve = lambda r: {"mean_relative": [1.0, 0.5, r]}
        return {"distance": 2, "curves": {"rnn-trained": curve(rnn), "lstm-trained": curve(lstm)}}
    assert outcome("vanishing-gradient", numbers(0.001, 0.05)) == HOLDS
    assert outcome("vanishing-gradient", numbers(0.001, 0.005)) == PARTLY
    assert outcome("vanishing-gradient", numbers(0.5, 0.05)) == DOES_NOT_HOLD


def test_bptt_length_verdict():
    def numbers(per_step, ppl100, speed100):
        rows = [{"bptt": T, "saved_bytes_per_step": per_step * T, "tokens_per_second": s, "valid_perplexity": p}
                for T, p, s in ((5, 300.0, 1000.0), (35, 250.0, 1200.0), (100, ppl100, speed100))]
        return {"rows": rows, "stream_steps_per_column": 30_000, "full_stream_bytes": per_step * 30_000.0}
    assert outcome("bptt-length", numbers(1e6, 255.0, 1300.0)) == HOLDS
    assert outcome("bptt-length", numbers(1e3, 255.0, 1300.0)) == PARTLY      # 30 MB: feasible
    assert outcome("bptt-length", numbers(1e3, 300.0, 900.0)) == DOES_NOT_HOLD


def test_teacher_forcing_verdict():
    def numbers(teacher, own):
        return {"updates": 100, "rows": [{"arm": "teacher forcing", "valid_perplexity": teacher},
                                         {"arm": "own samples", "valid_perplexity": own},
                                         {"arm": "scheduled sampling", "valid_perplexity": 300.0}]}
    assert outcome("teacher-forcing", numbers(200.0, 400.0)) == HOLDS
    assert outcome("teacher-forcing", numbers(380.0, 400.0)) == PARTLY
    assert outcome("teacher-forcing", numbers(410.0, 400.0)) == DOES_NOT_HOLD


def test_optimizers_verdict():
    def numbers(adagrad, adam, nadamw, sgd):
        final = [{"optimizer": name, "curve": [{"valid_ppl": v} for v in curve]}
                 for name, curve in (("adagrad", adagrad), ("adam", adam), ("nadamw", nadamw), ("sgd", sgd))]
        return {"grid": {"adagrad": [], "adam": [], "nadamw": [], "sgd": []}, "final": final}
    # midpoint = point (len - 1) // 2 = 1: Adagrad 400 -> 390 (2.5%), Adam 400 -> 300 (25%)
    assert outcome("optimizers", numbers([900, 400, 395, 390], [900, 400, 350, 300],
                                         [900, 380, 320, 290], [900, 500, 400, 310])) == HOLDS
    assert outcome("optimizers", numbers([900, 400, 300, 200], [900, 400, 350, 300],
                                         [900, 380, 320, 310], [900, 500, 300, 200])) == DOES_NOT_HOLD


def test_init_verdict():
    def numbers(equal_units, xavier_ppl):
        return {"rows": [{"init": "all-equal", "distinct_units": equal_units, "rank_w_hh": equal_units,
                          "hidden_units": 8, "valid_perplexity": 500.0},
                         {"init": "xavier", "distinct_units": 8, "rank_w_hh": 8, "hidden_units": 8,
                          "valid_perplexity": xavier_ppl}]}
    assert outcome("init", numbers(1, 300.0)) == HOLDS
    assert outcome("init", numbers(1, 480.0)) == PARTLY
    assert outcome("init", numbers(8, 480.0)) == DOES_NOT_HOLD


def test_dropout_verdict():
    def numbers(final0, gaps, difference=0.0):
        rows = []
        for p, gap, final in zip((0.0, 0.2, 0.5), gaps, (final0, 250.0, 240.0)):
            rows.append({"p": p, "valid_perplexity": final,
                         "curve": [{"valid_ppl": 260.0, "train_ppl": 250.0},
                                   {"valid_ppl": final, "train_ppl": final / gap}]})
        return {"rows": rows, "scaling": {"p": 0.5, "train_max_relative_difference": difference,
                                          "test_max_relative_difference": difference}}
    assert outcome("dropout", numbers(300.0, (3.0, 2.0, 1.5))) == HOLDS
    assert outcome("dropout", numbers(260.0, (3.0, 2.0, 2.5), 1e-3)) == PARTLY


def test_regularization_verdict():
    def numbers(reg_curve, none_curve):
        make = lambda c: {"valid_perplexity": c[-1][0], "curve": [{"valid_ppl": v, "train_ppl": t} for v, t in c]}
        return {"rows": [make(none_curve), make(reg_curve)]}
    assert outcome("regularization", numbers([(300, 250), (200, 120)], [(280, 200), (350, 60)])) == HOLDS
    assert outcome("regularization", numbers([(300, 290), (290, 280)], [(280, 200), (350, 60)])) == PARTLY


# ---- the measuring helpers -----------------------------------------------------------------
def test_fmt():
    assert fmt(1234567) == "1,234,567" and fmt(math.inf) == "∞" and fmt(None) == "–"
    assert fmt(0.5) == "0.5" and fmt(141.186) == "141.2" and fmt(2.5e-5) == "2.5e-05"


def test_match_rows_by_hand():
    """train: <s> a b </s>; test: <s> a b </s> / <s> b a </s>. Bigrams ending at each predicted
    position: (<s> a) seen, (a b) seen, (b </s>) seen / (<s> b) unseen, (b a) unseen, (a </s>) unseen."""
    from nextword.experiments.ngram_common import count, match_rows
    from nextword.ngram.counts import PaddedStream
    from nextword.text.vocabulary import Vocabulary

    vocab = Vocabulary.build([["a", "b"]])
    counts = count([["a", "b"]], vocab, 2)
    stream = PaddedStream.from_tokens([["a", "b"], ["b", "a"]], vocab.index)
    m2 = match_rows(counts, stream, 2)[2]
    predicted = np.ones(len(stream), bool)
    predicted[stream.starts] = False
    assert ((m2 >= 0)[predicted]).tolist() == [True, True, True, False, False, False]


def test_reset_perplexity_of_a_model_that_knows_nothing():
    """Zero output weights: every token gets 1/(|V| - 1) (<s> excluded) whatever the resets."""
    from nextword.experiments.rnn_vs_window import reset_perplexity
    from nextword.neural.recurrent import RecurrentConfig, build_net

    net = build_net(RecurrentConfig("lstm", 9, 4, 4, 1, dropout=0.0, tie=False))
    torch.nn.init.zeros_(net.decoder.weight)
    torch.nn.init.zeros_(net.decoder.bias)
    stream = np.array([2, 3, 4, 5, 6, 7, 8, 3, 4, 2, 5])
    for k in (1, 3, None):
        assert reset_perplexity(net, stream, k) == pytest.approx(8.0)


def test_reset_never_equals_one_stream():
    """k = None reads the stream as one chunk: the library's stream_perplexity on one column."""
    from nextword.experiments.rnn_vs_window import reset_perplexity
    from nextword.neural.recurrent import RecurrentConfig, build_net
    from nextword.neural.train import stream_perplexity

    torch.manual_seed(0)
    net = build_net(RecurrentConfig("rnn", 9, 4, 4, 1, dropout=0.0))
    stream = np.array([2, 3, 4, 5, 6, 7, 8, 3, 4, 2, 5])
    one = stream_perplexity(net, torch.as_tensor(stream)[:, None])
    assert reset_perplexity(net, stream, None) == pytest.approx(one, rel=1e-6)
    assert reset_perplexity(net, stream, 1) != pytest.approx(one, rel=1e-3)   # resets matter


def test_hand_written_bptt_matches_autograd():
    """‖∂J(T)/∂h(i)‖ from reference.rnn.hidden_gradients against autograd, all i."""
    from nextword.experiments.vanishing_gradient import reference_check
    from nextword.neural.recurrent import RecurrentConfig, build_net

    torch.manual_seed(0)
    net = build_net(RecurrentConfig("rnn", 9, 5, 6, 1, dropout=0.0, tie=False))
    ids = torch.tensor([[2, 3, 4, 5, 6, 7, 8, 3, 4, 2]]).t()
    check = reference_check(net, ids[:-1], ids[1:])
    assert len(check["hand_norms"]) == 10 and check["max_relative_error"] < 1e-10     # float64 both


def test_hidden_gradients_agree_with_wh_contributions():
    """δ_t(i) = ∂J(t)/∂h(i) ⊙ (1 - h(i)²) and ∂J(t)/∂W_h|_(i) = δ_t(i) h(i-1)^T (wh_contributions,
    itself checked against finite differences)."""
    from nextword.reference.rnn import RNNConfig, forward, hidden_gradients, init_params, wh_contributions

    params = init_params(RNNConfig(7, 7, 3, 5), np.random.default_rng(1))
    _, cache = forward(params, np.array([1, 3, 4, 5, 2, 6]), np.array([3, 4, 5, 2, 6, 2]))
    grads = hidden_gradients(params, cache, 5)
    terms = wh_contributions(params, cache, 5)
    for i in range(1, 6):
        delta = grads[i] * (1 - cache.h[i] ** 2)
        np.testing.assert_allclose(np.outer(delta, cache.h[i - 1]), terms[i - 1], rtol=1e-12, atol=1e-15)


def test_equal_weights_stay_one_unit():
    """Units that start equal get equal gradients: after training they are still one unit."""
    from nextword.experiments.init import distinct_units, initialise
    from nextword.neural.recurrent import RecurrentConfig, build_net

    net = build_net(RecurrentConfig("rnn", 9, 4, 6, 1, dropout=0.0, tie=False))
    initialise("all-equal")(net)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    ids = torch.tensor([[2, 3, 4, 5, 6, 7, 8, 3], [2, 5, 6, 3, 4, 8, 7, 2]]).t()
    for _ in range(5):
        features, _ = net(ids[:-1], net.initial_state(2))
        loss = torch.nn.functional.cross_entropy(net.logits(features).flatten(0, 1), ids[1:].flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert distinct_units(net)["distinct_units"] == 1 and distinct_units(net)["rank_w_hh"] == 1
    initialise("xavier")(net)
    assert distinct_units(net)["distinct_units"] == 6 and distinct_units(net)["rank_w_hh"] == 6


def test_lecture_dropout_scaling_equals_inverted_dropout():
    from nextword.experiments.dropout import compare_scalings
    from nextword.experiments.neural_common import Data
    from nextword.neural.recurrent import RecurrentConfig, build_net

    torch.manual_seed(0)
    net = build_net(RecurrentConfig("lstm", 9, 6, 6, 1, dropout=0.65, tie=False))
    data = Data("tiny", None, np.arange(3, 9), np.array([2, 3, 4, 5, 6, 7, 8] * 5), np.arange(3, 9))
    state = torch.get_rng_state()
    s = compare_scalings(net, data, 0.65, tokens=30)
    assert torch.equal(torch.get_rng_state(), state)                 # the global RNG untouched
    assert 0 < s["kept_share"] < 1
    assert s["train_max_relative_difference"] < 1e-6 and s["test_max_relative_difference"] < 1e-6


def test_saved_memory_grows_with_the_segment():
    from nextword.experiments.bptt_length import saved_bytes
    from nextword.experiments.neural_common import SMOKE, prepare, recurrent_config, train_config
    from nextword.neural.recurrent import build_net

    data = prepare("smoke")
    config = train_config(SMOKE, 0)
    sizes = [saved_bytes(build_net(recurrent_config("lstm", data, SMOKE)), config, data, T) for T in (4, 8, 16)]
    # activations (T, B, ·) double with T; the fused LSTM's workspace grows in rounded blocks
    assert sizes[0] < sizes[1] < sizes[2]


def test_sampling_step_without_samples_is_the_library_step():
    """Own-sample share 0: the step is teacher forcing, the same loss as train_step's."""
    from nextword.experiments.neural_common import SMOKE, library_step, prepare, recurrent_config
    from nextword.experiments.teacher_forcing import sampling_step
    from nextword.neural.batching import batchify
    from nextword.neural.recurrent import build_net
    from nextword.neural.train import full_softmax_loss

    data = prepare("smoke")
    batch = batchify(data.train[:41], 4)
    values = []
    for step in (library_step, sampling_step(lambda f: 0.0)):
        torch.manual_seed(0)
        net = build_net(recurrent_config("lstm", data, SMOKE))
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
        state = net.initial_state(4)
        for i in range(2):
            value, state = step(net, optimizer, batch[i * 4: i * 4 + 4], batch[i * 4 + 1: i * 4 + 5],
                                state, full_softmax_loss, 0.0, 1.0)
            values.append(value)
    assert values[:2] == pytest.approx(values[2:], rel=1e-6)
