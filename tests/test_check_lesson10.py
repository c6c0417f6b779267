"""Lesson 10's checks reject plausible wrong answers with a message that names the mistake,
and accept correct alternatives (see tests/catalogue.py)."""

import itertools
import math
import statistics
from itertools import zip_longest

import numpy as np
import pytest
import torch
from catalogue import catalogue_tests

# ----------------------------------------------------------------------------- greedy_decode


def _cut(rows, end_id):
    return [row[: row.index(end_id)] if end_id in row else row for row in rows]


def greedy(step, state, start, end_id, max_len):
    token, steps = start, []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=-1)
        steps.append(token)
    return _cut(torch.stack(steps, dim=1).tolist(), end_id)


def greedy_stops_when_all_ended(step, state, start, end_id, max_len):
    token, steps = start, []
    ended = torch.zeros_like(start, dtype=torch.bool)
    while len(steps) < max_len and not ended.all():
        logits, state = step(token, state)
        token = torch.max(logits.softmax(dim=1), dim=1).indices
        steps.append(token)
        ended |= token == end_id
    return _cut(torch.stack(steps, dim=1).tolist(), end_id)


def greedy_row_by_row_lists(step, state, start, end_id, max_len):
    out = [[] for _ in range(len(start))]
    done = [False] * len(start)
    token = start
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(-1)
        for b, t in enumerate(token.tolist()):
            if t == end_id:
                done[b] = True
            if not done[b]:
                out[b].append(t)
    return out


def greedy_tuples_with_index(step, state, start, end_id, max_len):
    token, rows = start, [[] for _ in start]
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=1)
        for row, t in zip(rows, token):
            row.append(t.item())
    result = []
    for row in rows:
        try:
            result.append(tuple(row[: row.index(end_id)]))
        except ValueError:
            result.append(tuple(row))
    return tuple(result)


def greedy_fed_start(step, state, start, end_id, max_len):
    steps = []
    for _ in range(max_len):
        logits, state = step(start, state)
        steps.append(logits.argmax(dim=-1))
    return _cut(torch.stack(steps, dim=1).tolist(), end_id)


def greedy_state_not_carried(step, state, start, end_id, max_len):
    token, steps = start, []
    for _ in range(max_len):
        logits, _ = step(token, state)
        token = logits.argmax(dim=-1)
        steps.append(token)
    return _cut(torch.stack(steps, dim=1).tolist(), end_id)


def greedy_keeps_end(step, state, start, end_id, max_len):
    token, steps = start, []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=-1)
        steps.append(token)
    rows = torch.stack(steps, dim=1).tolist()
    return [row[: row.index(end_id) + 1] if end_id in row else row for row in rows]


def greedy_keeps_start(step, state, start, end_id, max_len):
    token, steps = start, [start]
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=-1)
        steps.append(token)
    rows = torch.stack(steps, dim=1).tolist()
    return [[row[0], *_cut([row[1:]], end_id)[0]] for row in rows]


def greedy_never_cut(step, state, start, end_id, max_len):
    token, steps = start, []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=-1)
        steps.append(token)
    return torch.stack(steps, dim=1).tolist()


def greedy_steps(extra):
    def answer(step, state, start, end_id, max_len):
        token, steps = start, []
        for _ in range(max_len + extra):
            logits, state = step(token, state)
            token = logits.argmax(dim=-1)
            steps.append(token)
        return _cut(torch.stack(steps, dim=1).tolist(), end_id)

    return answer


def greedy_tensor(step, state, start, end_id, max_len):
    token, steps = start, []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=-1)
        steps.append(token)
    return torch.stack(steps, dim=1)


def greedy_rows_as_tensors(step, state, start, end_id, max_len):
    token, steps = start, []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=-1)
        steps.append(token)
    ids = torch.stack(steps, dim=1)
    return [row[: (row == end_id).nonzero()[0, 0]] if (row == end_id).any() else row for row in ids]


def greedy_if_token_is_end(step, state, start, end_id, max_len):
    token, steps = start, []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=-1)
        if token == end_id:
            break
        steps.append(token)
    return torch.stack(steps, dim=1).tolist()


def greedy_keepdim(step, state, start, end_id, max_len):
    token, steps = start, []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=-1, keepdim=True)
        steps.append(token)
    return _cut(torch.cat(steps, dim=1).tolist(), end_id)


def greedy_argmax_over_batch(step, state, start, end_id, max_len):
    token, steps = start, []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=0)
        steps.append(token)
    return _cut(torch.stack(steps, dim=1).tolist(), end_id)


