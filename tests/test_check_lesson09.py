"""Lesson 09's checks: each plausible wrong answer rejected with its mistake named, each right one passed."""

from __future__ import annotations

import math
import random

import numpy as np
import torch
from catalogue import catalogue_tests
from torch.nn import functional as F  # noqa: N812

LN2 = math.log(2)

# ----------------------------------------------------------------------------- bits_per_char


def bits_flat(logits, targets):
    nats = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    return nats.item() / math.log(2)


def bits_transpose(logits, targets):
    return F.cross_entropy(logits.transpose(1, 2), targets).item() / LN2


def bits_gather(logits, targets):
    log_p = torch.log_softmax(logits, dim=-1).gather(-1, targets.unsqueeze(-1))
    return (-log_p.mean() / LN2).item()


def bits_log2(logits, targets):
    p = torch.softmax(logits.double(), dim=-1)
    return -torch.log2(p.gather(2, targets[..., None])).mean().item()


def bits_categorical(logits, targets):
    log_p = torch.distributions.Categorical(logits=logits).log_prob(targets)
    return -log_p.mean().item() / np.log(2)  # a NumPy float is a float


def bits_in_nats(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)).item()


def bits_perplexity(logits, targets):
    return math.exp(bits_in_nats(logits, targets))


def bits_log2_of_loss(logits, targets):
    return math.log2(bits_in_nats(logits, targets))


def bits_times_ln2(logits, targets):
    return bits_in_nats(logits, targets) * math.log(2)


def bits_unflattened(logits, targets):
    return F.cross_entropy(logits, targets).item() / LN2


def bits_last_step(logits, targets):
    return F.cross_entropy(logits[:, -1], targets[:, -1]).item() / LN2


def bits_sum(logits, targets):
    flat = logits.reshape(-1, logits.shape[-1])
    return F.cross_entropy(flat, targets.reshape(-1), reduction="sum").item() / LN2


def bits_per_sequence(logits, targets):
    return bits_sum(logits, targets) / logits.shape[0]


def bits_mean_probability(logits, targets):
    p = torch.softmax(logits, -1).gather(-1, targets[..., None])
    return -math.log2(p.mean().item())


def bits_double_softmax(logits, targets):
    probs = torch.softmax(logits, dim=-1)
    return F.cross_entropy(probs.reshape(-1, probs.shape[-1]), targets.reshape(-1)).item() / LN2


def bits_nll_on_logits(logits, targets):
    return F.nll_loss(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)).item() / LN2


def bits_shifted(logits, targets):
    vocab = logits.shape[-1]
    nats = F.cross_entropy(logits[:, :-1].reshape(-1, vocab), targets[:, 1:].reshape(-1))
    return nats.item() / LN2


def bits_tensor(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)) / LN2


def bits_no_minus(logits, targets):
    return -bits_flat(logits, targets)


def bits_numpy(logits, targets):
    probs = torch.softmax(logits, -1).numpy()
    return float(-np.mean(np.log2(np.take_along_axis(probs, targets.numpy()[..., None], -1))))


# ----------------------------------------------------------------------------- make_streams


def streams_reshape(ids, n_streams):
    stream_len = len(ids) // n_streams
    return ids[: n_streams * stream_len].reshape(n_streams, stream_len)


def streams_view(ids, n_streams):
    stream_len = ids.shape[0] // n_streams
    return ids[: stream_len * n_streams].view(n_streams, -1).clone()


def streams_stack(ids, n_streams):
    stream_len = len(ids) // n_streams
    return torch.stack([ids[b * stream_len : (b + 1) * stream_len] for b in range(n_streams)])


def streams_unfold(ids, n_streams):
    stream_len = len(ids) // n_streams
    return ids.unfold(0, stream_len, stream_len)[:n_streams]


def streams_split(ids, n_streams):
    stream_len = len(ids) // n_streams
    return torch.stack(ids.split(stream_len)[:n_streams])


