"""Checks for lesson 10's exercises: greedy_decode, sequence_accuracy, attention_weights."""

from __future__ import annotations

import math
import numbers
import re

import torch

from ..errors import InputError
from ..settings import get_device
from ._core import CheckFailed, call, exercise, expect_close, expect_tensor, same

# ----------------------------------------------------------------------------- greedy decoding


def _greedy_decode(step, state, start, end_id, max_len):
    """Greedy decoding of a batch: `max_len` steps of argmax, each sequence cut at its end."""
    token = start
    steps = []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=-1)
        steps.append(token)
    rows = torch.stack(steps, dim=1).tolist()
    return [row[: row.index(end_id)] if end_id in row else row for row in rows]


class _TableDecoder:
    """A decoder step read from a table: the logits depend on the token fed in, on the number
    of steps taken (carried in the state) and on the sequence. State: (2, batch) int64 holding
    each sequence's step count and its row of the table (the batch is not its first dimension).
    """

    def __init__(self, table: torch.Tensor):
        self.table = table  # (vocab, steps, batch, vocab)

    def __call__(self, token, state):
        vocab, steps, batch, _ = self.table.shape
        if not isinstance(token, torch.Tensor) or token.shape != (batch,):
            shape = tuple(token.shape) if isinstance(token, torch.Tensor) else type(token).__name__
            raise InputError(
                f"step expects token of shape (batch,) = ({batch},), the ids just predicted, "
                f"got {shape}"
            )
        if token.dtype != torch.int64:
            raise InputError(f"step expects token ids as int64, got {token.dtype}")
        if token.device != self.table.device:
            raise InputError(
                f"step expects token ids on {self.table.device}, the device of the state, got "
                f"{token.device}"
            )
        if not ((token >= 0) & (token < vocab)).all():
            raise InputError(f"step expects token ids between 0 and {vocab - 1}")
        count, row = state[0], state[1]
        logits = self.table[token, count.clamp(max=steps - 1), row]
        return logits, torch.stack([count + 1, row])


def _decoder_table(seed: int, ends: list, max_len: int, vocab: int = 8):
    """A table whose greedy path, from token 1, predicts the end token (2) for sequence b at
    step ends[b] (None: never; a tuple: at each of those steps), on the course's device."""
    g = torch.Generator().manual_seed(seed)
    batch, steps = len(ends), max_len + 3
    table = torch.randn(vocab, steps, batch, vocab, generator=g, dtype=torch.float64)
    table[..., :2] -= 10  # padding (0) and start (1) are never predicted
    for b, end in enumerate(ends):
        at = set(end) if isinstance(end, tuple) else {end}
        token = 1
        for count in range(max_len):
            logits = table[token, count, b]
            logits[2] = logits.max() + 1 if count in at else logits[2:].min() - 1
            if logits.argmax() == token and count not in at:  # the path moves: no repeats
                logits[token] -= 5
            best = int(logits.argmax())
            logits[best] += 1  # a clear winner
            token = best
    return _TableDecoder(table.to(get_device()))


def _simulate(decoder, state, start, max_len, feed_back=True, carry=True, steps=None):
    """Token ids the decoder gives with (or without) feeding back tokens and carrying the state."""
    token, first_state, rows = start, state, []
    for _ in range(steps if steps is not None else max_len):
        logits, new_state = decoder(token if feed_back else start, state)
        state = new_state if carry else first_state
        token = logits.argmax(dim=-1)
        rows.append(token)
    return torch.stack(rows, dim=1).tolist()


def _cut(rows, end_id, keep_end=False):
    return [row[: row.index(end_id) + keep_end] if end_id in row else row for row in rows]


def _expect_rows(got, batch: int, what: str) -> list[list[int]]:
    if isinstance(got, torch.Tensor):
        raise CheckFailed(
            f"{what} should be a list with one list of ids per sequence, got a tensor: the "
            "sequences have different lengths once cut at their end token (use .tolist())"
        )
    if not isinstance(got, (list, tuple)) or len(got) != batch:
        size = f" of {len(got)}" if isinstance(got, (list, tuple)) else ""
        raise CheckFailed(
            f"{what} should be a list of {batch} lists (one per sequence), got "
            f"{type(got).__name__}{size}"
        )
    for row in got:
        if not isinstance(row, (list, tuple)):
            raise CheckFailed(
                f"{what}: each sequence should be a list of ids, got {type(row).__name__}"
            )
        for item in row:
            if not isinstance(item, numbers.Integral) or isinstance(item, bool):
                raise CheckFailed(
                    f"{what}: the ids should be Python ints, got {type(item).__name__} "
                    "(use .tolist() or .item())"
                )
    return [list(row) for row in got]


