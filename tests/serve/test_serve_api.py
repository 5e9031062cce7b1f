"""The explorer's JSON API: the library's numbers for every model kind, every limit, every kind of
malformed request (a 4xx naming the reason, never a 500)."""
from __future__ import annotations

import asyncio
import math
import time

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from nextword.evaluate import evaluate
from nextword.generate import SamplingConfig, sample_ids, sampling_distribution
from nextword.ngram import AddDelta, NgramModel
from nextword.serve import schemas
from nextword.text.vocabulary import BOS_ID, EOS_ID

from serve_fixtures import make_app

KINDS = {"kn3": "ngram", "kn3.arpa": "ngram", "add-half": "ngram", "lstm": "lstm",
         "window": "window", "numpy-rnn": "numpy-rnn"}
TEXTS = ["", "the", "the cat", "the cat sat on the", "a zebra sat on"]


def library_next(model, tokens):
    return model.next_logprobs(model.state_for(np.array([BOS_ID, *model.vocab.encode(tokens)])))


def test_models_lists_every_model_with_kind_vocabulary_and_order(client, models):
    data = client.get("/api/models").json()
    assert [m["name"] for m in data["models"]] == list(models)
    for info in data["models"]:
        model = models[info["name"]]
        assert info["kind"] == KINDS[info["name"]]
        assert info["vocabulary"] == len(model.vocab)
        assert info["order"] == (getattr(model, "order", None) if KINDS[info["name"]] == "ngram"
                                 else None)
    assert data["models"][0]["architecture"] == "3-gram modified-kneser-ney"
    assert data["limits"]["max_k"] == schemas.MAX_K


@pytest.mark.parametrize("text", TEXTS)
def test_next_is_the_library_next_logprobs_for_every_kind(client, models, text):
    data = client.post("/api/next", json={"text": text, "k": 7}).json()
    assert data["tokens"] == text.split()
    for entry in data["models"]:
        model = models[entry["name"]]
        expected = library_next(model, text.split())
        order = np.lexsort((np.arange(len(expected)), -expected))[:7]
        assert [c["word"] for c in entry["top"]] == [model.vocab.tokens[i] for i in order]
        assert [c["prob"] for c in entry["top"]] == pytest.approx(np.exp(expected[order]),
                                                                  rel=1e-12)
        assert entry["eos_prob"] == pytest.approx(math.exp(expected[EOS_ID]), rel=1e-12)
        assert entry["oov"] == (["zebra"] if "zebra" in text else [])
        assert (entry["backoff"] is not None) == (KINDS[entry["name"]] == "ngram")


def test_next_with_k_covering_the_vocabulary_sums_to_one_without_bos(client):
    """The tiny vocabulary: <unk> <s> </s> + 10 words = 13 entries, 12 outcomes (<s> excluded)."""
    data = client.post("/api/next", json={"text": "the cat", "k": 50}).json()
    for entry in data["models"]:
        assert len(entry["top"]) == 12
        assert "<s>" not in [c["word"] for c in entry["top"]]
        assert sum(c["prob"] for c in entry["top"]) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("text", ["the cat sat", "a zebra ran in the park", ""])
def test_score_is_what_evaluate_computes(client, models, text):
    tokens = text.split()
    data = client.post("/api/score", json={"text": text}).json()
    assert data["tokens"] == tokens
    for entry in data["models"]:
        model = models[entry["name"]]
        result = evaluate(model, [tokens])
        library = next(iter(model.sentence_logprobs([model.vocab.encode(tokens)])))
        assert [t["token"] for t in entry["tokens"]] == [*tokens, "</s>"]
        assert [t["logprob"] for t in entry["tokens"]] == pytest.approx(library.tolist(), rel=1e-12)
        assert entry["perplexity"] == pytest.approx(result.perplexity, rel=1e-12)
        assert entry["perplexity_excluding_oov"] == pytest.approx(
            result.perplexity_excluding_oov, rel=1e-12)
        assert [t["oov"] for t in entry["tokens"]] == [t == "zebra" for t in [*tokens, "</s>"]]
        # rank: 1 + the number of outcomes more likely at that position, from next_logprobs
        for i, token in enumerate(entry["tokens"]):
            dist = library_next(model, tokens[:i])
            target = EOS_ID if i == len(tokens) else model.vocab.encode([tokens[i]])[0]
            assert token["rank"] == 1 + int((dist > dist[target]).sum())
            best = np.lexsort((np.arange(len(dist)), -dist))[:5]
            assert [a["word"] for a in token["alternatives"]] == \
                [model.vocab.tokens[j] for j in best]