def greedy_feeds_probabilities(step, state, start, end_id, max_len):
    token, steps = start, []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.softmax(dim=-1).max(dim=-1).values
        steps.append(logits.argmax(dim=-1))
    return _cut(torch.stack(steps, dim=1).tolist(), end_id)


def greedy_batch_stops_at_first_end(step, state, start, end_id, max_len):
    out = [[] for _ in range(len(start))]
    token = start
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(-1)
        if (token == end_id).any():
            break
        for b in range(len(start)):
            out[b].append(int(token[b]))
    return out


def greedy_samples(step, state, start, end_id, max_len):
    generator = torch.Generator().manual_seed(0)
    token, steps = start, []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = torch.multinomial(logits.softmax(-1), 1, generator=generator).squeeze(1)
        steps.append(token)
    return _cut(torch.stack(steps, dim=1).tolist(), end_id)


# ----------------------------------------------------------------------------- sequence_accuracy


def accuracy(predictions, targets):
    exact = sum(p == t for p, t in zip(predictions, targets)) / len(targets)
    right = sum(sum(a == b for a, b in zip(p, t)) for p, t in zip(predictions, targets))
    return exact, right / sum(len(t) for t in targets)


def accuracy_loops(predictions, targets):
    exact_count, right, total = 0, 0, 0
    for prediction, target in zip(predictions, targets):
        if prediction == target:
            exact_count += 1
        for j, character in enumerate(target):
            if j < len(prediction) and prediction[j] == character:
                right += 1
            total += 1
    return exact_count / len(targets), right / total


def accuracy_numpy(predictions, targets):
    exact = np.mean([p == t for p, t in zip(predictions, targets)])
    hits = [a == b for p, t in zip(predictions, targets) for a, b in zip_longest(p, t) if b]
    return exact, np.mean(hits)


def accuracy_statistics_list(predictions, targets):
    exact = statistics.fmean(float(p == t) for p, t in zip(predictions, targets))
    right = sum(sum(map(str.__eq__, p, t)) for p, t in zip(predictions, targets))
    return [exact, right / sum(map(len, targets))]


def accuracy_torch_item(predictions, targets):
    exact = torch.tensor([p == t for p, t in zip(predictions, targets)]).float().mean().item()
    hits = [
        p[j] == t[j] if j < len(p) else False
        for p, t in zip(predictions, targets)
        for j in range(len(t))
    ]
    return exact, torch.tensor(hits, dtype=torch.float64).mean().item()


def accuracy_percent(predictions, targets):
    exact, chars = accuracy(predictions, targets)
    return 100 * exact, 100 * chars


def accuracy_tensors(predictions, targets):
    exact = torch.tensor([p == t for p, t in zip(predictions, targets)]).float().mean()
    hits = [a == b for p, t in zip(predictions, targets) for a, b in zip_longest(p, t) if b]
    return exact, torch.tensor(hits).float().mean()


def accuracy_strip(predictions, targets):
    exact = sum(p.strip() == t for p, t in zip(predictions, targets)) / len(targets)
    return exact, accuracy(predictions, targets)[1]


def accuracy_startswith(predictions, targets):
    exact = sum(p.startswith(t) for p, t in zip(predictions, targets)) / len(targets)
    return exact, accuracy(predictions, targets)[1]


def accuracy_over_prediction_length(predictions, targets):
    right = sum(sum(a == b for a, b in zip(p, t)) for p, t in zip(predictions, targets))
    return accuracy(predictions, targets)[0], right / sum(len(p) for p in predictions)


def accuracy_characters_anywhere(predictions, targets):
    found = sum(sum(c in t for c in p) for p, t in zip(predictions, targets))
    return accuracy(predictions, targets)[0], found / sum(len(t) for t in targets)


def accuracy_index_error(predictions, targets):
    right = sum(p[j] == t[j] for p, t in zip(predictions, targets) for j in range(len(t)))
    return accuracy(predictions, targets)[0], right / sum(len(t) for t in targets)


def accuracy_swapped(predictions, targets):
    exact, chars = accuracy(predictions, targets)
    return chars, exact


def accuracy_floor_division(predictions, targets):
    exact = sum(p == t for p, t in zip(predictions, targets)) // len(targets)
    return exact, accuracy(predictions, targets)[1]


def accuracy_counts_exact(predictions, targets):
    return sum(p == t for p, t in zip(predictions, targets)), accuracy(predictions, targets)[1]


def accuracy_longest_length(predictions, targets):
    right, total = 0, 0
    for p, t in zip(predictions, targets):
        right += sum(a == b for a, b in zip(p, t))
        total += max(len(p), len(t))
    return accuracy(predictions, targets)[0], right / total