def _greedy_hint(kind: str, message: str, args) -> str | None:
    if "boolean value of tensor" in message.lower():
        return (
            "`if token == end_id` compares a whole batch: stop each sequence at its own end "
            "token, for example after the loop with row.index(end_id)"
        )
    if "step expects token of shape" in message:
        return (
            "feed step the ids just predicted, one per sequence: logits.argmax(dim=-1), "
            "shape (batch,)"
        )
    if "step expects token ids as int64" in message:
        return "feed step token ids (logits.argmax(dim=-1)), not logits or probabilities"
    return None


def _check_greedy(answer, seed, ends, max_len) -> None:
    end_id, batch = 2, len(ends)
    decoder = _decoder_table(seed, ends, max_len)
    device = decoder.table.device
    state = torch.stack([torch.zeros(batch, dtype=torch.int64), torch.arange(batch)]).to(device)
    start = torch.ones(batch, dtype=torch.int64, device=device)
    expected = _greedy_decode(decoder, state, start, end_id, max_len)
    what = f"the result for a batch of {batch} with max_len={max_len}"
    got = _expect_rows(call(answer, decoder, state, start, end_id, max_len), batch, what)
    if got == expected:
        return
    raw = _simulate(decoder, state, start, max_len)
    longer = _simulate(decoder, state, start, max_len, steps=max_len + 1)
    shorter = _simulate(decoder, state, start, max_len, steps=max_len - 1)
    mistakes = [
        (
            _cut(_simulate(decoder, state, start, max_len, feed_back=False), end_id),
            "every step is fed the start token: feed back the token just predicted",
        ),
        (
            _cut(_simulate(decoder, state, start, max_len, carry=False), end_id),
            "the state is not carried: pass the state that step returned to the next call",
        ),
        (
            _cut(raw, end_id, keep_end=True),
            "the end token is not part of the output: cut each "
            "sequence just before its first end_id",
        ),
        (
            [[1, *row] for row in expected],
            "the start token is not part of the output: keep only the predicted ids",
        ),
        (raw, "each sequence must stop at its first end_id (leave out the end and what follows)"),
        (
            [
                row[: len(row) - 1 - row[::-1].index(end_id)] if end_id in row else row
                for row in raw
            ],
            "a sequence was cut at its last end_id: cut it at the first one, what follows the "
            "first end token is not part of the output",
        ),
        (
            [[token for token in row if token != end_id] for row in raw],
            "the end tokens were removed but what follows them was kept: cut each sequence at "
            "its first end_id",
        ),
        (_cut(longer, end_id), f"max_len + 1 steps were taken: take exactly max_len={max_len}"),
        (_cut(shorter, end_id), f"max_len - 1 steps were taken: take exactly max_len={max_len}"),
    ]
    first_end = min(min(end) if isinstance(end, tuple) else end for end in ends if end is not None)
    stopped = [row[:first_end] for row in raw]
    mistakes.append(
        (
            stopped,
            "the whole batch stopped when one sequence reached its end token: each "
            "sequence stops at its own end",
        )
    )
    for value, message in mistakes:
        if got == value:
            raise CheckFailed(message)
    for b, (mine, right) in enumerate(zip(got, expected)):
        if mine == right:
            continue
        argmaxes = right + [end_id] if len(right) < max_len else right  # the end token too
        where = next((k for k, (x, y) in enumerate(zip(mine, argmaxes)) if x != y), None)
        if where is not None:
            detail = (
                f"at step {where} got id {mine[where]}, expected {argmaxes[where]} "
                "(the argmax of the logits)"
            )
        elif len(mine) < len(right):
            detail = (
                f"it stops after {len(mine)} ids, but the argmax of the logits at step "
                f"{len(mine)} is {right[len(mine)]}, not end_id"
            )
        else:
            detail = f"got {len(mine)} ids, expected {len(right)}"
        raise CheckFailed(f"{what}, sequence {b}: {detail}; expected {right}, got {mine}")