def test_score_by_hand_for_an_add_delta_bigram():
    """<s> a b </s> / <s> a c </s>, δ = 1/2, |V| = 5 (a b c </s> <unk>):
    P(a | <s>) = (2 + ½)/(2 + 5/2) = 5/9, P(b | a) = (1 + ½)/(2 + 5/2) = 1/3,
    P(</s> | b) = (1 + ½)/(1 + 5/2) = 3/7; rank of a after <s>: 1 (the others get ½/4.5)."""
    lm = NgramModel.fit([["a", "b"], ["a", "c"]], order=2, estimator=AddDelta(0.5))
    client = TestClient(make_app({"add": lm}))
    data = client.post("/api/score", json={"text": "a b"}).json()["models"][0]
    assert [t["prob"] for t in data["tokens"]] == pytest.approx([5 / 9, 1 / 3, 3 / 7])
    assert [t["rank"] for t in data["tokens"]] == [1, 1, 1]
    assert data["perplexity"] == pytest.approx((5 / 9 * 1 / 3 * 3 / 7) ** (-1 / 3))
    top = client.post("/api/next", json={"text": "a", "k": 3}).json()["models"][0]
    assert [c["word"] for c in top["top"]] == ["b", "c", "<unk>"]   # ties: lower id first
    assert [c["prob"] for c in top["top"]] == pytest.approx([1 / 3, 1 / 3, 0.5 / 4.5])


def test_backoff_path_reported_for_the_top_words(client, models):
    entry = client.post("/api/next", json={"text": "the cat", "k": 5}).json()["models"][0]
    path = entry["backoff"]
    assert path["rule"] == "backoff"
    assert [s["order"] for s in path["steps"]] == [3, 2, 1]
    assert path["steps"][0]["context"] == ["the", "cat"]
    assert path["steps"][1]["context"] == ["cat"] and path["steps"][2]["context"] == []
    assert [a["word"] for a in path["answers"]] == [c["word"] for c in entry["top"]]
    assert [a["prob"] for a in path["answers"]] == pytest.approx([c["prob"] for c in entry["top"]])
    discounts = models["kn3"].estimator["discounts"]
    assert [s["discount"] for s in path["steps"]] == [discounts[2], discounts[1], discounts[0]]
    # "sat" follows "the cat" in training: the 3-gram answers
    assert next(a for a in path["answers"] if a["word"] == "sat")["order"] == 3


@pytest.mark.parametrize("name", ["kn3", "lstm", "numpy-rnn"])
def test_sample_is_what_generate_draws(client, models, name):
    model = models[name]
    config = SamplingConfig(temperature=0.8, top_k=6, top_p=0.95, max_length=20)
    for seed in (0, 1, 2):
        expected = sample_ids(model, np.random.default_rng(seed), config)
        data = client.post("/api/sample", json={"model": name, "temperature": 0.8, "top_k": 6,
                                                "top_p": 0.95, "seed": seed, "max_length": 20,
                                                "show": 20}).json()
        words = [w["word"] for w in data["words"]]
        assert words[: len(expected)] == [model.vocab.tokens[i] for i in expected]
        assert data["ended"] == (len(expected) < 20) == (words[-1] == "</s>")
        # the first word's distribution is the filtered one generate samples from
        dist = sampling_distribution(model.next_logprobs(model.initial_state()), config)
        shown = data["words"][0]["distribution"]
        assert len(shown) == np.count_nonzero(dist)
        assert [d["prob"] for d in shown] == pytest.approx(np.sort(dist[dist > 0])[::-1].tolist())
        assert data["words"][0]["prob"] == pytest.approx(dist[model.vocab.index[words[0]]])


def test_sample_step_by_step_continues_the_text(client):
    data = client.post("/api/sample", json={"model": "kn3", "text": "the cat", "steps": 1,
                                            "seed": 5}).json()
    assert len(data["words"]) == 1
    word = data["words"][0]
    assert word["model_prob"] == pytest.approx(
        next(c["prob"] for c in client.post("/api/next", json={"text": "the cat", "k": 50})
             .json()["models"][0]["top"] if c["word"] == word["word"]))