def accuracy_whole_lists(predictions, targets):
    return float(predictions == targets), accuracy(predictions, targets)[1]


def accuracy_dict(predictions, targets):
    exact, chars = accuracy(predictions, targets)
    return {"exact_match": exact, "character_accuracy": chars}


def accuracy_per_string_count(predictions, targets):
    right = sum(sum(a == b for a, b in zip(p, t)) for p, t in zip(predictions, targets))
    return accuracy(predictions, targets)[0], right / len(targets)


# ----------------------------------------------------------------------------- attention_weights


def positions_and_real(keys, lengths):
    positions = torch.arange(keys.shape[1], device=keys.device)
    return positions, positions[None, None, :] < lengths[:, None, None]


def attention(query, keys, lengths):
    scores = query @ keys.transpose(1, 2) / math.sqrt(keys.shape[-1])
    _, real = positions_and_real(keys, lengths)
    return scores.masked_fill(~real, float("-inf")).softmax(dim=-1)


def attention_where_bmm(query, keys, lengths):
    scores = torch.bmm(query, keys.permute(0, 2, 1)) / keys.shape[-1] ** 0.5
    positions = torch.arange(keys.size(1), device=lengths.device)
    mask = (positions.expand(len(lengths), -1) < lengths.unsqueeze(1)).unsqueeze(1)
    return torch.softmax(torch.where(mask, scores, torch.full_like(scores, -1e9)), dim=2)


def attention_einsum_exp(query, keys, lengths):
    scores = torch.einsum("bsh,bth->bst", query, keys) / math.sqrt(query.shape[-1])
    _, real = positions_and_real(keys, lengths)
    weights = torch.exp(scores - scores.amax(dim=-1, keepdim=True)) * real
    return weights / weights.sum(dim=-1, keepdim=True)


def attention_log_mask(query, keys, lengths):
    scores = torch.matmul(query, keys.transpose(-1, -2)) / math.sqrt(keys.shape[-1])
    _, real = positions_and_real(keys, lengths)
    return torch.nn.functional.softmax(scores + torch.log(real.to(scores.dtype)), dim=-1)


def attention_finfo_min(query, keys, lengths):
    scores = query @ keys.mT / math.sqrt(keys.shape[-1])
    _, real = positions_and_real(keys, lengths)
    return scores.masked_fill(~real, torch.finfo(scores.dtype).min).softmax(-1)


def attention_variant(
    *,
    mask="before",
    scale="sqrt",
    fill=float("-inf"),
    dim=-1,
    softmax=True,
    detach=False,
):
    def answer(query, keys, lengths):
        scores = query @ keys.transpose(1, 2)
        if detach:
            scores = scores.detach()
        hidden = keys.shape[-1]
        scores = scores / {"sqrt": math.sqrt(hidden), "none": 1, "hidden": hidden}[scale]
        positions = torch.arange(keys.shape[1], device=keys.device)
        real = {
            "before": positions[None, None, :] < lengths[:, None, None],
            "off_by_one": positions[None, None, :] <= lengths[:, None, None],
            "inverted": positions[None, None, :] >= lengths[:, None, None],
            "longest": positions[None, None, :] < lengths.max(),
            "after": positions[None, None, :] < lengths[:, None, None],
        }[mask]
        if mask != "after":
            scores = scores.masked_fill(~real, fill)
        weights = scores.softmax(dim=dim) if softmax else scores
        return weights * real if mask == "after" else weights

    return answer


def attention_no_transpose(query, keys, lengths):
    scores = query @ keys / math.sqrt(keys.shape[-1])
    _, real = positions_and_real(keys, lengths)
    return scores.masked_fill(~real, float("-inf")).softmax(dim=-1)


def attention_unbroadcast_lengths(query, keys, lengths):
    scores = query @ keys.transpose(1, 2) / math.sqrt(keys.shape[-1])
    real = torch.arange(keys.shape[1]) < lengths
    return scores.masked_fill(~real, float("-inf")).softmax(dim=-1)


def attention_mask_without_steps(query, keys, lengths):
    scores = query @ keys.transpose(1, 2) / math.sqrt(keys.shape[-1])
    real = torch.arange(keys.shape[1])[None, :] < lengths[:, None]  # (batch, src_len)
    return torch.where(real, scores, float("-inf")).softmax(dim=-1)


def attention_zeroes_padded_keys(query, keys, lengths):
    for b, length in enumerate(lengths.tolist()):
        keys[b, length:] = 0
    return (query @ keys.transpose(1, 2) / math.sqrt(keys.shape[-1])).softmax(dim=-1)


