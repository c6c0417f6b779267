"""The machinery every exercise check shares (COURSE.md, "Exercises and grading").

A check is a function `check(answer) -> number of tests passed`, decorated with `@exercise`.
It builds seeded inputs, calls the student's answer through `call`, and compares what came back
with the reference: type and shape first, then one term at a time, then full values. It raises
`CheckFailed` at the first mistake, with a message that locates it.

Plain data between the answer and the check. A check reaches the answer only through a
`Runner` and `call`: the runner calls the answer on copies of the arguments (so expected values
always come from untouched inputs, and an answer that changes an argument in place is named)
and describes what it did as an *outcome* made of plain data (its return value as numbers and
bytes, or the exception it raised); `call` decodes it again into fresh tensors and numbers,
never the answer's own objects. In a notebook the runner is `Local`: the answer runs in the
same process. In grading (`rnn_course.tools.grading`) the check runs in the grader's process and
its runner asks the student's kernel, which holds no check and no reference, for each outcome
(`_kernel.py`). A gradient is taken in two steps: the check differentiates its scalar with
respect to the decoded result, and the runner carries that back through the answer's own graph.
`Exercise.record` and `replay` keep a check's outcomes as data and decide the verdict on them.

How a check cell treats a wrong answer depends on `settings.check_mode()`: in 'fallback' mode
(students) it shows one FAIL block (`show_verdict`: red, with a heading, in a browser) and
returns the course's reference so the lesson can go on; in 'strict' mode (pytest, run-all of
the solutions) it raises `CheckFailed`, shown as one block, after binding the exercise's name to
the reference in the running IPython so later cells still run.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import functools
import hashlib
import html
import inspect
import json
import math
import numbers
import re
from collections.abc import Callable, Sequence

import numpy as np
import torch
from IPython import get_ipython
from IPython.display import display
from torch import nn

from ..errors import CourseError
from ..settings import check_mode

RECORD_MIME = "application/vnd.rnn-course.record+json"
RECORD_VERSION = 2
MAX_NUMEL = 5_000_000  # per decoded tensor: a record is small; anything bigger is not an answer
MAX_DEPTH = 12
DTYPES = {
    str(dtype): dtype
    for dtype in (
        torch.float64,
        torch.float32,
        torch.float16,
        torch.bfloat16,
        torch.int64,
        torch.int32,
        torch.int16,
        torch.int8,
        torch.uint8,
        torch.bool,
        torch.complex64,
        torch.complex128,
    )
}
# Tolerance of a comparison, relative to 1 + the largest expected magnitude, by dtype.
TOLERANCE = {torch.float64: 1e-8, torch.float32: 1e-5, torch.float16: 1e-2, torch.bfloat16: 1e-2}

_REGISTRY: dict[str, Exercise] = {}


class CheckFailed(CourseError, AssertionError):
    """An exercise's answer is wrong; the message says what is wrong."""

    def __init__(self, message: str, exercise: str = ""):
        super().__init__(message)
        self.exercise = exercise

    def _render_traceback_(self) -> list[str]:
        return [f"FAIL {self.exercise}: {self}" if self.exercise else f"FAIL: {self}"]


class RuleBroken(Exception):
    """Raised inside an answer that breaks the exercise's rules (see `forbid_forward`)."""


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The result of checking one answer."""

    exercise: str
    passed: bool
    message: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.exercise}: {self.message}"


# ----------------------------------------------------------------------------- plain data


class Opaque:
    """Stands for a returned value that is not plain data (the check sees only its type)."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


def type_name(value) -> str:
    """The type of `value` as a student would name it (the recorded type for `Opaque`)."""
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def _tensor_bytes(tensor: torch.Tensor) -> tuple[str, list[int], bytes]:
    with torch._C.DisableTorchFunctionSubclass():
        plain = tensor.as_subclass(torch.Tensor).detach().cpu().contiguous()
        return (
            str(plain.dtype),
            list(plain.shape),
            plain.reshape(-1).view(torch.uint8).numpy().tobytes(),
        )


