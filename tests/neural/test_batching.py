import numpy as np
import pytest
import torch

from nextword.errors import NextwordError
from nextword.neural.batching import batchify, input_ids, num_segments, segments, token_stream


def test_token_stream_starts_with_eos_and_closes_each_line():
    """Lines [5, 6] and [] -> </s> 5 6 </s> </s>: 2 words + 2 </s> = 4 targets (n-gram count)."""
    stream = token_stream([np.array([5, 6]), np.array([], dtype=np.int32)])
    assert stream.tolist() == [2, 5, 6, 2, 2]
    assert len(stream) - 1 == (2 + 1) + (0 + 1)


def test_batchify_matches_the_diagram():
    """24 tokens a..x (ids 0..23) in 4 streams of 6, y z (24, 25) dropped."""
    data = batchify(np.arange(26), 4)
    assert data.shape == (6, 4)
    assert data[:, 0].tolist() == [0, 1, 2, 3, 4, 5]          # a..f
    assert data[0].tolist() == [0, 6, 12, 18]                 # a g m s


def test_segments_shift_targets_by_one_and_cover_every_row():
    data = batchify(np.arange(24), 4)                          # (6, 4)
    pieces = list(segments(data, 2))
    assert num_segments(data, 2) == len(pieces) == 3           # ceil((6 - 1) / 2)
    assert [x.shape[0] for x, _ in pieces] == [2, 2, 1]
    for x, y in pieces:
        assert torch.equal(y, x + 1)                           # stream b is consecutive ids
    inputs = torch.cat([x for x, _ in pieces])
    assert torch.equal(inputs, data[:-1])                      # each input row once, in order
    assert [x[0, 0].item() for x, _ in segments(data, 2, start=1)] == [2, 4]


def test_bos_is_read_as_eos():
    assert input_ids(np.array([1, 2, 7])).tolist() == [2, 2, 7]
    assert input_ids(torch.tensor([1, 5])).tolist() == [2, 5]


def test_bad_batching_arguments():
    with pytest.raises(NextwordError, match="batch size"):
        batchify(np.arange(10), 0)
    with pytest.raises(NextwordError, match="too short"):
        batchify(np.arange(5), 4)
    with pytest.raises(NextwordError, match="bptt"):
        list(segments(batchify(np.arange(10), 2), 0))