def attention_keys_first(query, keys, lengths):
    scores = keys @ query.transpose(1, 2) / math.sqrt(keys.shape[-1])
    real = torch.arange(keys.shape[1])[None, :, None] < lengths[:, None, None]
    return scores.masked_fill(~real, float("-inf")).softmax(dim=1)


def attention_scaled_after_softmax(query, keys, lengths):
    scores = query @ keys.transpose(1, 2)
    _, real = positions_and_real(keys, lengths)
    return scores.masked_fill(~real, float("-inf")).softmax(dim=-1) / math.sqrt(keys.shape[-1])


def greedy_cut_at_last_end(step, state, start, end_id, max_len):
    token, steps = start, []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=-1)
        steps.append(token)
    rows = torch.stack(steps, dim=1).tolist()
    return [row[: len(row) - 1 - row[::-1].index(end_id)] if end_id in row else row for row in rows]


def greedy_drops_end_tokens(step, state, start, end_id, max_len):
    token, steps = start, []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=-1)
        steps.append(token)
    return [[t for t in row if t != end_id] for row in torch.stack(steps, dim=1).tolist()]


def greedy_itertools(step, state, start, end_id, max_len):
    token, columns = start, []
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=-1)
        columns.append(token.tolist())
    rows = zip(*columns)
    return [list(itertools.takewhile(lambda t: t != end_id, row)) for row in rows]


def greedy_cpu_start(step, state, start, end_id, max_len):
    token, steps = torch.full((len(start),), int(start[0])), []  # made on the CPU
    for _ in range(max_len):
        logits, state = step(token, state)
        token = logits.argmax(dim=-1)
        steps.append(token)
    return _cut(torch.stack(steps, dim=1).tolist(), end_id)


def accuracy_mean_per_sequence(predictions, targets):
    exact = sum(p == t for p, t in zip(predictions, targets)) / len(targets)
    shares = [sum(a == b for a, b in zip(p, t)) / len(t) for p, t in zip(predictions, targets)]
    return exact, sum(shares) / len(shares)


def accuracy_weighted_shares(predictions, targets):
    exact = sum(p == t for p, t in zip(predictions, targets)) / len(targets)
    total = sum(len(t) for t in targets)
    share = sum(
        len(t) / total * sum(a == b for a, b in zip(p, t)) / len(t)
        for p, t in zip(predictions, targets)
    )
    return exact, share


def attention_cpu_positions(query, keys, lengths):
    scores = query @ keys.transpose(1, 2) / math.sqrt(keys.shape[-1])
    padding = torch.arange(keys.shape[1])[None, None, :] >= lengths[:, None, None]  # on the CPU
    return scores.masked_fill(padding, float("-inf")).softmax(dim=-1)


def attention_arange_like(query, keys, lengths):
    scores = query @ keys.transpose(1, 2) / math.sqrt(keys.shape[-1])
    positions = torch.arange(keys.shape[1]).to(lengths)
    return scores.masked_fill(positions >= lengths[:, None, None], -math.inf).softmax(-1)


