"""A property-based run of the API against its own OpenAPI document (schemathesis): generated
requests, valid and malformed, never get a 5xx, and every answer matches its documented schema
and status codes. Kept short (a few dozen examples per operation).

The app is built at import (schemathesis parametrizes from a schema object): an n-gram model
fitted on the tiny corpus and an untrained LSTM, both built in milliseconds."""
from __future__ import annotations

import schemathesis
import torch
from hypothesis import HealthCheck, settings

from nextword.neural.model import NeuralLM
from nextword.neural.recurrent import RecurrentConfig, build_net
from nextword.ngram import NgramModel
from nextword.ngram.kneser_ney import ModifiedKneserNey
from nextword.text.vocabulary import Vocabulary

from serve_fixtures import SENTENCES, make_app

torch.manual_seed(0)
VOCAB = Vocabulary.build(SENTENCES)
MODELS = {
    "kn3": NgramModel.fit(SENTENCES, 3, ModifiedKneserNey(discount_fallback=True)),
    "lstm": NeuralLM(build_net(RecurrentConfig("lstm", len(VOCAB), 8, 8, 1, dropout=0.0)), VOCAB),
}
schema = schemathesis.openapi.from_asgi("/openapi.json", make_app(MODELS))


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case):
    case.call_and_validate()