@exercise(reference=_greedy_decode, hints=[_greedy_hint])
def greedy_decode(answer) -> int:
    """`greedy_decode(step, state, start, end_id, max_len)`: feed each step's argmax back for
    max_len steps; return one list of int ids per sequence, cut before its first end_id.

    The decoder's tables and states are on the course's device; some rows predict the end
    token more than once."""
    _check_greedy(answer, seed=101, ends=[3, 0, None, 5], max_len=7)
    _check_greedy(answer, seed=102, ends=[None], max_len=4)
    _check_greedy(answer, seed=103, ends=[2, None, 4, 1, 6], max_len=6)
    _check_greedy(answer, seed=104, ends=[(1, 4), (3, 5), None], max_len=7)  # end tokens again
    return 4


# ----------------------------------------------------------------------------- metrics


def _sequence_accuracy(predictions, targets):
    """(exact match, per-character accuracy) of predicted strings against target strings."""
    exact = sum(p == t for p, t in zip(predictions, targets)) / len(targets)
    right = sum(sum(a == b for a, b in zip(p, t)) for p, t in zip(predictions, targets))
    return exact, right / sum(len(t) for t in targets)


def _fraction(value, what: str) -> float:
    if isinstance(value, torch.Tensor):
        raise CheckFailed(f"{what} should be a Python float, got a tensor: use .item()")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CheckFailed(f"{what} should be a Python float, got {type(value).__name__}")
    if isinstance(value, numbers.Integral):
        raise CheckFailed(
            f"{what} should be a fraction (a float), got the int {value}: divide the count by "
            "the number of targets (or of target characters) with / (// rounds down to an int)"
        )
    return float(value)


def _check_accuracy(answer, predictions, targets, label: str) -> None:
    exact, chars = _sequence_accuracy(predictions, targets)
    got = call(answer, predictions, targets)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CheckFailed(
            f"sequence_accuracy should return the pair (exact_match, character_accuracy), got "
            f"{type(got).__name__}"
        )
    got_exact, got_chars = (
        _fraction(v, n) for v, n in zip(got, ("exact_match", "character_accuracy"))
    )
    if (got_exact, got_chars) == (chars, exact) and exact != chars:
        raise CheckFailed("the two results are swapped: return (exact_match, character_accuracy)")
    for value, name in ((got_exact, "exact_match"), (got_chars, "character_accuracy")):
        if not 0 <= value <= 1:
            if value <= 100 and math.isclose(
                value / 100, exact if name == "exact_match" else chars
            ):
                raise CheckFailed(f"{name} is {value:g}, a percentage: return a fraction in [0, 1]")
            raise CheckFailed(f"{name} is {value:g}, expected a fraction between 0 and 1")
    if not math.isclose(got_exact, exact, abs_tol=1e-6):
        stripped = sum(p.strip() == t for p, t in zip(predictions, targets)) / len(targets)
        prefix = sum(p.startswith(t) for p, t in zip(predictions, targets)) / len(targets)
        if math.isclose(got_exact, stripped) and stripped != exact:
            raise CheckFailed(
                "exact_match counts a prediction with extra spaces as right: compare the strings "
                "exactly, without strip()"
            )
        if math.isclose(got_exact, prefix) and prefix != exact:
            raise CheckFailed(
                "exact_match counts a prediction with extra characters after the target as "
                "right: an exact match is p == t"
            )
        raise CheckFailed(
            f"exact_match {label} is {got_exact:.4g}, expected {exact:.4g}: the fraction of "
            "predictions equal to their target"
        )
    if not math.isclose(got_chars, chars, abs_tol=1e-6):
        pairs = list(zip(predictions, targets))
        right = sum(sum(a == b for a, b in zip(p, t)) for p, t in pairs)
        over_prediction = right / sum(len(p) for p, _ in pairs)
        over_zip = right / sum(min(len(p), len(t)) for p, t in pairs)
        total = sum(len(t) for _, t in pairs)
        anywhere = [
            sum(sum(c in t for c in p[:limit]) for p, t in pairs) / total
            for limit in (None, max(len(t) for _, t in pairs))
        ]
        per_sequence = sum(sum(a == b for a, b in zip(p, t)) / len(t) for p, t in pairs if t) / len(
            pairs
        )
        if math.isclose(got_chars, per_sequence):
            raise CheckFailed(
                "character_accuracy averages each sequence's own accuracy: divide the matches "
                "of every sequence together by the number of all target characters (a long "
                "target counts for more characters)"
            )
        if math.isclose(got_chars, over_prediction) or math.isclose(got_chars, over_zip):
            raise CheckFailed(
                "character_accuracy divides by the predictions' lengths: divide by the number "
                "of target characters (a missing character counts as wrong)"
            )
        if any(math.isclose(got_chars, value) for value in anywhere):
            raise CheckFailed(
                "character_accuracy counts characters found anywhere in the target: compare "
                "position by position, prediction[j] == target[j]"
            )
        raise CheckFailed(
            f"character_accuracy {label} is {got_chars:.4g}, expected {chars:.4g}: the "
            "fraction of target characters matched at the same position"
        )


