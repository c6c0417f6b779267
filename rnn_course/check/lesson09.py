"""Checks for lesson 09's exercises: bits_per_char, make_streams, detach_state, sample_next."""

from __future__ import annotations

import math
import re

import torch
from torch.nn import functional as F  # noqa: N812

from ..settings import get_device
from ._core import (
    CheckFailed,
    call,
    exercise,
    expect_close,
    expect_dtype,
    expect_float,
    expect_sequence,
    expect_tensor,
    format_pair,
    type_name,
)

# ----------------------------------------------------------------------------- bits_per_char


def _bits_per_char(logits, targets):
    """Mean of -log2 p(target) over every position: logits (batch, time, vocab), targets (batch, time)."""
    nats = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    return nats.item() / math.log(2)


def _bits_mistakes(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """The value each plausible mistake gives on these inputs, by its description."""
    vocab = logits.shape[-1]
    flat_logits, flat_targets = logits.reshape(-1, vocab), targets.reshape(-1)
    log_p = flat_logits.log_softmax(-1).gather(1, flat_targets[:, None])[:, 0]
    nats = float(-log_p.mean())
    ln2 = math.log(2)
    mistakes = {
        "this is the loss in nats (natural log); bits = nats / ln 2": nats,
        "this is the perplexity, e^loss; bits per character = loss / ln 2": math.exp(nats),
        "this is log2 of the loss; to change units, divide the loss by ln 2 (it is -log2 p "
        "averaged, not the log of an average)": math.log2(nats),
        "this is loss * ln 2: divide by ln 2, do not multiply": nats * ln2,
        "this is the log of the mean probability of the targets; average -log2 p over the "
        "positions instead (the mean of the logs)": -math.log2(float(log_p.exp().mean())),
        "this is the sum over every position; average over the batch * time positions": float(
            -log_p.sum()
        )
        / ln2,
        "this is the sum per sequence (summed over time, averaged over the batch); average over "
        "every character": float(-log_p.sum()) / ln2 / logits.shape[0],
        "only the last time step's loss: a language model predicts at every step, so average "
        "over every position": float(F.cross_entropy(logits[:, -1], targets[:, -1]) / ln2),
        "the logits went through a softmax before the cross-entropy, which applies its own "
        "(log-)softmax: pass the raw logits": float(
            F.cross_entropy(flat_logits.softmax(-1), flat_targets) / ln2
        ),
        "nll_loss expects log-probabilities and got raw logits: use cross_entropy, or "
        "log_softmax first": float(F.nll_loss(flat_logits, flat_targets)) / ln2,
        "the sign is wrong: bits per character are -log2 p, a positive number": -nats / ln2,
        "the log base is 10 (nats / ln 10, or log10 of the probabilities): bits are log base "
        "2, nats / ln 2": nats / math.log(10),
        "this is in bits divided by ln 2 once more: -log2 p is already in bits, so convert "
        "once (either log2, or natural log / ln 2)": nats / ln2 / ln2,
    }
    for dim, name in ((0, "the batch"), (1, "time")):
        if logits.shape[dim] > 1:
            log_p_wrong_axis = logits.log_softmax(dim).gather(-1, targets[..., None])
            mistakes[
                f"the softmax ran over dimension {dim} ({name}): a prediction is a distribution "
                "over the vocabulary, log_softmax(dim=-1) (or flatten for cross_entropy)"
            ] = float(-log_p_wrong_axis.mean()) / ln2
    if logits.shape[1] > 1:
        shifted = F.cross_entropy(logits[:, :-1].reshape(-1, vocab), targets[:, 1:].reshape(-1))
        mistakes[
            "the targets were shifted one step: here targets[:, t] is already the character "
            "that logits[:, t] predicts, so compare logits[:, t] with targets[:, t]"
        ] = float(shifted) / ln2
        behind = F.cross_entropy(logits[:, 1:].reshape(-1, vocab), targets[:, :-1].reshape(-1))
        mistakes[
            "the logits and targets are misaligned by one step (logits[:, 1:] against "
            "targets[:, :-1]): compare logits[:, t] with targets[:, t]"
        ] = float(behind) / ln2
    if logits.shape[1] == vocab:  # cross_entropy runs on (batch, time, vocab) but reads dim 1
        mistakes[
            "cross_entropy read the classes from dimension 1 (time): flatten to "
            "(batch * time, vocab) and (batch * time,), or pass logits.transpose(1, 2)"
        ] = float(F.cross_entropy(logits, targets)) / ln2
    return mistakes


@exercise(
    reference=_bits_per_char,
    hints=[
        (
            r"Expected target size|Expected input batch_size",
            "F.cross_entropy wants the classes in dimension 1: flatten logits to (batch * time, "
            "vocab) and targets to (batch * time,), or pass logits.transpose(1, 2)",
        ),
    ],
)
def bits_per_char(answer) -> int:
    """`bits_per_char(logits, targets) -> float`: the mean of -log2 p(target) over every position.

    logits (batch, time, vocab) float32; targets (batch, time) int64; in the last case neither is
    contiguous (lesson 09 scores slices of a model's output).
    """
    g = torch.Generator().manual_seed(91)
    cases = [
        (2, 5, 7, 2.0),  # time != vocab: unflattened cross_entropy raises
        (3, 6, 6, 3.0),  # time == vocab: unflattened cross_entropy runs and is wrong
        (1, 9, 11, 0.5),  # a batch of one, near-uniform predictions
        (4, 8, 5, 1.5),  # as lesson 09 scores: not contiguous, outside any graph
    ]
    for batch, time, vocab, scale in cases:
        logits = (scale * torch.randn(batch, time, vocab, generator=g)).requires_grad_()
        targets = torch.randint(0, vocab, (batch, time), generator=g)
        if batch == 4:  # same values, time-major memory: .view(-1, ...) cannot flatten them
            logits = logits.detach().transpose(0, 1).contiguous().transpose(0, 1)
            targets = targets.T.contiguous().T
        got = expect_float(
            call(answer, logits, targets),
            f"bits_per_char for logits {tuple(logits.shape)} and targets {tuple(targets.shape)}",
        )
        with torch.no_grad():
            expected = _bits_per_char(logits, targets)
            if abs(got - expected) <= 1e-4 * (1 + abs(expected)):
                continue
            for description, value in _bits_mistakes(logits, targets).items():
                if abs(got - value) <= 1e-4 * (1 + abs(value)):
                    raise CheckFailed(description)
        shown_got, shown_expected = format_pair(got, expected)
        raise CheckFailed(
            f"bits_per_char for logits {tuple(logits.shape)} is wrong: got {shown_got}, expected "
            f"{shown_expected} (the mean over every (batch, time) position of -log2 of the "
            "probability the softmax gives the target)"
        )
    return len(cases)


# ----------------------------------------------------------------------------- make_streams


def _make_streams(ids, n_streams):
    """(length,) -> (n_streams, length // n_streams): contiguous pieces, the leftover dropped."""
    stream_len = len(ids) // n_streams
    return ids[: n_streams * stream_len].reshape(n_streams, stream_len)


@exercise(
    reference=_make_streams,
    hints=[
        (
            r"is invalid for input of size",
            "len(ids) is not a multiple of n_streams: cut the ids left over at the end first, "
            "ids[: n_streams * stream_len]",
        ),
        (
            r"stack expects each tensor to be equal size",
            "the pieces have different lengths: chunk, split and tensor_split share out the "
            "leftover ids; cut ids to n_streams * (len(ids) // n_streams) first",
        ),
    ],
)
def make_streams(answer) -> int:
    """`make_streams(ids, n_streams)`: (length,) int64 -> (n_streams, length // n_streams) int64."""
    g = torch.Generator().manual_seed(92)
    cases = [(23, 4), (24, 4), (50, 7), (9, 1), (6, 6)]
    for length, n_streams in cases:
        ids = torch.randint(0, 65, (length,), generator=g)
        expected = _make_streams(ids, n_streams)
        stream_len, leftover = divmod(length, n_streams)
        what = f"make_streams(ids of length {length}, n_streams={n_streams})"
        got = call(answer, ids, n_streams)
        if isinstance(got, (list, tuple)):
            raise CheckFailed(
                f"{what} should be one tensor, got a {type_name(got)} of pieces: torch.stack them "
                "(or reshape the cut ids)"
            )
        _expect_streams_shape(got, expected, what, leftover)
        expect_dtype(got, torch.int64, what, "keep the ids' dtype (int64), ids are indices")
        if torch.equal(got, expected):
            continue
        used = ids[: n_streams * stream_len]
        if n_streams > 1 and stream_len > 1 and torch.equal(got, used.reshape(stream_len, -1).T):
            raise CheckFailed(
                f"{what}: each stream should be a contiguous piece of the text (row 0 = the first "
                f"{stream_len} ids), yours takes every {n_streams}th id: reshape to (n_streams, "
                "stream_len), not (stream_len, n_streams) then transpose"
            )
        if leftover and torch.equal(got, ids[leftover:].reshape(n_streams, stream_len)):
            raise CheckFailed(
                f"{what}: the {leftover} ids left over were dropped at the start; drop them at "
                "the end, so that stream 0 starts with ids[0]"
            )
        expect_close(
            got, expected, what, "row b should be ids[b * stream_len : (b + 1) * stream_len]"
        )
    return len(cases)


def _expect_streams_shape(got, expected: torch.Tensor, what: str, leftover: int) -> None:
    """`expect_tensor`, naming the shapes of the plausible mistakes first."""
    if isinstance(got, torch.Tensor) and got.shape != expected.shape:
        n_streams, stream_len = expected.shape
        if (
            got.dim() == 2
            and tuple(got.shape) == (stream_len, n_streams)
            and stream_len != n_streams
        ):
            raise CheckFailed(
                f"{what} should have shape (n_streams, stream_len) = {tuple(expected.shape)}, got "
                f"{tuple(got.shape)}: one stream per row"
            )
        if got.dim() == 2 and got.shape[0] == n_streams:
            dropped = f"; the {leftover} left over at the end are dropped" if leftover else ""
            raise CheckFailed(
                f"{what}: each stream should hold len(ids) // n_streams = {stream_len} ids"
                f"{dropped}, got {got.shape[1]}"
            )
    expect_tensor(got, expected, what)


# ----------------------------------------------------------------------------- detach_state


def _detach_state(state):
    """A recurrent layer's state cut from the graph: a tensor (RNN, GRU) or a tuple (LSTM)."""
    if isinstance(state, torch.Tensor):
        return state.detach()
    return tuple(part.detach() for part in state)


def _expect_detached(got, original: torch.Tensor, what: str) -> None:
    original = original.detach().cpu()  # what comes back from the answer is on the CPU
    expect_tensor(got, original, what)
    if torch.equal(got.detach(), torch.zeros_like(original)):
        raise CheckFailed(
            f"{what} is all zeros: that resets the state and the stream's memory is lost; "
            ".detach() keeps the values and cuts only the graph"
        )
    expect_close(got, original, what, "detaching keeps the values as they are", tol=0.0)
    if got.requires_grad:
        raise CheckFailed(
            f"{what} still requires grad: it is still attached to the graph of the batch that "
            "made it, so the next backward() would run into that graph again; use .detach() "
            "(clone() and torch.no_grad() do not cut an existing graph)"
        )


def _unpack_hint(kind: str, message: str, args) -> str | None:
    if isinstance(args[0], torch.Tensor) and re.search(r"unpack|not enough values", message):
        return (
            "nn.RNN and nn.GRU return one tensor h_n, not a pair: check "
            "isinstance(state, torch.Tensor) and detach the tensor itself"
        )
    if not isinstance(args[0], torch.Tensor) and re.search(r"has no attribute 'detach'", message):
        return "an LSTM's state is a tuple (h_n, c_n): detach each tensor and return a tuple"
    return None


def _layer_state(g: torch.Generator, *shape: int) -> torch.Tensor:
    """A state as a recurrent layer returns it: on the course's device, out of a graph (no leaf)."""
    return 2 * torch.randn(*shape, generator=g).to(get_device()).requires_grad_()


@exercise(
    reference=_detach_state,
    hints=[
        _unpack_hint,
        (
            r"requires_grad flags of leaf",
            "a layer's state comes out of the graph of the batch that made it (it is not a "
            "leaf), so requires_grad_(False) cannot cut it; use .detach()",
        ),
    ],
)
def detach_state(answer) -> int:
    """`detach_state(state)`: a tensor h_n (RNN, GRU) or a tuple (h_n, c_n) (LSTM), detached.

    The states are made the way a layer's are: on the course's device, inside a graph.
    """
    g = torch.Generator().manual_seed(93)
    h_n = _layer_state(g, 2, 3, 4)
    c_n = _layer_state(g, 2, 3, 4)
    got = call(answer, (h_n, c_n))
    if type_name(got) == "generator":
        raise CheckFailed(
            "for an LSTM state (h_n, c_n), detach_state returned a generator: wrap it in "
            "tuple(...) to give nn.LSTM a pair"
        )
    if isinstance(got, torch.Tensor):
        raise CheckFailed(
            "for an LSTM state (h_n, c_n) detach_state should return a pair (h_n, c_n), got one "
            f"tensor of shape {tuple(got.shape)}"
        )
    pair = expect_sequence(
        got, 2, "for an LSTM state (h_n, c_n), detach_state", "a pair (h_n, c_n)"
    )
    if (
        all(isinstance(part, torch.Tensor) and part.shape == h_n.shape for part in pair)
        and torch.equal(pair[0].detach(), c_n.detach().cpu())
        and torch.equal(pair[1].detach(), h_n.detach().cpu())
    ):
        raise CheckFailed("the pair is in the wrong order: return (h_n, c_n), h_n first")
    _expect_detached(pair[0], h_n, "for an LSTM state (h_n, c_n), the h_n it returned")
    _expect_detached(pair[1], c_n, "for an LSTM state (h_n, c_n), the c_n it returned")
    for layers in (1, 2):
        h_n = _layer_state(g, layers, 3, 4)
        what = f"for an nn.GRU state h_n of shape {tuple(h_n.shape)}, what detach_state returned"
        got = call(answer, h_n)
        if isinstance(got, (tuple, list)) or type_name(got) == "generator":
            raise CheckFailed(
                f"{what} should be one tensor, got a {type_name(got)}: nn.RNN and nn.GRU carry "
                "one tensor, not a pair (check isinstance(state, torch.Tensor))"
            )
        _expect_detached(got, h_n, what)
    return 3


# ----------------------------------------------------------------------------- sample_next


def _sample_next(logits, temperature, top_k):
    """One id per row of logits (batch, vocab), drawn from softmax(logits / temperature) on its top_k."""
    scaled = logits / temperature
    if top_k is not None:
        kth_largest = scaled.topk(top_k, dim=-1).values[:, -1:]
        scaled = scaled.masked_fill(scaled < kth_largest, float("-inf"))
    return torch.multinomial(torch.softmax(scaled, dim=-1), num_samples=1)[:, 0]


BASE_LOGITS = torch.tensor(
    [
        [1.5, -0.5, 0.8, 0.0, -1.2, 0.3],
        [-0.7, 0.9, 0.1, 0.4, -1.0, 1.6],
        [3.0, 2.5, 4.0, 1.0, 3.5, 0.5],  # larger logits: a top-k cut shared by rows fails here
    ],
    dtype=torch.float64,
)
DRAWS_PER_ROW = 4000
MAX_DISTANCE = 0.04  # total variation distance allowed between drawn and expected frequencies


def _top_k_mask(logits: torch.Tensor, top_k: int | None, largest: bool = True) -> torch.Tensor:
    if top_k is None or top_k <= 0:
        return torch.ones_like(logits, dtype=torch.bool)
    top_k = min(top_k, logits.shape[-1])
    chosen = logits.topk(top_k, dim=-1, largest=largest).indices
    return torch.zeros_like(logits, dtype=torch.bool).scatter(-1, chosen, True)


def _distribution(logits, temperature, top_k, *, largest=True, fill=float("-inf")):
    scaled = logits / temperature
    scaled = scaled.masked_fill(~_top_k_mask(logits, top_k, largest), fill)
    return torch.softmax(scaled, dim=-1)


def _sampling_mistakes(temperature: float, top_k: int | None) -> dict[str, torch.Tensor]:
    """The distribution of each base row that each plausible mistake draws from."""
    base = BASE_LOGITS
    one_hot = torch.zeros_like(base).scatter(-1, base.argmax(-1, keepdim=True), 1.0)
    over_batch = torch.exp(base / temperature) / torch.exp(base / temperature).sum(0)
    mistakes = {}
    if top_k is not None:
        mistakes |= {
            f"top_k={top_k} is ignored: keep only the {top_k} largest logits of each row": (
                _distribution(base, temperature, None)
            ),
            f"top_k={top_k} kept the {top_k} smallest logits; keep the largest": _distribution(
                base, temperature, top_k, largest=False
            ),
            f"{top_k + 1} ids can be drawn, expected top_k={top_k}: keep logits >= the k-th "
            "largest": _distribution(base, temperature, top_k + 1),
            f"only {top_k - 1} ids can be drawn, expected top_k={top_k}: keep logits >= the "
            "k-th largest (not >)": _distribution(base, temperature, top_k - 1),
            "the logits outside the top k were set to 0, which leaves them a probability; set "
            "them to -inf": _distribution(base, temperature, top_k, fill=0.0),
            "the temperature is ignored when top_k is given: divide the logits by it in every "
            "case": _distribution(base, 1.0, top_k),
        }
    mistakes |= {
        "the draws always take the most likely id: that is greedy decoding; draw from the "
        "distribution (torch.multinomial)": one_hot,
        "the temperature is ignored: divide the logits by it before the softmax": _distribution(
            base, 1.0, top_k
        ),
        "the logits were multiplied by the temperature; divide them by it (a high temperature "
        "flattens the distribution)": _distribution(base, 1 / temperature, top_k),
        "the softmax ran over dimension 0 (the batch); run it over the vocabulary (dim=-1)": (
            over_batch / over_batch.sum(-1, keepdim=True)
        ),
        "the draws are uniform over the vocabulary: turn the logits into probabilities with a "
        "softmax and draw from those": torch.full_like(base, 1 / base.shape[-1]),
    }
    return mistakes


def _frequencies(draws: torch.Tensor, rows: int, vocab: int) -> torch.Tensor:
    """(rows, vocab): how often each id was drawn for each base row (row i = draws[i::rows])."""
    return torch.stack(
        [torch.bincount(draws[row::rows], minlength=vocab)[:vocab] for row in range(rows)]
    ).double() / (len(draws) // rows)


def _distance(frequencies: torch.Tensor, expected: torch.Tensor) -> float:
    """The largest total variation distance between two (rows, vocab) distributions."""
    return float(0.5 * (frequencies - expected).abs().sum(-1).max())


def _expect_ids(got, batch: int, vocab: int, what: str) -> None:
    like = torch.zeros(batch, dtype=torch.int64)
    if isinstance(got, torch.Tensor) and tuple(got.shape) == (batch, 1):
        raise CheckFailed(
            f"{what} should have shape ({batch},), got ({batch}, 1): torch.multinomial returns "
            "(batch, num_samples); take [:, 0]"
        )
    expect_tensor(got, like, what)
    expect_dtype(got, torch.int64, what, "ids are indices; torch.multinomial gives int64")
    if batch and (int(got.min()) < 0 or int(got.max()) >= vocab):
        raise CheckFailed(f"{what} holds ids outside 0 to {vocab - 1}: got {got.tolist()[:10]}")


@exercise(
    reference=_sample_next,
    hints=[
        (
            r"invalid multinomial distribution|probability tensor contains|must be non-negative",
            "torch.multinomial draws from probabilities (>= 0, not all 0): apply torch.softmax "
            "to the scaled logits first, and keep at least one id per row",
        ),
        (
            r"NoneType|'<' not supported|topk",
            "top_k is None when every id may be drawn: apply the top-k cut only if top_k is not "
            "None",
        ),
    ],
)
def sample_next(answer) -> int:
    """`sample_next(logits, temperature, top_k)`: logits (batch, vocab) -> ids (batch,) int64.

    Each row is drawn from softmax(logits / temperature) restricted to its top_k largest logits
    (every id when top_k is None). The check compares the frequencies of many seeded draws.
    """
    torch.manual_seed(94)  # the check restores the lesson's random numbers afterwards
    g = torch.Generator().manual_seed(94)
    logits = torch.randn(5, 7, generator=g)
    _expect_ids(call(answer, logits, 1.0, None), 5, 7, "sample_next(logits (5, 7), 1.0, None)")
    one = call(answer, logits[:1], 0.8, None)
    _expect_ids(one, 1, 7, "for a batch of one row, sample_next(logits (1, 7), 0.8, None)")
    rows, vocab = BASE_LOGITS.shape
    tiled = BASE_LOGITS.float().repeat(DRAWS_PER_ROW, 1)  # row i is base row i % rows
    for temperature, top_k in [(1.0, None), (0.5, None), (2.0, 3)]:
        what = f"sample_next(logits {tuple(tiled.shape)}, {temperature}, {top_k})"
        draws = call(answer, tiled, temperature, top_k)
        _expect_ids(draws, len(tiled), vocab, what)
        frequencies = _frequencies(draws, rows, vocab)
        expected = _distribution(BASE_LOGITS, temperature, top_k)
        if _distance(frequencies, expected) <= MAX_DISTANCE:
            continue
        for description, wrong in _sampling_mistakes(temperature, top_k).items():
            if _distance(frequencies, wrong) <= MAX_DISTANCE:
                raise CheckFailed(f"{what}: {description}")
        row = int((frequencies - expected).abs().sum(-1).argmax())  # the row furthest off
        raise CheckFailed(
            f"{what}: the ids drawn for the row {BASE_LOGITS[row].tolist()} have frequencies "
            f"{[round(f, 3) for f in frequencies[row].tolist()]}, expected about "
            f"{[round(p, 3) for p in expected[row].tolist()]} (softmax(logits / temperature) on "
            "the top_k largest logits); each row must be drawn on its own"
        )
    greedy = call(answer, tiled[: 20 * rows], 1.0, 1)
    what = f"sample_next(logits {tuple(tiled[: 20 * rows].shape)}, 1.0, 1)"
    _expect_ids(greedy, 20 * rows, vocab, what)
    if not torch.equal(greedy, BASE_LOGITS.argmax(-1).repeat(20)):
        raise CheckFailed(
            "with top_k=1 every draw must be the row's largest logit (greedy decoding); got "
            f"{greedy.tolist()[:6]}..., expected {BASE_LOGITS.argmax(-1).repeat(3).tolist()}..."
        )
    return 6