def streams_no_cut(ids, n_streams):
    return ids.view(n_streams, -1)


def streams_interleaved(ids, n_streams):
    stream_len = len(ids) // n_streams
    return ids[: n_streams * stream_len].view(-1, n_streams).T


def streams_transposed(ids, n_streams):
    stream_len = len(ids) // n_streams
    return ids[: n_streams * stream_len].view(stream_len, n_streams)


def streams_chunk(ids, n_streams):
    return torch.stack(ids.chunk(n_streams))


def streams_tensor_split(ids, n_streams):
    return torch.stack(torch.tensor_split(ids, n_streams))


def streams_list(ids, n_streams):
    stream_len = len(ids) // n_streams
    return [ids[b * stream_len : (b + 1) * stream_len] for b in range(n_streams)]


def streams_cut_at_start(ids, n_streams):
    stream_len = len(ids) // n_streams
    return ids[len(ids) - n_streams * stream_len :].reshape(n_streams, stream_len)


def streams_padded(ids, n_streams):
    stream_len = math.ceil(len(ids) / n_streams)
    padded = torch.zeros(n_streams * stream_len, dtype=ids.dtype)
    padded[: len(ids)] = ids
    return padded.view(n_streams, stream_len)


def streams_float(ids, n_streams):
    stream_len = len(ids) // n_streams
    streams = torch.zeros(n_streams, stream_len)
    for b in range(n_streams):
        streams[b] = ids[b * stream_len : (b + 1) * stream_len]
    return streams


def streams_one_short(ids, n_streams):
    stream_len = (len(ids) - 1) // n_streams  # one id kept back for the last target
    return ids[: n_streams * stream_len].view(n_streams, stream_len)


def streams_numpy(ids, n_streams):
    stream_len = len(ids) // n_streams
    return ids.numpy()[: n_streams * stream_len].reshape(n_streams, stream_len)


def streams_in_place(ids, n_streams):
    stream_len = len(ids) // n_streams
    return ids.resize_(n_streams, stream_len)


def bits_view(logits, targets):
    vocab = logits.shape[-1]
    return F.cross_entropy(logits.view(-1, vocab), targets.view(-1)).item() / LN2


def bits_log10(logits, targets):
    p = logits.softmax(-1).gather(-1, targets[..., None])
    return -p.log10().mean().item()


def bits_log2_and_ln2(logits, targets):
    p = logits.softmax(-1).gather(-1, targets[..., None])
    return -p.log2().mean().item() / LN2


def bits_softmax_over_time(logits, targets):
    log_p = logits.log_softmax(1).gather(-1, targets[..., None])
    return -log_p.mean().item() / LN2


def bits_softmax_over_batch(logits, targets):
    log_p = logits.log_softmax(0).gather(-1, targets[..., None])
    return -log_p.mean().item() / LN2


def bits_misaligned(logits, targets):
    vocab = logits.shape[-1]
    nats = F.cross_entropy(logits[:, 1:].reshape(-1, vocab), targets[:, :-1].reshape(-1))
    return nats.item() / LN2


def bits_contiguous_first(logits, targets):
    vocab = logits.shape[-1]
    flat = logits.contiguous().view(-1, vocab)
    return F.cross_entropy(flat, targets.contiguous().view(-1)).item() / LN2


def bits_flatten(logits, targets):
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten()).item() / LN2


# ----------------------------------------------------------------------------- detach_state


def detach_reference_style(state):
    if isinstance(state, torch.Tensor):
        return state.detach()
    return tuple(part.detach() for part in state)


def detach_unpacked(state):
    if isinstance(state, tuple):
        h_n, c_n = state
        return h_n.detach(), c_n.detach()
    return state.detach()


def detach_list(state):
    if torch.is_tensor(state):
        return state.detach()
    return [part.detach() for part in state]  # nn.LSTM accepts a list too


def detach_data(state):
    if isinstance(state, torch.Tensor):
        return state.data
    return (state[0].data, state[1].data)


