"""Requests and responses of the explorer's JSON API (pydantic: each request is validated
before any model runs, a malformed one is a 422 naming the field, and the OpenAPI document at
/openapi.json is generated from these classes).

Probabilities are plain (0..1); `logprob` is a natural log, null where the probability is 0.
"""
from __future__ import annotations

from typing import get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The limits every request is held to (documented in docs/serve.md and in the OpenAPI document)
MAX_TEXT_CHARS = 1000       # typed text; a whitespace-separated token is >= 1 char + 1 space
MAX_K = 50                  # next words returned per model
MAX_SAMPLE_LENGTH = 100     # words drawn by one /api/sample request
MAX_SHOWN = 20              # entries of each sampling distribution returned
MAX_SEED = 2**32 - 1


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")      # a misspelt field is an error, not ignored

    @model_validator(mode="before")
    @classmethod
    def numbers_are_json_numbers(cls, data):
        """JSON Schema's integer/number: 3 and 3.0 are integers, but true and "3" are not
        numbers (pydantic's lax mode would take them; its strict mode would refuse 3.0)."""
        if isinstance(data, dict):
            for name, value in data.items():
                field = cls.model_fields.get(name)
                if field is None or value is None or not _numeric(field.annotation):
                    continue
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"{name}: Input should be a valid number")
        return data


def _numeric(annotation) -> bool:
    return annotation in (int, float) or any(a in (int, float) for a in get_args(annotation))


# ---- requests -----------------------------------------------------------------------------
class NextRequest(Strict):
    text: str = Field("", max_length=MAX_TEXT_CHARS, description="The start of a sentence.")
    k: int = Field(10, ge=1, le=MAX_K, description="How many next words per model.")


class ScoreRequest(Strict):
    text: str = Field(..., max_length=MAX_TEXT_CHARS, description="The start of a sentence.")


class SampleRequest(Strict):
    model: str = Field(..., description="Name of a served model (see /api/models); the app "
                       "narrows this to the served names.")
    text: str = Field("", max_length=MAX_TEXT_CHARS, description="Words to continue.")
    temperature: float = Field(1.0, ge=0.01, le=100, description="< 1 sharpens, > 1 flattens.")
    top_k: int | None = Field(None, ge=1, le=1_000_000, description="Keep the k most likely.")
    top_p: float | None = Field(None, gt=0, le=1, description="Keep the smallest set reaching p.")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Same seed, same words.")
    steps: int | None = Field(None, ge=1, le=MAX_SAMPLE_LENGTH,
                              description="Words to draw; null: until </s>.")
    max_length: int = Field(MAX_SAMPLE_LENGTH, ge=1, le=MAX_SAMPLE_LENGTH,
                            description="Stop after this many words when drawing until </s>.")
    show: int = Field(10, ge=1, le=MAX_SHOWN,
                      description="Entries of each sampling distribution to return.")


# ---- responses ----------------------------------------------------------------------------
class ModelInfo(BaseModel):
    name: str
    kind: str = Field(description="ngram, lstm, gru, rnn, window, numpy-rnn, ...")
    vocabulary: int
    order: int | None = Field(description="n of an n-gram model, else null.")
    architecture: str
    normalised: bool = Field(description="False for scores that are not probabilities.")


class ModelsResponse(BaseModel):
    tokenizer: str
    models: list[ModelInfo]
    limits: dict[str, int]


class WordProb(BaseModel):
    word: str
    prob: float


class Candidate(WordProb):
    logprob: float | None


class BackoffStep(BaseModel):
    order: int
    context: list[str] | None = Field(description="The order-1 words conditioned on; null when "
                                      "they would reach back before <s>.")
    status: str = Field(description="stored, unseen or before-start.")
    gamma: float | None = Field(description="Backoff weight γ(context) applied when this order "
                                "does not hold the word (null: none applies).")
    discount: list[float] | float | None = Field(description="The estimator's discounts of "
                                                 "this order (D1, D2, D3+ for Kneser-Ney).")


class BackoffAnswer(BaseModel):
    word: str
    order: int = Field(description="The order that answered.")
    stored: bool = Field(description="Whether that order stores (context, word).")
    prob: float


class Backoff(BaseModel):
    rule: str = Field(description="backoff: γ(h)·P(w|h'); uniform: γ(h)/|V| (add-δ).")
    steps: list[BackoffStep]
    answers: list[BackoffAnswer]


class ModelNext(BaseModel):
    name: str
    top: list[Candidate]
    eos_prob: float
    oov: list[str] = Field(description="Typed tokens outside this model's vocabulary.")
    backoff: Backoff | None


class NextResponse(BaseModel):
    tokens: list[str]
    models: list[ModelNext]


class ScoredToken(BaseModel):
    token: str
    logprob: float | None
    prob: float
    rank: int = Field(description="1 = the model's most likely outcome at this position.")
    oov: bool
    alternatives: list[WordProb]


class ModelScore(BaseModel):
    name: str
    tokens: list[ScoredToken]
    cross_entropy: float | None
    perplexity: float | None
    perplexity_excluding_oov: float | None
    normalised: bool


class ScoreResponse(BaseModel):
    tokens: list[str]
    models: list[ModelScore]


class SampledWord(BaseModel):
    word: str
    prob: float = Field(description="Its probability in the distribution it was drawn from.")
    model_prob: float = Field(description="Its probability under the model itself.")
    distribution: list[WordProb]


class SampleResponse(BaseModel):
    name: str
    words: list[SampledWord]
    ended: bool = Field(description="True when </s> was drawn.")


class Problem(BaseModel):
    detail: str | list
