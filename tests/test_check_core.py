"""The shared check machinery: plain data, calls, comparisons, verdicts and the three modes."""

import json
import re

import numpy as np
import pytest
import torch
from torch import nn

from rnn_course.check import _core
from rnn_course.check._core import (
    CheckFailed,
    Opaque,
    call,
    decode,
    encode,
    exercise,
    expect_close,
    expect_float,
    expect_int,
    forbid_forward,
)
from rnn_course.errors import InputError


def roundtrip(value):
    return decode(json.loads(json.dumps(encode(value))))


def double(x):
    return 2 * x


@exercise(reference=double)
def doubling(answer) -> int:
    """A toy exercise: return 2 * x for a (batch, features) tensor x."""
    x = torch.tensor([[1.0, -2.0], [3.5, 0.25]])
    expect_close(call(answer, x), 2 * x, "2 * x")
    return 1


@exercise(reference=double)
def doubling_float64(answer) -> int:
    """`doubling` on a float64 tensor inside an autograd graph."""
    x = torch.tensor([[1.0, -2.0], [3.5, 0.25]], dtype=torch.float64).requires_grad_()
    expect_close(call(answer, x), 2 * x, "2 * x")
    return 1


def set_to_one(t):
    t.fill_(1.0)


@exercise(reference=set_to_one, mutable=("t",))
def filling(answer) -> int:
    """A toy exercise that changes its argument in place: fill t with ones."""
    t = torch.zeros(3)
    call(answer, t)
    expect_close(t, torch.ones(3), "t after the call")
    return 1


# ----------------------------------------------------------------------------- plain data


@pytest.mark.parametrize(
    "dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.bool]
)
def test_tensors_survive_plain_data_exactly(dtype):
    tensor = (torch.randn(3, 4) * 100).to(dtype)
    back = roundtrip(tensor)
    assert type(back) is torch.Tensor and back.dtype == dtype and torch.equal(back, tensor)


def test_python_values_keep_their_types():
    value = (1, 2.5, float("nan"), True, None, "s", [torch.Size([2, 3])], {"k": np.float32(1.5)})
    back = roundtrip(value)
    assert type(back) is tuple and type(back[0]) is int and type(back[1]) is float
    assert np.isnan(back[2]) and back[3] is True and back[4] is None and back[5] == "s"
    assert back[6] == [torch.Size([2, 3])] and type(back[7]["k"]) is np.float32


def test_what_is_not_plain_data_comes_back_as_its_type_name():
    back = roundtrip([nn.Linear(2, 2), object()])
    assert isinstance(back[0], Opaque) and back[0].type_name == "Linear"
    assert _core.type_name(back[1]) == "object"


def test_a_tensor_subclass_comes_back_as_its_real_numbers():
    class Fake(torch.Tensor):
        """Every operation on it gives zeros: it would fool a comparison made with it."""

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            result = super().__torch_function__(func, types, args, kwargs or {})
            return (
                torch.zeros_like(result.as_subclass(torch.Tensor))
                if isinstance(result, torch.Tensor)
                else result
            )

    fake = torch.tensor([1.0, 2.0]).as_subclass(Fake)
    back = roundtrip(fake)
    assert type(back) is torch.Tensor and back.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    "data",
    [
        {"tensor": {"dtype": "torch.float32", "shape": [2], "data": "AAAA"}},
        {"tensor": {"dtype": "object", "shape": [1], "data": ""}},
        {"tensor": {"dtype": "torch.float32", "shape": [10**9, 10**9], "data": ""}},
        {"tensor": {"dtype": "torch.float32", "shape": [-1], "data": ""}},
        {"pickle": "gASV"},
        {"list": [1], "tuple": [2]},
        [1, 2],
        {"dict": [[[1], 2]]},
    ],
)
def test_decoding_refuses_what_encode_never_writes(data):
    with pytest.raises(CheckFailed, match="not valid"):
        decode(data)


def test_decoding_refuses_deep_nesting():
    data = 1
    for _ in range(100):
        data = {"list": [data]}
    with pytest.raises(CheckFailed, match="not valid"):
        decode(data)


# ----------------------------------------------------------------------------- calls


def test_an_answer_that_changes_an_argument_in_place_is_named():
    def in_place(x):
        return x.mul_(2)

    verdict = doubling.verdict(in_place)
    assert not verdict.passed
    assert "changed its argument `x` in place" in verdict.message


def test_expected_values_come_from_untouched_inputs():
    seen = []

    def sneaky(x):
        seen.append(x)
        return 2 * x

    assert doubling.verdict(sneaky).passed
    assert seen[0] is not None  # the answer got a copy; the check's own x stayed as it was


def test_a_mutable_argument_is_read_back_in_replay():
    assert filling.verdict(lambda t: set_to_one(t)).passed
    assert not filling.verdict(lambda t: None).passed