def detach_recursive(state):
    if isinstance(state, (tuple, list)):
        return type(state)(detach_recursive(part) for part in state)
    return state.detach()


def detach_in_place(state):
    for part in state if isinstance(state, tuple) else (state,):
        part.detach_()
    return state


def detach_requires_grad_false(state):
    if isinstance(state, torch.Tensor):
        return state.requires_grad_(False)
    return tuple(part.requires_grad_(False) for part in state)


def detach_clone_detach(state):
    if isinstance(state, torch.Tensor):
        return state.clone().detach()
    return tuple(part.clone().detach() for part in state)


def detach_identity(state):
    return state


def detach_whole_tuple(state):
    return state.detach()


def detach_tuple_only(state):
    h_n, c_n = state
    return h_n.detach(), c_n.detach()


def detach_iterate(state):
    return tuple(part.detach() for part in state)


def detach_generator(state):
    if isinstance(state, torch.Tensor):
        return state.detach()
    return (part.detach() for part in state)


def detach_only_h(state):
    if isinstance(state, torch.Tensor):
        return state.detach()
    return state[0].detach(), state[1]


def detach_only_c(state):
    if isinstance(state, torch.Tensor):
        return state.detach()
    return state[0], state[1].detach()


def detach_zeros(state):
    if isinstance(state, torch.Tensor):
        return torch.zeros_like(state)
    return tuple(torch.zeros_like(part) for part in state)


def detach_clone(state):
    if isinstance(state, torch.Tensor):
        return state.clone()
    return tuple(part.clone() for part in state)


def detach_no_grad(state):
    with torch.no_grad():
        return state


def detach_swapped(state):
    if isinstance(state, torch.Tensor):
        return state.detach()
    return state[1].detach(), state[0].detach()


def detach_stacked(state):
    if isinstance(state, torch.Tensor):
        return state.detach()
    return torch.stack(state).detach()


def detach_new_leaf(state):
    if isinstance(state, torch.Tensor):
        return state.detach().requires_grad_()
    return tuple(part.detach().requires_grad_() for part in state)


# ----------------------------------------------------------------------------- sample_next


def sample_reference_style(logits, temperature, top_k):
    scaled = logits / temperature
    if top_k is not None:
        kth = scaled.topk(top_k, dim=-1).values[:, -1:]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    return torch.multinomial(torch.softmax(scaled, dim=-1), 1)[:, 0]


def sample_categorical(logits, temperature, top_k):
    if top_k is not None:
        values, indices = logits.topk(top_k, dim=-1)
        choice = torch.distributions.Categorical(logits=values / temperature).sample()
        return indices.gather(1, choice[:, None]).squeeze(1)
    return torch.distributions.Categorical(logits=logits / temperature).sample()


def sample_gumbel(logits, temperature, top_k):
    scaled = logits / temperature
    if top_k:
        cut = torch.sort(scaled, dim=1, descending=True).values[:, top_k - 1 : top_k]
        scaled = torch.where(scaled >= cut, scaled, torch.tensor(float("-inf")))
    gumbel = -torch.log(-torch.log(torch.rand_like(scaled)))
    return (scaled + gumbel).argmax(dim=1)


def sample_power(logits, temperature, top_k):
    probs = torch.softmax(logits.double(), dim=-1) ** (1 / temperature)  # p^(1/T), renormalised
    if top_k is not None:
        mask = torch.zeros_like(probs).scatter(1, probs.topk(top_k).indices, 1.0)
        probs = probs * mask
    return torch.multinomial(probs, 1).view(-1)


def sample_numpy(logits, temperature, top_k):
    probs = torch.softmax(logits / temperature, dim=-1).numpy().astype(np.float64)
    rows = []
    for row in probs:
        if top_k is not None:
            row = np.where(row >= np.sort(row)[-top_k], row, 0.0)
        rows.append(np.random.choice(len(row), p=row / row.sum()))
    return torch.tensor(rows)


