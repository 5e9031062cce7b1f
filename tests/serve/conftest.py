"""Tiny models of every kind, trained once per test session, and the explorer app over them."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from nextword.model import load_model

from serve_fixtures import SENTENCES, fit_by_heart, make_app


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory):
    """name -> saved path: a 3-gram modified Kneser-Ney folder, the same as an ARPA file, an
    add-δ bigram (the "uniform" rule), an LSTM, a window model and a NumPy RNN."""
    import torch

    from nextword.neural.model import NeuralLM
    from nextword.neural.recurrent import RecurrentConfig, build_net
    from nextword.neural.window import WindowConfig
    from nextword.ngram import AddDelta, NgramModel
    from nextword.ngram.arpa import write_arpa
    from nextword.ngram.kneser_ney import ModifiedKneserNey
    from nextword.reference.train import TrainConfig as NumpyConfig, train_numpy_rnn
    from nextword.text.vocabulary import Vocabulary

    root = tmp_path_factory.mktemp("models")
    kn = NgramModel.fit(SENTENCES, order=3, estimator=ModifiedKneserNey(discount_fallback=True))
    kn.save(root / "kn3")
    write_arpa(kn, root / "kn3.arpa")
    NgramModel.fit(SENTENCES, order=2, estimator=AddDelta(0.5)).save(root / "add-half")
    vocab = Vocabulary.build(SENTENCES)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        for name, config in [
            ("lstm", RecurrentConfig("lstm", len(vocab), 16, 16, 1, dropout=0.0, tie=False)),
            ("window", WindowConfig(len(vocab), window=3, embedding_dim=16, hidden_dim=32)),
        ]:
            NeuralLM(fit_by_heart(build_net(config), vocab), vocab).save(root / name)
    finally:
        torch.set_num_threads(before)
    train_numpy_rnn(SENTENCES, NumpyConfig(embedding_dim=8, hidden_dim=8, epochs=1)).save(
        root / "numpy-rnn")
    return {name: root / name for name in ("kn3", "kn3.arpa", "add-half", "lstm", "window",
                                           "numpy-rnn")}


@pytest.fixture(scope="session")
def models(model_dirs):
    return {name: load_model(path) for name, path in model_dirs.items()}


@pytest.fixture(scope="session")
def app(models):
    return make_app(models)


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_server(models):
    """A real uvicorn server on a free loopback port, in a thread: (base URL, app)."""
    import uvicorn

    app = make_app(models, ["kn3", "lstm", "add-half"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", app
    server.should_exit = True
    thread.join(10)
    sock.close()