WRONG = {
    "greedy_decode": [
        ("the start token fed at every step", greedy_fed_start, r"fed the start token"),
        ("the state not carried", greedy_state_not_carried, r"state is not carried"),
        ("the end token kept", greedy_keeps_end, r"end token is not part of the output"),
        ("the start token kept", greedy_keeps_start, r"start token is not part of the output"),
        ("never cut at the end token", greedy_never_cut, r"must stop at its first end_id"),
        ("one step too many", greedy_steps(+1), r"max_len \+ 1 steps"),
        ("one step too few", greedy_steps(-1), r"max_len - 1 steps"),
        ("a tensor returned", greedy_tensor, r"got a tensor.*\.tolist\(\)"),
        ("rows left as tensors", greedy_rows_as_tensors, r"list of ids, got Tensor"),
        ("if token == end_id on a batch", greedy_if_token_is_end, r"compares a whole batch"),
        ("argmax with keepdim", greedy_keepdim, r"hint: feed step the ids just predicted"),
        ("argmax over the batch", greedy_argmax_over_batch, r"hint: feed step the ids just"),
        ("probabilities fed back", greedy_feeds_probabilities, r"not logits or probabilities"),
        (
            "the batch stops at the first end",
            greedy_batch_stops_at_first_end,
            r"whole batch stopped",
        ),
        ("sampling instead of argmax", greedy_samples, r"the argmax of the logits"),
        ("cut at the last end token", greedy_cut_at_last_end, r"cut at its last end_id"),
        ("end tokens removed", greedy_drops_end_tokens, r"end tokens were removed"),
    ],
    "sequence_accuracy": [
        ("percentages", accuracy_percent, r"a percentage: return a fraction"),
        ("tensors", accuracy_tensors, r"got a tensor: use \.item\(\)"),
        ("strip before comparing", accuracy_strip, r"without strip\(\)"),
        ("startswith", accuracy_startswith, r"extra characters after the target"),
        ("over the predictions' length", accuracy_over_prediction_length, r"predictions' lengths"),
        ("characters anywhere", accuracy_characters_anywhere, r"position by position"),
        ("index past a short prediction", accuracy_index_error, r"missing character counts"),
        ("swapped", accuracy_swapped, r"swapped"),
        ("floor division", accuracy_floor_division, r"got the int 0.*// rounds down"),
        ("a count for exact match", accuracy_counts_exact, r"got the int 1"),
        ("over the longer length", accuracy_longest_length, r"fraction of target characters"),
        ("whole lists compared", accuracy_whole_lists, r"fraction of predictions equal"),
        ("a dict", accuracy_dict, r"return the pair \(exact_match, character_accuracy\)"),
        ("divided by the number of strings", accuracy_per_string_count, r"between 0 and 1"),
        ("mean of per-sequence shares", accuracy_mean_per_sequence, r"each sequence's own"),
    ],
    "attention_weights": [
        ("no mask", attention_variant(mask="longest"), r"padding is not masked"),
        ("zeroed after the softmax", attention_variant(mask="after"), r"no longer sum to 1"),
        (
            "mask off by one",
            attention_variant(mask="off_by_one"),
            r"position lengths\[b\] is padding",
        ),
        ("inverted mask", attention_variant(mask="inverted"), r"mask is inverted"),
        ("not scaled", attention_variant(scale="none"), r"not scaled"),
        ("scaled by hidden", attention_variant(scale="hidden"), r"divided by hidden"),
        ("filled with 0", attention_variant(fill=0.0), r"filled with 0"),
        ("softmax over steps", attention_variant(dim=1), r"softmax runs over the decoder steps"),
        (
            "no softmax",
            attention_variant(softmax=False),
            r"scores rather than weights: apply the softmax",
        ),
        ("graph cut", attention_variant(detach=True), r"no gradient reaches"),
        ("keys not transposed", attention_no_transpose, r"multiply query .* by keys\.transpose"),
        ("lengths not broadcast", attention_unbroadcast_lengths, r"hint: compare positions"),
        ("mask missing the steps axis", attention_mask_without_steps, r"hint: compare positions"),
        (
            "padded keys zeroed in place",
            attention_zeroes_padded_keys,
            r"changed its argument `keys`",
        ),
        ("keys first", attention_keys_first, r"should have shape \(3, 2, 6\)"),
        ("scaled after the softmax", attention_scaled_after_softmax, r"is wrong at index"),
    ],
}

RIGHT = {
    "greedy_decode": [
        ("stack then cut", greedy),
        ("stop once every sequence ended", greedy_stops_when_all_ended),
        ("lists per row with a done flag", greedy_row_by_row_lists),
        ("tuples and list.index", greedy_tuples_with_index),
        ("takewhile", greedy_itertools),
    ],
    "sequence_accuracy": [
        ("zip and sum", accuracy),
        ("explicit loops", accuracy_loops),
        ("numpy means and zip_longest", accuracy_numpy),
        ("statistics.fmean, a list", accuracy_statistics_list),
        ("torch means with .item()", accuracy_torch_item),
        ("shares weighted by length", accuracy_weighted_shares),
    ],
    "attention_weights": [
        ("masked_fill -inf", attention),
        ("where and bmm, -1e9", attention_where_bmm),
        ("einsum and a masked exp", attention_einsum_exp),
        ("adding log(mask)", attention_log_mask),
        ("finfo.min and .mT", attention_finfo_min),
        ("arange moved .to(lengths)", attention_arange_like),
    ],
}

test_wrong, test_right = catalogue_tests(WRONG, RIGHT)

# Helper tensors made on the CPU: wrong only where the course's device is a GPU.
ON_A_GPU = {
    "greedy_decode": [("start made on the CPU", greedy_cpu_start, r"expects token ids on cuda")],
    "attention_weights": [
        (
            "positions made on the CPU",
            attention_cpu_positions,
            r"hint: tensors on different devices",
        ),
    ],
}
test_wrong_on_a_gpu, _ = catalogue_tests(ON_A_GPU, {})
test_wrong_on_a_gpu = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="a CPU-made tensor is only wrong on a GPU"
)(test_wrong_on_a_gpu)