def encode(value, depth: int = 0):
    """`value` as JSON-ready plain data: numbers, strings, lists, dicts and tensor bytes."""
    if depth > MAX_DEPTH:
        return {"object": "too deeply nested"}
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"float": str(value)}
    if isinstance(value, torch.Tensor):
        if value.numel() > MAX_NUMEL:
            return {"object": f"tensor of {value.numel()} elements"}
        try:
            dtype, shape, raw = _tensor_bytes(value)
        except Exception:
            return {"object": type(value).__name__}
        return {
            "tensor": {
                "dtype": dtype,
                "shape": shape,
                "data": base64.b64encode(raw).decode(),
                "requires_grad": bool(value.requires_grad),
            }
        }
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.kind not in "biufc":
            return {"object": type(value).__name__}
        kind = "ndarray" if isinstance(value, np.ndarray) else "numpy_scalar"
        try:
            return {kind: encode(torch.from_numpy(np.array(array)), depth + 1)}
        except (TypeError, RuntimeError):
            return {"object": type(value).__name__}
    if type(value) in (tuple, list, torch.Size):
        kind = {tuple: "tuple", list: "list", torch.Size: "size"}[type(value)]
        return {kind: [encode(item, depth + 1) for item in value]}
    if type(value) is dict:
        return {"dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, torch.dtype):
        return {"dtype": str(value)}
    return {"object": type(value).__name__}


def _invalid(why: str) -> CheckFailed:
    return CheckFailed(f"the record of your answer is not valid ({why})")


def _decode_tensor(spec) -> torch.Tensor:
    if not isinstance(spec, dict):
        raise _invalid("a tensor without its fields")
    dtype, shape, data = spec.get("dtype"), spec.get("shape"), spec.get("data")
    if dtype not in DTYPES or not isinstance(shape, list) or not isinstance(data, str):
        raise _invalid(f"a tensor of dtype {str(dtype)[:30]!r}")
    if not all(type(n) is int and 0 <= n <= MAX_NUMEL for n in shape) or len(shape) > 8:
        raise _invalid("a tensor shape")
    numel = math.prod(shape)
    if numel > MAX_NUMEL:
        raise _invalid(f"a tensor of {numel} elements")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raise _invalid("tensor data") from None
    dtype = DTYPES[dtype]
    if len(raw) != numel * torch.empty((), dtype=dtype).element_size():
        raise _invalid("tensor data of the wrong size")
    if numel == 0:
        tensor = torch.empty(shape, dtype=dtype)
    else:
        tensor = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape)
    if spec.get("requires_grad") is True and (tensor.is_floating_point() or tensor.is_complex()):
        tensor.requires_grad_(True)
    return tensor