# ---- limits and malformed requests ------------------------------------------------------
@pytest.mark.parametrize("path, body, reason", [
    ("/api/next", {"text": "a " * 501}, "at most 1000 characters"),
    ("/api/score", {"text": "x" * 1001}, "at most 1000 characters"),
    ("/api/next", {"text": "a", "k": 0}, "greater than or equal to 1"),
    ("/api/next", {"text": "a", "k": 51}, "less than or equal to 50"),
    ("/api/next", {"text": "a", "k": "many"}, "k: Input should be a valid number"),
    ("/api/next", {"text": "a", "k": True}, "k: Input should be a valid number"),
    ("/api/next", {"text": "a", "k": 2.5}, "valid integer"),
    ("/api/next", {"text": 3}, "valid string"),
    ("/api/next", {"text": "a", "path": "/etc/passwd"}, "Extra inputs are not permitted"),
    ("/api/next", [], "valid dictionary"),
    ("/api/score", {}, "Field required"),
    ("/api/sample", {"model": ""}, "Input should be 'kn3', 'kn3.arpa'"),
    ("/api/sample", {"model": "kn3", "steps": 101}, "less than or equal to 100"),
    ("/api/sample", {"model": "kn3", "max_length": 0}, "greater than or equal to 1"),
    ("/api/sample", {"model": "kn3", "max_length": 101}, "less than or equal to 100"),
    ("/api/sample", {"model": "kn3", "temperature": 0}, "greater than or equal to 0.01"),
    ("/api/sample", {"model": "kn3", "top_p": 1.5}, "less than or equal to 1"),
    ("/api/sample", {"model": "kn3", "top_p": 0}, "greater than 0"),
    ("/api/sample", {"model": "kn3", "top_k": 0}, "greater than or equal to 1"),
    ("/api/sample", {"model": "kn3", "seed": -1}, "greater than or equal to 0"),
    ("/api/sample", {"model": "kn3", "show": 21}, "less than or equal to 20"),
    ("/api/sample", {"model": "/work/models/x"}, "Input should be 'kn3', 'kn3.arpa'"),
])
def test_limits_and_malformed_requests_are_422_with_the_reason(client, path, body, reason):
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert reason in str(response.json()["detail"])


@pytest.mark.parametrize("content", [b"{", b"not json", b'{"text": "a", "k": NaN}', b"\xff\xfe"])
def test_a_body_that_is_not_json_is_422(client, content):
    response = client.post("/api/next", content=content,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "detail" in response.json()


def test_the_longest_text_allowed_is_answered(client):
    text = ("the cat sat on the mat " * 50)[:1000]
    assert client.post("/api/score", json={"text": text}).status_code == 200
    assert client.post("/api/next", json={"text": text, "k": 50}).status_code == 200


def test_request_rate_is_capped_per_client_with_429(models):
    """2 requests per second, bursts of 3: the 4th at once is refused, then one passes again."""
    client = TestClient(make_app(models, ["kn3"], rate=2.0, burst=3))
    codes = [client.post("/api/next", json={"text": "the"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/models")
    assert refused.status_code == 429
    assert "at most 2 per second" in refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert client.get("/").status_code == 200             # the page itself is not counted
    time.sleep(0.6)
    assert client.get("/api/models").status_code == 200


def test_no_request_reaches_a_file_outside_the_page(client):
    for path in ["/static/../conftest.py", "/static/%2e%2e/app.py", "/static/../../errors.py"]:
        assert client.get(path).status_code == 404
    document = client.get("/openapi.json").json()
    for schema in document["components"]["schemas"].values():
        assert not {"path", "file", "model_path"} & set(schema.get("properties", {}))


def test_page_and_assets_are_served_from_the_package_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert "http" not in page.text.replace('"/docs"', "")       # no CDN: nothing from elsewhere
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    for asset in ("app.js", "app.css"):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200 and "http://" not in response.text \
            and "https://" not in response.text


class SlowModel:
    """Wraps a model; each next-word distribution takes `delay` seconds of blocking work."""

    def __init__(self, model, delay):
        self._model, self._delay = model, delay

    def __getattr__(self, name):
        return getattr(self._model, name)

    def next_logprobs(self, state):
        time.sleep(self._delay)
        return self._model.next_logprobs(state)


def test_slow_model_work_does_not_block_other_requests(models):
    """The endpoints run in the threadpool: while one /api/next is stuck in model calls
    (3 distributions: after <s>, the, dog; 0.4 s each), /api/models is answered at once."""
    app = make_app({"slow": SlowModel(models["lstm"], 0.4)})

    async def both():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            started = time.perf_counter()
            slow = asyncio.create_task(http.post("/api/next", json={"text": "the dog"}))
            await asyncio.sleep(0.1)
            quick = await http.get("/api/models")
            quick_at = time.perf_counter() - started
            await slow
            return quick.status_code, quick_at, time.perf_counter() - started

    status, quick_at, slow_at = asyncio.run(both())
    assert status == 200
    assert quick_at < 0.6 < slow_at