def test_an_answer_that_raises_gets_its_inputs_and_a_hint():
    def wrong_product(x):
        return x @ torch.ones(3, 1)

    verdict = doubling.verdict(wrong_product)
    assert not verdict.passed
    assert "your function raised RuntimeError" in verdict.message
    assert "called with x (2, 2) float32" in verdict.message
    assert "hint: the shapes of a matrix product do not fit" in verdict.message


def in_place_on_a_float64_graph(x):
    y = (2 * x).tanh()
    y += 1  # tanh's backward needs its output, now changed
    y.sum().backward()
    return x


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (in_place_on_a_float64_graph, r"hint: a tensor that autograd needs was changed in place"),
        (lambda x: x.float() @ x.T, r"hint: float32 and float64 tensors were mixed"),
        (lambda x: x.T.view(-1), r"hint: \.view needs a contiguous tensor"),
        (lambda x: x @ x[:1], r"hint: the shapes of a matrix product do not fit"),
    ],
)
def test_each_error_gets_the_hint_of_its_own_kind(answer, hint):
    verdict = doubling_float64.verdict(answer)
    assert re.search(hint, verdict.message), verdict.message


def test_not_implemented_and_not_callable():
    def todo(x):
        raise NotImplementedError()

    assert "not implemented yet" in doubling.verdict(todo).message
    assert "pass the function itself" in doubling.verdict(3).message


def test_the_reference_itself_is_not_an_answer():
    assert "the course's reference" in doubling.verdict(double).message


def test_gradients_are_computed_where_the_answer_ran():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    result, (grad,) = call(lambda x: x**2, x, grad_of=lambda y: y.sum())
    assert torch.equal(grad, 2 * x.detach())
    _, (grad,) = call(lambda x: (x**2).detach(), x, grad_of=lambda y: y.sum())
    assert grad is None


def test_a_rule_broken_inside_the_answer_is_reported_as_the_rule():
    module = forbid_forward(nn.Linear(2, 2), "use the weights, not the module")
    with pytest.raises(CheckFailed, match="^use the weights, not the module$"):
        call(lambda m: m(torch.ones(1, 2)), module)
    assert torch.equal(module.weight, module.weight)  # the copy keeps its parameters


# ----------------------------------------------------------------------------- comparisons


def test_float32_accumulators_are_accepted_at_float32_tolerance():
    expected = torch.tensor([1.0, 2.0], dtype=torch.float64) / 3
    expect_close(expected.float(), expected, "the gradient", tol=1e-12)
    with pytest.raises(CheckFailed, match="float32 while the inputs are torch.float64"):
        expect_close(expected.float() + 1e-3, expected, "the gradient")


def test_numbers_are_shown_with_enough_digits_to_differ():
    expected = torch.tensor([1.0000001], dtype=torch.float64)
    with pytest.raises(CheckFailed) as failure:
        expect_close(torch.tensor([1.0000004], dtype=torch.float64), expected, "y", tol=1e-9)
    message = str(failure.value)
    assert "got 1.0000004, expected 1.0000001" in message and "off by 3e-07" in message


def test_integer_results_must_have_the_asked_dtype():
    with pytest.raises(CheckFailed, match="dtype torch.float32, expected torch.int64"):
        expect_close(torch.tensor([1.0, 2.0]), torch.tensor([1, 2]), "the counts")


def test_types_are_checked_not_converted():
    with pytest.raises(CheckFailed, match="got a tensor: use .item"):
        expect_float(torch.tensor(1.0), "the loss")
    with pytest.raises(CheckFailed, match="should be an int, got float"):
        expect_int(3.0, "the count")
    with pytest.raises(CheckFailed, match="should be an int, got bool"):
        expect_int(True, "the count")
    assert expect_float(np.float64(1.5), "the loss") == 1.5


# ----------------------------------------------------------------------------- records


def test_a_record_is_plain_json_and_replays_to_the_same_verdict():
    record, verdict = doubling.record(double.__call__)
    text = json.dumps(record)
    assert "pickle" not in text and doubling.replay(json.loads(text)) == verdict


def test_a_forged_record_does_not_pass():
    record, _ = doubling.record(lambda x: 0 * x)
    outcome = record["calls"][0]["outcome"]
    outcome["result"] = encode(torch.full((2, 2), 7.0))
    assert not doubling.replay(record).passed
    record["calls"][0]["args"] = "0" * 64  # a record made on other inputs
    assert "other inputs" in doubling.replay(record).message
    record["calls"] = []
    assert "stops before" in doubling.replay(record).message
    assert "not valid" in doubling.replay({"exercise": "doubling"}).message


def test_the_global_random_state_is_left_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    doubling.verdict(double.__call__)
    assert torch.equal(torch.rand(3), expected)


