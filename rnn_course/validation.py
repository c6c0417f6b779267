"""Argument checks shared by the package: each error names the argument, what it got and wanted."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from .errors import InputError, InputTypeError


def describe(value) -> str:
    """A short description of `value` for error messages: type, and shape for arrays."""
    if isinstance(value, torch.Tensor):
        return f"a {value.dim()}-D tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"a {value.ndim}-D array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:120]


def check_positive_int(name: str, value) -> None:
    """Raise unless `value` is an int >= 1."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise InputError(f"{name} must be a positive int, got {describe(value)}")


def check_fraction(name: str, value) -> None:
    """Raise unless `value` is a number strictly between 0 and 1."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 < value < 1:
        raise InputError(f"{name} must be a number strictly between 0 and 1, got {value!r}")


def as_tensor(name: str, value, dtype: torch.dtype | None = None) -> torch.Tensor:
    """`value` as a tensor (from a tensor, array or list of numbers), or a clear TypeError."""
    if isinstance(value, torch.Tensor):
        return value if dtype is None else value.to(dtype)
    try:
        return torch.as_tensor(np.asarray(value), dtype=dtype)
    except (TypeError, ValueError, RuntimeError):
        raise InputTypeError(
            f"{name} must be a tensor, a NumPy array or a list of numbers, got {describe(value)}"
        ) from None


def as_1d_tensor(name: str, value) -> torch.Tensor:
    """`value` as a 1-D float32 tensor of shape (time,), or an error naming `name`."""
    tensor = as_tensor(name, value, torch.float32)
    if tensor.dim() != 1:
        raise InputError(f"{name} must be 1-D with shape (time,), got {describe(tensor)}")
    return tensor


def check_tensor(name: str, value, ndim: int, layout: str) -> torch.Tensor:
    """Raise unless `value` is a tensor with `ndim` dimensions; `layout` reads like '(batch, time)'."""
    if not isinstance(value, torch.Tensor):
        raise InputTypeError(f"{name} must be a {ndim}-D tensor {layout}, got {describe(value)}")
    if value.dim() != ndim:
        raise InputError(f"{name} must be a {ndim}-D tensor {layout}, got {describe(value)}")
    return value