def sample_inverse_cdf(logits, temperature, top_k):
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_k is not None:
        probs = probs * (probs >= probs.topk(top_k).values[:, -1:])
    cdf = probs.cumsum(-1) / probs.sum(-1, keepdim=True)
    u = torch.rand(len(probs), 1)
    return (u > cdf).sum(-1).clamp(max=probs.shape[-1] - 1)


def sample_python(logits, temperature, top_k):
    ids = []
    for row in (logits / temperature).tolist():
        allowed = sorted(range(len(row)), key=lambda i: -row[i])[: top_k or len(row)]
        weights = [math.exp(row[i]) for i in allowed]
        ids.append(random.choices(allowed, weights)[0])
    return torch.tensor(ids, dtype=torch.int64)


def sample_keepdim(logits, temperature, top_k):
    return torch.multinomial(torch.softmax(logits / temperature, dim=-1), 1)


def sample_greedy(logits, temperature, top_k):
    return logits.argmax(dim=-1)


def sample_no_temperature(logits, temperature, top_k):
    return sample_reference_style(logits, 1.0, top_k)


def sample_times_temperature(logits, temperature, top_k):
    return sample_reference_style(logits * temperature**2, temperature, top_k)


def sample_probs_over_temperature(logits, temperature, top_k):
    probs = torch.softmax(logits, dim=-1) / temperature
    if top_k is not None:
        probs = probs * (probs >= probs.topk(top_k).values[:, -1:])
    return torch.multinomial(probs, 1)[:, 0]


def sample_batch_softmax(logits, temperature, top_k):
    return torch.multinomial(torch.softmax(logits / temperature, dim=0), 1)[:, 0]


def sample_log_softmax(logits, temperature, top_k):
    return torch.multinomial(torch.log_softmax(logits / temperature, dim=-1), 1)[:, 0]


def sample_ignores_top_k(logits, temperature, top_k):
    return sample_reference_style(logits, temperature, None)


def sample_smallest_k(logits, temperature, top_k):
    scaled = logits / temperature
    if top_k is not None:
        kth = scaled.topk(top_k, dim=-1, largest=False).values[:, -1:]
        scaled = scaled.masked_fill(scaled > kth, float("-inf"))
    return torch.multinomial(torch.softmax(scaled, dim=-1), 1)[:, 0]


def sample_k_minus_one(logits, temperature, top_k):
    scaled = logits / temperature
    if top_k is not None:
        kth = scaled.topk(top_k, dim=-1).values[:, -1:]
        scaled = scaled.masked_fill(scaled <= kth, float("-inf"))
    return torch.multinomial(torch.softmax(scaled, dim=-1), 1)[:, 0]


def sample_k_plus_one(logits, temperature, top_k):
    return sample_reference_style(logits, temperature, None if top_k is None else top_k + 1)


def sample_zero_fill(logits, temperature, top_k):
    scaled = logits / temperature
    if top_k is not None:
        kth = scaled.topk(top_k, dim=-1).values[:, -1:]
        scaled = scaled.masked_fill(scaled < kth, 0.0)
    return torch.multinomial(torch.softmax(scaled, dim=-1), 1)[:, 0]


def sample_temperature_only_without_top_k(logits, temperature, top_k):
    if top_k is None:
        return sample_reference_style(logits, temperature, None)
    return sample_reference_style(logits, 1.0, top_k)


def sample_top_k_none_unhandled(logits, temperature, top_k):
    scaled = logits / temperature
    kth = scaled.topk(top_k, dim=-1).values[:, -1:]
    scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    return torch.multinomial(torch.softmax(scaled, dim=-1), 1)[:, 0]


def sample_one_random_number(logits, temperature, top_k):
    probs = torch.softmax(sample_masked_logits(logits, top_k) / temperature, dim=-1)
    u = torch.rand(1)  # one number for the whole batch: every row draws the same quantile
    return (u > probs.cumsum(-1)).sum(-1).clamp(max=probs.shape[-1] - 1)