# ----------------------------------------------------------------------------- the three modes


def shown(capsys) -> str:
    return capsys.readouterr().out


def test_strict_mode_raises_one_block(monkeypatch):
    monkeypatch.setenv("RNN_COURSE_CHECKS", "strict")
    with pytest.raises(CheckFailed) as failure:
        doubling(lambda x: 3 * x)
    block = failure.value._render_traceback_()
    assert len(block) == 1 and block[0].startswith("FAIL doubling: 2 * x is wrong at index")


def test_fallback_mode_returns_the_reference_and_says_so(monkeypatch, capsys):
    monkeypatch.setenv("RNN_COURSE_CHECKS", "fallback")
    assert doubling(lambda x: 3 * x) is double
    out = shown(capsys)
    assert "FAIL doubling" in out and "using the reference `doubling` until yours passes" in out
    mine = double.__call__
    assert doubling(mine) is mine and "PASS doubling: all 1 tests passed" in shown(capsys)


def shown_data(monkeypatch) -> list[dict]:
    outputs = []
    monkeypatch.setattr(_core, "display", lambda data, raw: outputs.append(data))
    return outputs


def test_a_fail_is_a_red_block_headed_by_the_exercise_a_pass_a_small_green_line(monkeypatch):
    monkeypatch.setenv("RNN_COURSE_CHECKS", "fallback")
    outputs = shown_data(monkeypatch)
    doubling(lambda x: 3 * x)
    doubling(double.__call__)
    fail, passed = outputs
    assert fail["text/plain"].startswith("FAIL doubling: 2 * x is wrong at index")
    assert fail["text/plain"].endswith("\nusing the reference `doubling` until yours passes")
    assert 'class="rnn-course-check rnn-course-fail"' in fail["text/html"]
    assert "FAIL: exercise <code>doubling</code>" in fail["text/html"]
    assert "#c62828" in fail["text/html"] and "using the reference" in fail["text/html"]
    assert passed["text/plain"] == "PASS doubling: all 1 tests passed"
    assert 'class="rnn-course-check rnn-course-pass"' in passed["text/html"]
    assert "#2e7d32" in passed["text/html"] and "#c62828" not in passed["text/html"]


def test_a_message_is_escaped_in_the_block(monkeypatch):
    outputs = shown_data(monkeypatch)
    _core.show_verdict(_core.Verdict("doubling", False, "x <script> & y"))
    assert "x &lt;script&gt; &amp; y" in outputs[0]["text/html"]


class FakeShell:
    def __init__(self):
        self.user_ns = {"doubling_answer": None}


def test_strict_mode_binds_the_reference_in_ipython_before_raising(monkeypatch):
    monkeypatch.setenv("RNN_COURSE_CHECKS", "strict")
    shell = FakeShell()
    monkeypatch.setattr(_core, "get_ipython", lambda: shell)
    with pytest.raises(CheckFailed):
        doubling(lambda x: 3 * x)
    assert shell.user_ns["doubling"] is double, "later cells should run with the reference"


def test_strict_mode_outside_ipython_binds_nothing(monkeypatch):
    monkeypatch.setenv("RNN_COURSE_CHECKS", "strict")
    monkeypatch.setattr(_core, "get_ipython", lambda: None)
    with pytest.raises(CheckFailed):
        doubling(lambda x: 3 * x)


def test_an_unknown_mode_is_named(monkeypatch):
    monkeypatch.setenv("RNN_COURSE_CHECKS", "lenient")
    with pytest.raises(InputError, match="RNN_COURSE_CHECKS is 'lenient'"):
        doubling(double.__call__)


def test_course_errors_render_as_one_block_with_the_callers_line():
    def students_cell():
        raise InputError("window must be a positive int, got 0")

    try:
        students_cell()
    except InputError as error:
        block = error._render_traceback_()
    assert block[0] == "ValueError: window must be a positive int, got 0"
    assert "students_cell" not in block[0] and "raise InputError" in block[1]


def zero_bias(layer):
    with torch.no_grad():
        layer.bias.zero_()


@exercise(reference=zero_bias, mutable=("layer",))
def zeroing(answer) -> int:
    """A toy exercise on a module changed in place: set a Linear layer's bias to zero."""
    torch.manual_seed(0)
    layer = nn.Linear(2, 3)
    call(answer, layer)
    expect_close(layer.bias.detach(), torch.zeros(3), "the bias after the call")
    return 1


def test_a_parameter_replaced_by_a_new_tensor_is_named():
    assert zeroing.verdict(lambda layer: zero_bias(layer)).passed

    def replaces(layer):
        layer.bias = nn.Parameter(torch.zeros(3))

    verdict = zeroing.verdict(replaces)
    assert not verdict.passed and "replaced parameters of `layer` by new tensors (bias)" in (
        verdict.message
    )