def _accuracy_hint(kind: str, message: str, args) -> str | None:
    if kind == "IndexError":
        return (
            "a prediction can be shorter than its target (even empty): a missing character "
            "counts as wrong, zip(prediction, target) stops at the shorter one"
        )
    if kind == "ZeroDivisionError":
        return "divide by the number of targets and of target characters, never by 0"
    return None


@exercise(reference=_sequence_accuracy, hints=[_accuracy_hint])
def sequence_accuracy(answer) -> int:
    """`sequence_accuracy(predictions, targets)`: lists of strings -> (exact match, share of
    target characters predicted right at the same position), two Python floats."""
    targets = ["2026-11-24", "1999-01-05", "2000-02-29", "1969-07-20", "2068-12-31", "1900-01-01"]
    predictions = ["2026-11-24", "1999-01-15", "2000-02-2", "1969-07-20 ", "2068-12-31-01", ""]
    _check_accuracy(answer, predictions, targets, "for six predictions")
    _check_accuracy(answer, targets[:3], targets[:3], "when every prediction is right")
    shifted = ["026-11-24", "2026-11-244", "2026-11-42"]
    _check_accuracy(answer, shifted, ["2026-11-24"] * 3, "for shifted and swapped characters")
    unequal = ["24.11.2026", "Nov", "2026-11-24", "1-1"]  # targets of unequal lengths
    _check_accuracy(
        answer,
        ["24.11.2026", "Noc", "2026-11-2x", "0-1"],
        unequal,
        "for targets of unequal lengths",
    )
    return 4


# ----------------------------------------------------------------------------- attention


def _attention_weights(query, keys, lengths):
    """Scaled dot-product attention weights with padding masked:
    query (batch, steps, hidden), keys (batch, src_len, hidden), lengths (batch,) ->
    (batch, steps, src_len), zero at positions j >= lengths[b], rows summing to 1."""
    scores = query @ keys.transpose(1, 2) / math.sqrt(keys.shape[-1])
    positions = torch.arange(keys.shape[1], device=keys.device)
    padding = positions[None, None, :] >= lengths[:, None, None]
    return scores.masked_fill(padding, float("-inf")).softmax(dim=-1)


def _attention_mistakes(query, keys, lengths) -> dict[str, torch.Tensor]:
    hidden = keys.shape[-1]
    scores = query @ keys.transpose(1, 2) / math.sqrt(hidden)
    positions = torch.arange(keys.shape[1])
    real = positions[None, None, :] < lengths[:, None, None]
    masked = scores.masked_fill(~real, float("-inf"))
    after = scores.softmax(dim=-1) * real
    one_more = scores.masked_fill(positions[None, None, :] > lengths[:, None, None], float("-inf"))
    raw = query @ keys.transpose(1, 2)
    return {
        "the padding is not masked: positions j >= lengths[b] get weight; fill their scores "
        "with -inf before the softmax": scores.softmax(dim=-1),
        "the weights are zeroed at padding after the softmax, so the rows no longer sum to 1: "
        "mask the scores before the softmax": after,
        "position lengths[b] is padding too (positions 0 .. lengths[b] - 1 are real): mask "
        "j >= lengths[b]": one_more.softmax(dim=-1),
        "the mask is inverted: it hides the real positions and keeps the padding": scores.masked_fill(
            real, float("-inf")
        ).softmax(dim=-1),
        "the scores are not scaled: divide query . key by sqrt(hidden)": raw.masked_fill(
            ~real, float("-inf")
        ).softmax(dim=-1),
        "the scores are divided by hidden: divide by sqrt(hidden)": (raw / hidden)
        .masked_fill(~real, float("-inf"))
        .softmax(dim=-1),
        "masked scores are filled with 0, which still gets weight after the softmax: fill "
        "them with -inf": scores.masked_fill(~real, 0.0).softmax(dim=-1),
        "the softmax runs over the decoder steps: normalise over the source positions, the "
        "last dimension": masked.softmax(dim=1),
        "these are the scores before masking and softmax": scores,
    }


