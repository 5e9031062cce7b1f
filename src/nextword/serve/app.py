"""The explorer's web app: a FastAPI app over models loaded once, before it starts.

No request can name a file: the models are the ones given to `create_app`. The model work is
CPU-bound NumPy/PyTorch, so every API endpoint is a plain `def`, which FastAPI runs in its
threadpool: the event loop stays free to answer other requests meanwhile. Limits (see
schemas.py) are checked by pydantic before any model runs (422 naming the field); the request
rate per client is a token bucket (429 with Retry-After).
"""
from __future__ import annotations

import math
import threading
import time
from importlib import resources
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import Field, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException

from nextword.errors import NextwordError
from nextword.generate import SamplingConfig
from nextword.serve import schemas
from nextword.serve.explorer import Explorer

STATIC = resources.files("nextword.serve") / "static"
PROBLEMS = {422: {"model": schemas.Problem, "description": "Malformed request or over a limit"},
            429: {"model": schemas.Problem, "description": "Too many requests"}}
# the page loads nothing from elsewhere, and nothing may make it
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class RateLimiter:
    """A token bucket per client address: `rate` requests per second on average, bursts of up
    to `burst`. rate = 0 turns it off."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def wait_needed(self, client: str) -> float:
        """0 if the request may go ahead (a token is taken), else seconds until one is free."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                if len(self._buckets) > 10_000:        # forget idle clients
                    self._buckets = {client: self._buckets[client]}
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate


def create_app(explorer: Explorer, tokenizer: str = "whitespace", rate: float = 60.0,
               burst: int = 120) -> FastAPI:
    """The app over `explorer`'s models. `rate`/`burst`: requests per second per client."""
    app = FastAPI(title="nextword explorer", version="1",
                  description="Next-word distributions, per-token scores and samples of the "
                              "served models; see docs/serve.md.")
    limiter = RateLimiter(rate, burst)

    @app.middleware("http")
    async def limits_and_headers(request: Request, call_next):
        if request.url.path.startswith("/api/"):
            client = request.client.host if request.client else "?"
            wait = limiter.wait_needed(client)
            if wait > 0:
                return JSONResponse(
                    {"detail": f"too many requests: at most {rate:g} per second "
                               f"(bursts of {burst}); retry in {wait:.2f} s"},
                    status_code=429, headers={"Retry-After": str(max(1, math.ceil(wait)))})
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        # FastAPI's own answer echoes the input, which may hold a NaN that JSON cannot carry
        # (a 500); the field and the reason are what the client needs
        return JSONResponse({"detail": [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""),
                                         "type": e.get("type", "")} for e in error.errors()]},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        # a body that cannot be parsed at all is malformed like any other: 422, not 400
        status = 422 if error.status_code == 400 else error.status_code
        return JSONResponse({"detail": error.detail}, status_code=status,
                            headers=getattr(error, "headers", None))

    @app.exception_handler(NextwordError)
    async def nextword_error(request: Request, error: NextwordError):
        return JSONResponse({"detail": str(error)}, status_code=422)

    def tokens_of(text: str) -> list[str]:
        return explorer.tokenize(text)

    @app.get("/api/models", response_model=schemas.ModelsResponse, responses=PROBLEMS)
    def models() -> dict:
        """The served models: name, kind, vocabulary size, order or architecture; the limits."""
        return {"tokenizer": tokenizer,
                "models": [{"name": m.name, "kind": m.kind, "vocabulary": len(m.vocab),
                            "order": getattr(m.model, "order", None) if m.is_ngram else None,
                            "architecture": m.architecture, "normalised": m.model.normalised}
                           for m in explorer.models],
                "limits": {"max_text_chars": schemas.MAX_TEXT_CHARS, "max_k": schemas.MAX_K,
                           "max_sample_length": schemas.MAX_SAMPLE_LENGTH,
                           "requests_per_second": int(rate), "burst": burst}}

    @app.post("/api/next", response_model=schemas.NextResponse, responses=PROBLEMS)
    def next_words(request: schemas.NextRequest) -> dict:
        """Per model, the k most likely next words after the text (a sentence start), P(</s>),
        and for n-gram models the backoff path of each of those words."""
        tokens = tokens_of(request.text)
        return {"tokens": tokens, "models": [m.next(tokens, request.k) for m in explorer.models]}

    @app.post("/api/score", response_model=schemas.ScoreResponse, responses=PROBLEMS)
    def score(request: schemas.ScoreRequest) -> dict:
        """Per model, each token's log-probability, rank and top alternatives (the closing </s>
        included), and the perplexity of the text as `nextword eval` computes it."""
        tokens = tokens_of(request.text)
        return {"tokens": tokens, "models": [m.score(tokens) for m in explorer.models]}

    # the served names, as an enum in the OpenAPI document
    names = tuple(m.name for m in explorer.models)
    SampleRequest = create_model("SampleRequest", __base__=schemas.SampleRequest,
                                 model=(Literal[names], Field(names[0], description=
                                        "Name of a served model (see /api/models).")))

    def sample(request) -> dict:
        """Words drawn from one model after the text, each with the distribution it came from."""
        model = explorer.by_name(request.model)          # one of the names: validated
        config = SamplingConfig(request.temperature, request.top_k, request.top_p,
                                request.max_length)
        return model.sample(tokens_of(request.text), config, request.seed, request.steps,
                            request.show)

    sample.__annotations__["request"] = SampleRequest    # a class made here, not a name to resolve
    app.post("/api/sample", response_model=schemas.SampleResponse, responses=PROBLEMS)(sample)

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(str(STATIC / "index.html"))

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app