def decode(data, depth: int = 0):
    """The plain data of `encode` as fresh Python values and tensors; rejects anything else."""
    if depth > MAX_DEPTH + 1:
        raise _invalid("nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if not isinstance(data, dict) or len(data) != 1:
        raise _invalid(f"an unknown value of type {type(data).__name__}")
    ((kind, body),) = data.items()
    if kind == "float" and body in ("nan", "inf", "-inf"):
        return float(body)
    if kind == "tensor":
        return _decode_tensor(body)
    if kind in ("ndarray", "numpy_scalar"):
        array = decode(body, depth + 1)
        if not isinstance(array, torch.Tensor):
            raise _invalid("an array")
        array = array.detach().numpy()
        return array if kind == "ndarray" else array[()]
    if kind in ("tuple", "list", "size") and isinstance(body, list):
        items = [decode(item, depth + 1) for item in body]
        if kind == "size":
            if not all(type(n) is int for n in items):
                raise _invalid("a size")
            return torch.Size(items)
        return tuple(items) if kind == "tuple" else items
    if kind == "dict" and isinstance(body, list):
        pairs = [decode(pair, depth + 1) for pair in ({"list": p} for p in body)]
        if not all(len(pair) == 2 and isinstance(pair[0], (str, int)) for pair in pairs):
            raise _invalid("a dict")
        return dict(pairs)
    if kind == "dtype" and body in DTYPES:
        return DTYPES[body]
    if kind == "object" and isinstance(body, str):
        return Opaque(body[:60])
    raise _invalid(f"an unknown value {kind[:30]!r}")


def _module_state(module: nn.Module) -> dict:
    return {name: tensor for name, tensor in module.state_dict(keep_vars=True).items()}


def _identity(value):
    """What identifies an argument: `encode`, with the state of modules and optimizers."""
    if isinstance(value, nn.Module):
        return {"module": type(value).__name__, "state": encode(_module_state(value))}
    if isinstance(value, torch.optim.Optimizer):
        return {"optimizer": type(value).__name__, "state": encode(value.state_dict())}
    if type(value) in (tuple, list):
        return [_identity(item) for item in value]
    return encode(value)


def fingerprint(args: Sequence) -> str:
    """A digest of the arguments of a call, the same in the kernel and in the grader."""
    text = json.dumps(_identity(list(args)), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------------------- one call


def _copy(value):
    """A copy of an argument that the answer may not change, so the original stays untouched.

    A tensor keeps its dtype, device and layout; one inside an autograd graph (not a leaf, such
    as an LSTM's state) stays one, in a graph of its own.
    """
    if isinstance(value, torch.Tensor):
        copied = torch.empty_strided(
            value.shape, value.stride(), dtype=value.dtype, device=value.device
        )
        try:  # the same strides, so a slice stays non-contiguous
            copied.copy_(value.detach())
        except RuntimeError:  # overlapping memory (an expanded tensor): a plain copy
            copied = value.detach().clone()
        copied.requires_grad_(value.requires_grad)
        return copied if value.is_leaf else copied.clone()
    if isinstance(value, nn.Module):
        return copy.deepcopy(value)
    if type(value) in (tuple, list):
        return type(value)(_copy(item) for item in value)
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    return value


def _differs(original, passed) -> str:
    """How the answer changed an argument it was given ('' when it did not)."""
    if isinstance(original, torch.Tensor):
        if not isinstance(passed, torch.Tensor) or passed.shape != original.shape:
            return "its shape changed"
        same = (passed.detach() == original.detach()) | (passed.isnan() & original.isnan())
        return "" if bool(same.all()) else "its values changed"
    if isinstance(original, nn.Module):
        before, after = original.state_dict(), passed.state_dict()
        if before.keys() != after.keys():
            return "its parameters changed"
        for name in before:
            if _differs(before[name], after[name]):
                return f"its {name} changed"
        return ""
    if type(original) in (tuple, list, dict):
        if len(original) != len(passed):
            return "its length changed"
        keys = original.keys() if type(original) is dict else range(len(original))
        return next((why for key in keys if (why := _differs(original[key], passed[key]))), "")
    return ""


def _state(value, before=None):
    """The state of a mutable argument after the call, as plain data.

    For a module, `before` maps its parameters' names to the objects it had before the call,
    so that a parameter replaced by a new object (which an optimizer built earlier would never
    update) is named.
    """
    if isinstance(value, nn.Module):
        now = dict(value.named_parameters())
        requires_grad = {name: p.requires_grad for name, p in now.items()}
        replaced = sorted(name for name, p in (before or {}).items() if now.get(name) is not p)
        return {
            "module": encode(_module_state(value)),
            "requires_grad": requires_grad,
            "replaced": replaced,
        }
    if isinstance(value, torch.optim.Optimizer):
        return {"optimizer": encode(value.state_dict())}
    return {"value": encode(value)}


def _apply_state(target, state, name: str) -> None:
    """Put a recorded state into the check's own argument (replay), or leave it (live)."""
    if not isinstance(state, dict):
        raise _invalid(f"the state of {name}")
    try:
        if isinstance(target, nn.Module):
            replaced = state.get("replaced") or []
            if replaced:
                raise CheckFailed(
                    f"your function replaced parameters of `{name}` by new tensors "
                    f"({', '.join(map(str, replaced))[:120]}): an optimizer built before keeps "
                    "the old ones and would never train the new; change the values in place, "
                    "under torch.no_grad()"
                )
            recorded = decode(state.get("module"))
            own = _module_state(target)
            if not isinstance(recorded, dict) or recorded.keys() != own.keys():
                raise CheckFailed(
                    f"your function changed which parameters `{name}` has; change their values"
                )
            with torch.no_grad():
                for key, tensor in own.items():
                    tensor.copy_(recorded[key])
            flags = state.get("requires_grad", {})
            for key, param in target.named_parameters():
                param.requires_grad_(flags.get(key) is True)
        elif isinstance(target, torch.optim.Optimizer):
            target.load_state_dict(decode(state.get("optimizer")))
        elif isinstance(target, torch.Tensor):
            with torch.no_grad():
                target.copy_(decode(state.get("value")))
    except CheckFailed:
        raise
    except Exception as exc:
        raise CheckFailed(
            f"`{name}` was left in a state the check cannot read back ({type(exc).__name__})"
        ) from None


def _raised(exc: BaseException) -> dict:
    """The outcome of an answer that raised `exc`."""
    try:
        message = str(exc)[:2000]
    except Exception:
        message = ""
    kind = "RuleBroken" if isinstance(exc, RuleBroken) else type(exc).__name__
    return {"raised": {"type": kind[:80], "message": message}}


def _tensors(value) -> list:
    """The tensors of a result (a tensor, or tuples and lists of them), in order."""
    if isinstance(value, torch.Tensor):
        return [value]
    if type(value) in (tuple, list):
        return [tensor for item in value for tensor in _tensors(item)]
    return []


def _run_answer(answer: Callable, args: Sequence, mutable: set[int], with_grads: bool):
    """Call the answer on copies of `args`; return what happened as plain data, and the graph
    (result, argument tensors that require grad) that `_answer_grads` differentiates."""
    passed = [arg if index in mutable else _copy(arg) for index, arg in enumerate(args)]
    parameters = {
        index: dict(passed[index].named_parameters())
        for index in mutable
        if isinstance(passed[index], nn.Module)
    }
    try:
        result = answer(*passed)
    except (Exception, SystemExit) as exc:
        return _raised(exc), None
    changed = {}
    for index, (original, given) in enumerate(zip(args, passed)):
        if index not in mutable and (why := _differs(original, given)):
            changed[str(index)] = why
    outcome = {"result": encode(result), "changed": changed}
    outcome["mutated"] = {
        str(index): _state(passed[index], parameters.get(index)) for index in sorted(mutable)
    }
    wrt = [arg for arg in passed if isinstance(arg, torch.Tensor) and arg.requires_grad]
    return outcome, ((result, wrt) if with_grads else None)


def _answer_grads(graph, grad_outputs) -> dict:
    """The gradients with respect to the graph's inputs, given those of its result's tensors
    (`_grad_outputs`; None: nothing to differentiate), as plain data."""
    if graph is None:
        return {"raised": {"type": "RuntimeError", "message": "no result to differentiate"}}
    result, wrt = graph
    try:
        pairs = [
            (tensor, grad)
            for tensor, grad in zip(_tensors(result), grad_outputs or ())
            if grad is not None and tensor.requires_grad
        ]
        grads = (
            torch.autograd.grad(
                [tensor for tensor, _ in pairs], wrt, [grad for _, grad in pairs], allow_unused=True
            )
            if pairs and wrt
            else [None] * len(wrt)
        )
    except (Exception, SystemExit) as exc:
        return _raised(exc)
    return {"grads": [encode(grad) for grad in grads]}


def _grad_outputs(result, grad_of: Callable) -> list | None:
    """d grad_of(result) / d each tensor of `result` (`_tensors`; None where it does not
    depend on one), or None when `grad_of` gives no scalar that depends on the result."""
    if not isinstance(result, (torch.Tensor, tuple, list)):
        return None
    leaves: list[torch.Tensor] = []

    def rebuild(value):
        if isinstance(value, torch.Tensor):
            leaf = value.detach().clone()
            leaf.requires_grad_(leaf.is_floating_point() or leaf.is_complex())
            leaves.append(leaf)
            return leaf
        if type(value) in (tuple, list):
            return type(value)(rebuild(item) for item in value)
        return value

    loss = grad_of(rebuild(result))
    if not (isinstance(loss, torch.Tensor) and loss.requires_grad):
        return None
    found = iter(
        torch.autograd.grad(
            loss, [leaf for leaf in leaves if leaf.requires_grad], allow_unused=True
        )
    )
    return [next(found) if leaf.requires_grad else None for leaf in leaves]


class Runner:
    """How a check reaches an answer; every method returns plain data (see the module)."""

    def about(self) -> dict:
        """{"callable": bool, "type": name} of the answer."""
        raise NotImplementedError

    def run(self, args: Sequence, mutable: set[int], with_grads: bool) -> dict:
        """The outcome of calling the answer on (copies of) `args`."""
        raise NotImplementedError

    def grads(self, grad_outputs: list | None) -> dict:
        """{"grads": [...]} of the last `run` (made `with_grads`), or {"raised": ...}."""
        raise NotImplementedError


class Local(Runner):
    """The answer itself, called in this process."""

    def __init__(self, answer):
        self.answer = answer
        self._graph = None

    def about(self) -> dict:
        return {"callable": callable(self.answer), "type": type(self.answer).__name__}

    def run(self, args: Sequence, mutable: set[int], with_grads: bool) -> dict:
        outcome, self._graph = _run_answer(self.answer, args, mutable, with_grads)
        return json.loads(json.dumps(outcome))  # exactly what a grading kernel would send

    def grads(self, grad_outputs: list | None) -> dict:
        return json.loads(json.dumps(_answer_grads(self._graph, grad_outputs)))


class _Recording(Runner):
    """A runner that keeps every outcome, in order, in `calls` (with the arguments' digest)."""

    def __init__(self, runner: Runner, calls: list):
        self.runner, self.calls = runner, calls

    def about(self) -> dict:
        return self.runner.about()

    def run(self, args: Sequence, mutable: set[int], with_grads: bool) -> dict:
        digest = fingerprint(args)  # before a mutable argument changes
        outcome = self.runner.run(args, mutable, with_grads)
        self.calls.append({"args": digest, "outcome": outcome})
        return outcome

    def grads(self, grad_outputs: list | None) -> dict:
        outcome = self.runner.grads(grad_outputs)
        self.calls.append({"grads": outcome})
        return outcome


class _Replaying(Runner):
    """A runner that answers from `calls` (made by `_Recording`), calling nothing."""

    def __init__(self, calls: list):
        self.calls, self.position = calls, 0

    def _next(self, kind: str) -> dict:
        if self.position >= len(self.calls):
            raise _invalid("it stops before the check's last call")
        entry = self.calls[self.position]
        self.position += 1
        if not isinstance(entry, dict) or kind not in entry:
            raise _invalid(f"call {self.position} is not the {kind} the check asks for")
        return entry

    def run(self, args: Sequence, mutable: set[int], with_grads: bool) -> dict:
        entry = self._next("outcome")
        if entry.get("args") != fingerprint(args):
            raise _invalid(f"call {self.position} was made on other inputs than the check's")
        return entry["outcome"]

    def grads(self, grad_outputs: list | None) -> dict:
        return self._next("grads")["grads"]


def describe_arguments(args: Sequence, names: Sequence[str]) -> str:
    """'x_t (3, 4) float32, steps 10': the inputs of a call, for messages."""
    parts = []
    for index, arg in enumerate(args):
        name = names[index] if index < len(names) else f"argument {index + 1}"
        if isinstance(arg, torch.Tensor):
            parts.append(f"{name} {tuple(arg.shape)} {str(arg.dtype).removeprefix('torch.')}")
        elif isinstance(arg, (bool, int, float, str)) or arg is None:
            parts.append(f"{name} {arg!r}")
        else:
            parts.append(f"{name} ({type(arg).__name__})")
    return ", ".join(parts)


# Tried in order, the first match wins: an in-place error names the tensor's dtype
# ("[torch.DoubleTensor [3, 4]]"), and a dtype error can name "mat1 and mat2".
GENERIC_HINTS: list[tuple[str, str]] = [
    (
        r"modified by an inplace operation|leaf Variable that requires grad",
        "a tensor that autograd needs was changed in place (+=, x[...] = ..., .add_(), "
        "a ReLU(inplace=True)); build a new tensor instead (h = h + ..., torch.stack of a list), "
        "and change a parameter in place only under torch.no_grad()",
    ),
    (
        r"same dtype|scalar type|[Ff]ound dtype|expected .*dtype|dtype .* but got",
        "float32 and float64 tensors were mixed: create new tensors with the inputs' dtype "
        "(dtype=x.dtype, or torch.zeros_like(x))",
    ),
    (
        r"[Ee]xpected all tensors to be on the same device|device type|on device",
        "tensors on different devices were combined: create new tensors on the inputs' device "
        "(device=x.device, or torch.zeros_like(x))",
    ),
    (
        r"shapes cannot be multiplied|size mismatch|Expected size for first two",
        "the shapes of a matrix product do not fit: nn.Linear's convention is x @ W.T; check which "
        "factor needs .T and that each argument has the shape the exercise states",
    ),
    (
        r"must match the size of tensor b",
        "two tensors of different shapes are combined element by element: print the shape of "
        "each term",
    ),
    (
        r"Sizes of tensors must match except in dimension",
        "torch.cat or torch.stack got tensors whose other dimensions differ: check the dim you "
        "join along",
    ),
    (
        r"view size is not compatible with input tensor's size and stride",
        ".view needs a contiguous tensor and these inputs are not (a slice or a transpose): use "
        ".reshape, which copies when it must",
    ),
    (
        r"is invalid for input of size",
        "a reshape or view asks for a shape whose size differs from the data's: check the sizes "
        "you computed",
    ),
    (
        r"out of (bounds|range)",
        "an index runs past the end of a dimension: check the last index (length - 1)",
    ),
    (
        r"numpy\(\) on Tensor that requires grad",
        "call .detach() before .numpy(), or stay with torch operations",
    ),
    (
        r"[Tt]rying to backward through the graph a second time",
        "backward() ran twice through the same graph: call loss.backward() once per step",
    ),
]


def _raised_message(kind: str, message: str, args, names, hints) -> str:
    first = f"your function raised {kind}" + (f": {message}" if message else "")
    lines = [first, f"  called with {describe_arguments(args, names)}"]
    for hint in hints:
        found = hint(kind, message, args) if callable(hint) else None
        if not callable(hint) and re.search(hint[0], message):
            found = hint[1]
        if found:
            lines.append(f"  hint: {found}")
            break
    return "\n".join(lines)


_runs: list[Exercise] = []  # the exercise whose check is running (for `call`'s messages)


def call(answer, *args, grad_of: Callable | None = None):
    """Call the student's answer on `args` (copies of them) and return what it returned.

    `answer` is what the check was given: a `Runner`, or the function itself. Any exception
    the answer raises, and any change it makes to an argument the exercise does not declare
    mutable, becomes a `CheckFailed` that says so. With `grad_of` (a function of the result
    returning a scalar tensor), also returns the gradients of that scalar with respect to every
    argument tensor that requires grad (None where none reached it), as `(result, gradients)`.
    """
    runner = answer if isinstance(answer, Runner) else Local(answer)
    exercise = _runs[-1] if _runs else None
    names = exercise.params if exercise else ()
    mutable = exercise.mutable_indices() if exercise else set()
    outcome = runner.run(args, mutable, grad_of is not None)
    result = _interpret(outcome, args, names, mutable, exercise)
    if grad_of is None:
        return result
    wrt = [arg for arg in args if isinstance(arg, torch.Tensor) and arg.requires_grad]
    grads = runner.grads(_grad_outputs(result, grad_of))
    _raise_if_raised(grads, args, names, exercise)
    listed = grads.get("grads")
    if not isinstance(listed, list) or len(listed) != len(wrt):
        raise _invalid("the gradients")
    return result, tuple(decode(grad) for grad in listed)


def _raise_if_raised(outcome, args, names, exercise) -> None:
    """Raise the `CheckFailed` that says what the answer raised, if it raised."""
    if not isinstance(outcome, dict):
        raise _invalid("an outcome")
    raised = outcome.get("raised")
    if raised is None:
        return
    kind = str(raised.get("type", ""))[:80] if isinstance(raised, dict) else "an error"
    message = str(raised.get("message", ""))[:2000] if isinstance(raised, dict) else ""
    if kind == "NotImplementedError" and not message:  # the stub, not a library's error
        raise CheckFailed(
            "not implemented yet: replace `raise NotImplementedError()` with your code"
        )
    if kind == "RuleBroken":
        raise CheckFailed(message)
    hints = [*(exercise.hints if exercise else ()), *GENERIC_HINTS]
    raise CheckFailed(_raised_message(kind, message, args, names, hints))


def _interpret(outcome, args, names, mutable, exercise):
    _raise_if_raised(outcome, args, names, exercise)
    changed = outcome.get("changed") or {}
    if not isinstance(changed, dict):
        raise _invalid("the changed arguments")
    for index, why in changed.items():
        position = int(index) if str(index).isdigit() else -1
        name = names[position] if 0 <= position < len(names) else f"argument {position + 1}"
        raise CheckFailed(
            f"your function changed its argument `{name}` in place ({str(why)[:80]}): leave the "
            f"inputs as they are and build new tensors (or work on `{name}.clone()`)"
        )
    mutated = outcome.get("mutated") or {}
    if not isinstance(mutated, dict) or set(mutated) != {str(index) for index in mutable}:
        raise _invalid("the changed arguments")
    for index in sorted(mutable):
        name = names[index] if index < len(names) else f"argument {index + 1}"
        _apply_state(args[index], mutated[str(index)], name)
    return decode(outcome.get("result"))


# ----------------------------------------------------------------------------- exercises


class Exercise:
    """An exercise's check: call it on the answer in a notebook (`check.NAME(NAME)`)."""

    def __init__(
        self,
        check: Callable[..., int],
        reference: Callable | None = None,
        params: Sequence[str] | None = None,
        mutable: Sequence[str] = (),
        hints: Sequence = (),
    ):
        functools.update_wrapper(self, check)
        self.name = check.__name__
        self.check = check
        self.reference = reference
        if params is None and reference is not None:
            params = list(inspect.signature(reference).parameters)
        self.params = tuple(params or ())
        unknown = set(mutable) - set(self.params)
        if unknown:
            raise ValueError(f"{self.name}: mutable names {sorted(unknown)} are not parameters")
        self.mutable = tuple(mutable)
        self.hints = tuple(hints)

    def mutable_indices(self) -> set[int]:
        return {self.params.index(name) for name in self.mutable}

    def _run(self, runner: Runner) -> Verdict:
        _runs.append(self)
        try:
            with torch.random.fork_rng(devices=[]):  # the lesson's random numbers stay its own
                tests = self.check(runner)
        except CheckFailed as failure:
            return Verdict(self.name, False, str(failure))
        except Exception as exc:
            return Verdict(
                self.name,
                False,
                "the check stopped on something unexpected in your answer's result "
                f"({type(exc).__name__}: {str(exc)[:200]})",
            )
        finally:
            _runs.pop()
        return Verdict(self.name, True, f"all {tests} tests passed")

    def _refusal(self, about) -> str:
        """Why an answer is not checked at all ('' when it is): not a function, or the
        course's own reference."""
        if not isinstance(about, dict):
            return "the record of your answer is not valid"
        if about.get("callable") is not True:
            return (
                f"expected your function, got {str(about.get('type'))[:60]}: pass the function "
                f"itself, check.{self.name}({self.name})"
            )
        if about.get("reference") is True:
            return (
                "this is the course's reference solution, not yours: run the cell that defines "
                f"`{self.name}` again, then this check"
            )
        return ""

    def judge(self, runner: Runner) -> Verdict:
        """The verdict on the answer that `runner` reaches, decided in this process."""
        try:
            refusal = self._refusal(runner.about())
        except CheckFailed as failure:
            refusal = str(failure)
        return Verdict(self.name, False, refusal) if refusal else self._run(runner)

    def record(self, answer) -> tuple[dict, Verdict]:
        """Check `answer` here and return the plain-data record of its calls, and the verdict."""
        about = {**Local(answer).about(), "reference": answer is self.reference}
        record = {"exercise": self.name, "version": RECORD_VERSION, "answer": about, "calls": []}
        if self._refusal(about):
            return record, self.replay(record)
        return record, self._run(_Recording(Local(answer), record["calls"]))

    def replay(self, record) -> Verdict:
        """The verdict on a record made by `record`, decided here without calling any answer."""
        if (
            not isinstance(record, dict)
            or record.get("exercise") != self.name
            or record.get("version") != RECORD_VERSION
            or not isinstance(record.get("answer"), dict)
            or not isinstance(record.get("calls"), list)
        ):
            return Verdict(self.name, False, "the record of your answer is not valid")
        refusal = self._refusal(record["answer"])
        if refusal:
            return Verdict(self.name, False, refusal)
        return self._run(_Replaying(list(record["calls"])))

    def verdict(self, answer) -> Verdict:
        """Check `answer` through plain data: record, then replay."""
        record, _ = self.record(answer)
        return self.replay(json.loads(json.dumps(record)))

    def __call__(self, answer):
        """Check `answer`; return the function the rest of the lesson should use."""
        mode = check_mode()
        verdict = self.verdict(answer)
        if verdict.passed:
            show_verdict(verdict)
            return answer
        if mode == "strict":
            self._fall_back_in_ipython()
            raise CheckFailed(verdict.message, self.name)
        show_verdict(verdict, self.reference is not None)
        return answer if self.reference is None else self.reference

    def _fall_back_in_ipython(self) -> None:
        """Bind the exercise's name to the reference in the running IPython, if any.

        A strict check raises before its cell can assign; the later cells (and the feedback
        a grader writes) then run with the reference, not fail for an unrelated reason.
        """
        shell = get_ipython()
        if shell is not None and self.reference is not None:
            shell.user_ns[self.name] = self.reference


FALLBACK_NOTE = "using the reference `{name}` until yours passes"
_BLOCK_STYLE = {
    False: "border-left:6px solid #c62828;background:#fdecea;color:#1f1f1f;"
    "padding:8px 12px;margin:6px 0;border-radius:3px",
    True: "color:#2e7d32;font-size:85%;margin:2px 0",
}


def show_verdict(verdict: Verdict, fallback: bool = False) -> None:
    """Display a check's verdict: a red block with a heading for a FAIL, a small green line
    for a PASS; its text/plain form (terminals, nbval, the grader) is the verdict's line."""
    text = verdict.line()
    note = FALLBACK_NOTE.format(name=verdict.exercise) if fallback else ""
    if verdict.passed:
        body = f"&#10003; {html.escape(text)}"
    else:
        heading = f"&#10007; FAIL: exercise <code>{html.escape(verdict.exercise)}</code>"
        body = (
            f'<div style="font-weight:bold;color:#b71c1c;font-size:110%">{heading}</div>'
            '<pre style="white-space:pre-wrap;margin:6px 0 0 0;background:none;padding:0">'
            f"{html.escape(verdict.message)}</pre>"
        )
        if note:
            body += f'<div style="margin-top:6px;font-style:italic">{html.escape(note)}</div>'
    outcome = "pass" if verdict.passed else "fail"
    block = (
        f'<div class="rnn-course-check rnn-course-{outcome}" '
        f'style="{_BLOCK_STYLE[verdict.passed]}">{body}</div>'
    )
    display({"text/plain": f"{text}\n{note}" if note else text, "text/html": block}, raw=True)


def exercise(
    check: Callable | None = None,
    *,
    reference: Callable | None = None,
    params: Sequence[str] | None = None,
    mutable: Sequence[str] = (),
    hints: Sequence = (),
):
    """Make `check(answer) -> tests passed` an exercise named after it (COURSE.md).

    `reference` is the course's solution: the fallback a stuck student's lesson goes on with,
    and the source of the parameter names (`params`) used in messages. `mutable` names the
    arguments the answer is meant to change in place. `hints` are extra (regex, hint) pairs or
    functions `(kind, message, args) -> hint or None` for an answer that raises.
    """

    def make(function: Callable) -> Exercise:
        made = Exercise(function, reference, params, mutable, hints)
        _REGISTRY[made.name] = made
        return made

    return make(check) if check is not None else make


def exercises() -> dict[str, Exercise]:
    """Every exercise's check, by name."""
    return dict(_REGISTRY)


# ----------------------------------------------------------------------------- comparisons


def same(got, value: torch.Tensor, tol: float | None = None) -> bool:
    """True when `got` is a tensor of `value`'s shape and equal to it within the tolerance."""
    if not isinstance(got, torch.Tensor) or got.shape != value.shape:
        return False
    return _error(got, value, tol)[0] is None


def _tolerance(got: torch.Tensor, expected: torch.Tensor, tol: float | None) -> float:
    own = TOLERANCE.get(expected.dtype, 0.0) if tol is None else tol
    # a less precise answer loosens the comparison at most to float32's: a bfloat16 result
    # 0.4% off fails where the lesson computes in float32 or float64
    return max(own, min(TOLERANCE.get(got.dtype, 0.0), TOLERANCE[torch.float32]))


def _error(got: torch.Tensor, expected: torch.Tensor, tol: float | None):
    """(index of the worst element or None, its error, the tolerance used)."""
    tolerance = _tolerance(got, expected, tol)
    if expected.numel() == 0:
        return None, 0.0, tolerance
    wide = torch.float64 if not expected.is_complex() else torch.complex128
    a, b = got.detach().to(wide), expected.detach().to(wide)
    error = (a - b).abs().nan_to_num(float("inf"))
    error[a.isnan() & b.isnan()] = 0
    scale = 1 + float(b.abs().nan_to_num(0).max())
    worst = int(error.argmax())
    if float(error.reshape(-1)[worst]) <= tolerance * scale:
        return None, float(error.reshape(-1)[worst]), tolerance
    index = tuple(int(i) for i in np.unravel_index(worst, tuple(expected.shape)))
    return index, float(error.reshape(-1)[worst]), tolerance


def format_pair(got: float, expected: float) -> tuple[str, str]:
    """Two numbers written with just enough digits to tell them apart."""
    for digits in range(4, 18):
        a, b = f"{got:.{digits}g}", f"{expected:.{digits}g}"
        if a != b:
            return a, b
    return repr(got), repr(expected)


def expect_tensor(got, like: torch.Tensor, what: str) -> None:
    """Fail unless `got` is a tensor with the shape of `like`."""
    if not isinstance(got, torch.Tensor):
        raise CheckFailed(f"{what} should be a tensor, got {type_name(got)}")
    if got.shape != like.shape:
        raise CheckFailed(f"{what} should have shape {tuple(like.shape)}, got {tuple(got.shape)}")


def expect_dtype(got: torch.Tensor, dtype: torch.dtype, what: str, hint: str = "") -> None:
    """Fail unless `got` has exactly `dtype` (a dtype the exercise asks for)."""
    if got.dtype != dtype:
        message = f"{what} has dtype {got.dtype}, expected {dtype}"
        raise CheckFailed(message + (f": {hint}" if hint else ""))


def expect_float64(got: torch.Tensor, what: str, argument: str) -> None:
    """Fail unless `got` is float64, as its float64 inputs: the lesson compares it at 1e-10."""
    expect_dtype(
        got,
        torch.float64,
        what,
        f"the inputs are float64 and the lesson compares this result at 1e-10, beyond float32's "
        f"precision; create new tensors with dtype={argument}.dtype (or torch.zeros_like)",
    )


def expect_close(
    got, expected: torch.Tensor, what: str, hint: str = "", tol: float | None = None
) -> None:
    """Fail unless `got` matches `expected` within the tolerance, naming the worst element.

    Floating answers are compared at the tolerance of the less precise of the two dtypes
    (`TOLERANCE`, or `tol` for the expected dtype); integer and bool results must have the
    expected dtype exactly.
    """
    expect_tensor(got, expected, what)
    if expected.is_floating_point():
        if not (got.is_floating_point() or got.is_complex()):
            raise CheckFailed(
                f"{what} has dtype {got.dtype}, expected a floating-point tensor ({expected.dtype})"
            )
    else:
        expect_dtype(got, expected.dtype, what)
    index, error, tolerance = _error(got, expected, tol)
    if index is None:
        return
    a, b = got.detach()[index].item(), expected.detach()[index].item()
    if isinstance(a, complex) or isinstance(b, complex):
        shown_a, shown_b = str(a), str(b)
    else:
        shown_a, shown_b = format_pair(a, b)
    where = f" at index {index}" if expected.dim() else ""
    message = f"{what} is wrong{where}: got {shown_a}, expected {shown_b}"
    if math.isfinite(error) and error > 0:
        message += f" (off by {error:.2g})"
    if got.dtype != expected.dtype and got.is_floating_point() and expected.is_floating_point():
        if TOLERANCE.get(got.dtype, 0) > TOLERANCE.get(expected.dtype, 0):
            message += (
                f"; your result is {got.dtype} while the inputs are {expected.dtype}: create new "
                "tensors with dtype=x.dtype (torch.zeros(..., dtype=x.dtype)) so no precision "
                "is lost"
            )
    raise CheckFailed(message + (f"; {hint}" if hint else ""))


def expect_float(got, what: str) -> float:
    """Fail unless `got` is a Python float (not a tensor, not an int); return it."""
    if isinstance(got, torch.Tensor):
        raise CheckFailed(f"{what} should be a Python float, got a tensor: use .item()")
    if not isinstance(got, float):
        raise CheckFailed(f"{what} should be a Python float, got {type_name(got)}")
    return got


def expect_int(got, what: str) -> int:
    """Fail unless `got` is an int (not a bool, a float or a tensor); return it."""
    if isinstance(got, torch.Tensor):
        raise CheckFailed(f"{what} should be a Python int, got a tensor: use .item()")
    if not isinstance(got, numbers.Integral) or isinstance(got, bool):
        raise CheckFailed(f"{what} should be an int, got {type_name(got)}")
    return int(got)


def expect_sequence(got, length: int, what: str, names: str) -> Sequence:
    """Fail unless `got` is a tuple or list of `length` items (`names` reads like '(h_t, c_t)')."""
    if not isinstance(got, (tuple, list)) or len(got) != length:
        size = f" of {len(got)}" if isinstance(got, (tuple, list)) else ""
        raise CheckFailed(f"{what} should return {names}, got {type_name(got)}{size}")
    return got


def name_mistake(got, mistakes: dict[str, torch.Tensor], tol: float | None = None) -> None:
    """Fail with the description of the first known mistake whose value `got` equals."""
    for description, value in mistakes.items():
        if same(got, value, tol):
            raise CheckFailed(description)


def forbid_forward(module: nn.Module, message: str) -> nn.Module:
    """A copy of `module` whose forward raises `RuleBroken(message)`: 'use its weights'."""

    def forward(self, *args, **kwargs):
        raise RuleBroken(message)

    def reduce(self, protocol):  # pickled (for a grading kernel) and copied as a call to this
        plain = object.__new__(type(module))
        plain.__dict__.update(self.__dict__)
        return forbid_forward, (plain, message)

    ruled = copy.deepcopy(module)
    methods = {"forward": forward, "__reduce_ex__": reduce}
    ruled.__class__ = type(type(module).__name__, (type(module),), methods)
    return ruled