def _attention_hint(kind: str, message: str, args) -> str | None:
    if re.search(r"batch2|mat1 and mat2|cannot be multiplied", message):
        return (
            "scores[b, i, j] = query[b, i] . keys[b, j]: multiply query (batch, steps, hidden) "
            "by keys.transpose(1, 2), (batch, hidden, src_len)"
        )
    if "must match the size of tensor b" in message or "expanded size" in message:
        return (
            "compare positions (src_len,) with lengths (batch,) by broadcasting: "
            "positions[None, None, :] < lengths[:, None, None] has shape (batch, 1, src_len)"
        )
    return None


def _check_attention(answer, batch, steps, src_len, hidden, lengths, dtype, seed, label):
    g = torch.Generator().manual_seed(seed)
    query = torch.randn(batch, steps, hidden, generator=g, dtype=dtype) * 1.5
    keys = torch.randn(batch, src_len, hidden, generator=g, dtype=dtype) * 1.5
    lengths = torch.tensor(lengths)
    expected = _attention_weights(query, keys, lengths)
    what = (
        f"the result for query {tuple(query.shape)}, keys {tuple(keys.shape)} and lengths "
        f"{lengths.tolist()} ({label})"
    )
    device = get_device()  # as the lesson calls it: every input on the model's device
    got = call(answer, query.to(device), keys.to(device), lengths.to(device))
    expect_tensor(got, expected, what)
    swapped = query @ keys if src_len == hidden else None
    for mistake, value in _attention_mistakes(query, keys, lengths).items():
        if same(got, value):
            raise CheckFailed(mistake)
    if swapped is not None:
        wrong = (swapped / math.sqrt(hidden)).masked_fill(
            torch.arange(src_len)[None, None, :] >= lengths[:, None, None], float("-inf")
        )
        if same(got, wrong.softmax(dim=-1)):
            raise CheckFailed(
                "keys are not transposed: scores[b, i, j] = query[b, i] . keys[b, j], that is "
                "query @ keys.transpose(1, 2)"
            )
    if not bool(torch.isfinite(got).all()) or bool((got < 0).any()):
        raise CheckFailed(
            f"{what} holds negative or infinite values, scores rather than weights: apply "
            "the softmax over the source positions (the last dimension)"
        )
    padding = torch.arange(src_len)[None, None, :] >= lengths[:, None, None]
    on_padding = got.detach().masked_fill(~padding, 0).abs().amax()
    if on_padding > 1e-6:
        raise CheckFailed(
            f"{what} puts weight up to {float(on_padding):.3g} on padding positions "
            "(j >= lengths[b]): mask their scores with -inf before the softmax"
        )
    expect_close(
        got, expected, what, "weights = softmax over j of query . keys[j] / sqrt(hidden), masked"
    )


@exercise(reference=_attention_weights, hints=[_attention_hint])
def attention_weights(answer) -> int:
    """`attention_weights(query, keys, lengths)`: scaled dot-product attention weights over the
    source positions, with the padding masked. The inputs are on the course's device."""
    _check_attention(answer, 3, 2, 6, 4, [6, 2, 4], torch.float64, 111, "float64")
    _check_attention(answer, 2, 3, 4, 4, [1, 3], torch.float64, 112, "src_len == hidden")
    _check_attention(answer, 4, 1, 5, 8, [5, 5, 3, 2], torch.float32, 113, "float32, one step")
    g = torch.Generator().manual_seed(114)
    query = torch.randn(2, 2, 3, generator=g, dtype=torch.float64, requires_grad=True)
    keys = torch.randn(2, 5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([5, 3])
    got, grads = call(answer, query, keys, lengths, grad_of=lambda w: (w * w.detach()).sum())
    expect_tensor(got, _attention_weights(query, keys, lengths), "the weights")
    if any(grad is None for grad in grads):
        raise CheckFailed(
            "no gradient reaches the query or the keys: the weights must stay in the graph "
            "(no .detach(), .item() or torch.no_grad()), or the model cannot learn to attend"
        )
    return 4