def sample_masked_logits(logits, top_k):
    if top_k is None:
        return logits
    kth = logits.topk(top_k, dim=-1).values[:, -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def sample_first_row_threshold(logits, temperature, top_k):
    scaled = logits / temperature
    if top_k is not None:  # the k-th largest of the first row, used for every row
        scaled = scaled.masked_fill(scaled < scaled[0].topk(top_k).values[-1], float("-inf"))
    return torch.multinomial(scaled.softmax(-1), 1)[:, 0]


def sample_item(logits, temperature, top_k):
    return torch.multinomial(torch.softmax(logits / temperature, dim=-1), 1)[0].item()


def sample_in_place(logits, temperature, top_k):
    logits /= temperature
    return torch.multinomial(torch.softmax(sample_masked_logits(logits, top_k), -1), 1)[:, 0]


WRONG = {
    "bits_per_char": [
        ("nats, not bits", bits_in_nats, r"in nats"),
        ("perplexity", bits_perplexity, r"perplexity"),
        ("log2 of the loss", bits_log2_of_loss, r"log2 of the loss"),
        ("times ln 2", bits_times_ln2, r"do not multiply"),
        ("(batch, time, vocab) into cross_entropy", bits_unflattened, r"dimension 1"),
        ("last step only", bits_last_step, r"last time step"),
        ("sum, not mean", bits_sum, r"sum over every position"),
        ("per sequence", bits_per_sequence, r"sum per sequence"),
        ("log of the mean probability", bits_mean_probability, r"log of the mean probability"),
        ("softmax before cross_entropy", bits_double_softmax, r"softmax before"),
        ("nll_loss on logits", bits_nll_on_logits, r"nll_loss expects log-probabilities"),
        ("targets shifted again", bits_shifted, r"shifted one step"),
        ("a tensor", bits_tensor, r"Python float, got a tensor"),
        ("sign", bits_no_minus, r"sign is wrong"),
        ("numpy on a tensor that requires grad", bits_numpy, r"detach\(\)"),
        (".view on slices", bits_view, r"\.view needs a contiguous tensor.*\.reshape"),
        ("log base 10", bits_log10, r"log base is 10"),
        ("log2, then / ln 2 again", bits_log2_and_ln2, r"divided by ln 2 once more"),
        ("softmax over time", bits_softmax_over_time, r"softmax ran over dimension 1 \(time\)"),
        ("softmax over the batch", bits_softmax_over_batch, r"over dimension 0 \(the batch\)"),
        ("logits ahead of targets", bits_misaligned, r"misaligned by one step"),
    ],
    "make_streams": [
        ("view without cutting the leftover", streams_no_cut, r"multiple of n_streams"),
        ("interleaved streams", streams_interleaved, r"every 4th id"),
        ("(stream_len, n_streams)", streams_transposed, r"one stream per row"),
        ("chunk", streams_chunk, r"different lengths"),
        ("tensor_split", streams_tensor_split, r"different lengths"),
        ("a list of rows", streams_list, r"list of pieces"),
        ("leftover cut at the start", streams_cut_at_start, r"dropped at the start"),
        (
            "padded with zeros",
            streams_padded,
            r"n_streams = 5 ids; the 3 left over at the end are dropped, got 6",
        ),
        ("float rows", streams_float, r"float32, expected torch.int64"),
        ("one id kept back", streams_one_short, r"n_streams = 6 ids, got 5"),
        ("a NumPy array", streams_numpy, r"should be a tensor, got ndarray"),
        ("resize_ in place", streams_in_place, r"changed its argument `ids` in place"),
    ],
    "detach_state": [
        ("identity", detach_identity, r"h_n it returned still requires grad"),
        ("tuple.detach()", detach_whole_tuple, r"tuple \(h_n, c_n\): detach each tensor"),
        ("assumes a pair", detach_tuple_only, r"one tensor h_n, not a pair"),
        ("iterates over a GRU state", detach_iterate, r"should be one tensor, got a tuple"),
        ("a generator", detach_generator, r"wrap it in tuple"),
        ("only h_n", detach_only_h, r"c_n it returned still requires grad"),
        ("only c_n", detach_only_c, r"h_n it returned still requires grad"),
        ("zeros", detach_zeros, r"all zeros: that resets the state"),
        ("clone", detach_clone, r"clone\(\) and torch.no_grad\(\) do not cut"),
        ("no_grad", detach_no_grad, r"still requires grad"),
        ("swapped", detach_swapped, r"wrong order"),
        ("stacked", detach_stacked, r"pair \(h_n, c_n\), got one tensor of shape \(2, 2, 3, 4\)"),
        ("a new leaf that requires grad", detach_new_leaf, r"still requires grad"),
        ("requires_grad_(False)", detach_requires_grad_false, r"not a leaf.*use \.detach\(\)"),
    ],
    "sample_next": [
        ("multinomial's (batch, 1)", sample_keepdim, r"take \[:, 0\]"),
        ("greedy", sample_greedy, r"greedy decoding"),
        ("temperature ignored", sample_no_temperature, r"temperature is ignored"),
        ("times the temperature", sample_times_temperature, r"multiplied by the temperature"),
        ("probabilities / temperature", sample_probs_over_temperature, r"temperature is ignored"),
        ("softmax over the batch", sample_batch_softmax, r"over dimension 0"),
        ("log-probabilities into multinomial", sample_log_softmax, r"apply torch.softmax"),
        ("top_k ignored", sample_ignores_top_k, r"top_k=3 is ignored"),
        ("smallest k", sample_smallest_k, r"3 smallest"),
        ("k - 1 kept", sample_k_minus_one, r"only 2 ids"),
        ("k + 1 kept", sample_k_plus_one, r"4 ids can be drawn"),
        ("zero instead of -inf", sample_zero_fill, r"set them to -inf"),
        (
            "temperature lost with top_k",
            sample_temperature_only_without_top_k,
            r"ignored when top_k",
        ),
        ("top_k None not handled", sample_top_k_none_unhandled, r"only if top_k is not None"),
        ("one random number per batch", sample_one_random_number, r"each row must be drawn"),
        ("an int", sample_item, r"should be a tensor, got int"),
        (
            "the first row's k-th largest for every row",
            sample_first_row_threshold,
            r"the row \[3\.0, 2\.5, 4\.0",
        ),
        ("divides the logits in place", sample_in_place, r"changed its argument `logits`"),
    ],
}

RIGHT = {
    "bits_per_char": [
        ("flatten", bits_flat),
        ("transpose", bits_transpose),
        ("gather", bits_gather),
        ("log2 in float64", bits_log2),
        ("Categorical", bits_categorical),
        ("contiguous, then view", bits_contiguous_first),
        ("flatten", bits_flatten),
    ],
    "make_streams": [
        ("reshape", streams_reshape),
        ("view", streams_view),
        ("stack of slices", streams_stack),
        ("unfold", streams_unfold),
        ("split", streams_split),
    ],
    "detach_state": [
        ("isinstance and a tuple", detach_reference_style),
        ("unpacked", detach_unpacked),
        ("a list", detach_list),
        (".data", detach_data),
        ("recursive", detach_recursive),
        ("detach_ in place", detach_in_place),
        ("clone then detach", detach_clone_detach),
    ],
    "sample_next": [
        ("multinomial", sample_reference_style),
        ("Categorical on the top k", sample_categorical),
        ("Gumbel-max", sample_gumbel),
        ("p ** (1 / T)", sample_power),
        ("NumPy's random.choice", sample_numpy),
        ("inverse CDF", sample_inverse_cdf),
        ("random.choices", sample_python),
    ],
}

test_wrong, test_right = catalogue_tests(WRONG, RIGHT)
