"""`Optimizer`: the base of every optimiser: parameter groups, lazily created state, ``zero_grad``,
``step``, and a ``state_dict`` in PyTorch's layout that round-trips exactly.

The base owns the loop over parameters and the per-parameter state; a subclass writes one in-place
update of one parameter, ``_update(group, p, g, state)``, next to its formula. There it takes its
state through :meth:`Optimizer._buffer` and :meth:`Optimizer._next_step` (each entry created on
first need, so an option switched on mid-training, such as ``amsgrad``, finds its buffer), does the
per-parameter bookkeeping (step counts, bias corrections) in Python and calls one
:class:`~backprop.backend.kernels.Kernel` with the arrays and named scalars: NumPy ufuncs, split
over threads for large parameters, or a fused numba loop (``backprop.backend.kernels`` decides).
After the update the base bumps the parameter's version, so that a backward that saved the old
values raises instead of using the new ones, as in PyTorch.
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd import enable_grad
from ..backend.kernels import Scratch
from ..tensor import Tensor

__all__ = ["Optimizer"]


def _grad(p: np.ndarray, g: np.ndarray, buf, weight_decay, maximize: bool) -> np.ndarray:
    """The gradient the update uses: ``(-g if maximize else g) + weight_decay * p``.

    Writes into ``buf`` only when it has to, and never into ``g`` (the user's ``.grad``).
    """
    if weight_decay:
        np.multiply(p, weight_decay, out=buf)
        if maximize:
            buf -= g
        else:
            buf += g
        return buf
    if maximize:
        return np.negative(g, out=buf)
    return g


def _lerp(start, end, weight: float, out):
    """``start += weight * (end - start)`` in place, rounded as PyTorch's ``lerp_`` (``out`` is
    scratch of the same shape)."""
    np.subtract(end, start, out=out)
    if abs(weight) < 0.5:
        out *= weight
        start += out
    else:
        out *= 1 - weight
        np.subtract(end, out, out=start)


def _is_real_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _same_kind(default, v) -> bool:
    """Whether ``v`` (from a state dict) can stand for a hyper-parameter whose default is
    ``default``: a bool for a bool, a real number for a number, a sequence of as many numbers
    for a tuple (``betas``); a default of None accepts anything."""
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(v, (bool, np.bool_))
    if isinstance(default, (int, float)):
        return _is_real_number(v)
    if isinstance(default, (tuple, list)):
        return (
            isinstance(v, (tuple, list))
            and len(v) == len(default)
            and all(_same_kind(d, x) for d, x in zip(default, v))
        )
    return isinstance(v, type(default))


def _copy_value(v):
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, Tensor):
        return v.data.copy()
    return copy.deepcopy(v)


class Optimizer:
    """Base class of the optimisers: holds the parameter groups and their per-parameter state.

    Args:
        params: an iterable of Tensors, or of dicts (parameter groups:
            ``{"params": [...], "lr": ...}``, whose keys override ``defaults`` for that group).
        defaults: the hyper-parameters of a group that does not set them.

    Attributes:
        param_groups: a list of dicts, each with ``"params"`` (a list of Tensors) and every
            hyper-parameter; a learning-rate scheduler edits ``group["lr"]`` between steps.
        state: ``state[p]`` is a dict of the per-parameter state (created on the first step):
            NumPy arrays in the parameter's dtype and Python numbers.

    Subclasses define ``_validate(group)`` (raise ValueError for a bad hyper-parameter) and
    ``_update(group, p, g, state)`` (the in-place update of one parameter; see the module
    docstring).
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self._validate(self.defaults)
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                f"but got a Tensor of shape {params.shape}"
            )
        if hasattr(params, "named_parameters"):  # a Module (a Sequential would iterate layers)
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, got "
                f"the module {type(params).__name__}; pass model.parameters()"
            )
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        try:
            param_groups = list(params)
        except TypeError:
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, got "
                f"{type(params).__name__}"
            ) from None
        if len(param_groups) == 0:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)
        self._scratch = Scratch()  # the NumPy kernels' temporaries, reused between steps

    # ----------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own hyper-parameters) to optimise from now on.

        Args:
            param_group: ``{"params": tensors, name: value, ...}``; missing hyper-parameters take
                the optimiser's defaults.
        """
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{type(self).__name__}: a parameter group must be a dict, got "
                f"{type(param_group).__name__}"
            )
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{type(self).__name__}: parameters must be in an ordered collection (a list), "
                f"not a set: the order of a set changes between runs"
            )
        else:
            params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: can only optimise Tensors, but parameter {i} of the "
                    f"group is a {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{type(self).__name__}: cannot optimise a non-leaf Tensor (parameter {i}, "
                    f"shape {p.shape}, made by {p.grad_fn.name})"
                )
        if len({id(p) for p in params}) != len(params):
            warnings.warn(
                f"{type(self).__name__}: a parameter group contains the same tensor twice; "
                f"this will be an error in the future, as in PyTorch",
                stacklevel=3,
            )
        group = {k: v for k, v in param_group.items() if k != "params"}
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._validate(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(
                f"{type(self).__name__}: some parameters appear in more than one parameter group"
            )
        group["params"] = params
        param_group.update(group)  # as in PyTorch, the caller's dict is the group
        self.param_groups.append(param_group)

    def _validate(self, group: dict[str, Any]) -> None:
        """Raise ValueError naming the hyper-parameter and its value when one is invalid."""
        _check_nonneg(self, group, "lr")

    # ----------------------------------------------------------------- stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimised parameters.

        Args:
            set_to_none: drop the gradients (``p.grad = None``: saves memory, and the next backward
                writes instead of adding) rather than filling them with zeros.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif p.grad.data.flags.writeable:
                    p.grad.data.fill(0)
                else:
                    p.grad = Tensor._make(np.zeros(p.shape, p.dtype), False, None)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient, in place.

        Args:
            closure: a function that zeroes the gradients, recomputes the loss, calls
                ``backward()`` and returns the loss; it runs (with gradients enabled) before the
                update. Needed by optimisers that evaluate the loss several times; optional here.

        Returns:
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if g.shape != p.data.shape:
                    raise ValueError(
                        f"{type(self).__name__}.step: gradient of shape {g.shape} does not match "
                        f"its parameter of shape {p.data.shape}"
                    )
                if g.dtype != p.data.dtype:
                    g = g.astype(p.data.dtype)
                state = self.state.get(p)
                if state is None:
                    state = {}
                self._update(group, p, g, state)
                if state and p not in self.state:  # a stateless update leaves no entry
                    self.state[p] = state
                p._bump_version()
        return loss

    def _update(self, group: dict[str, Any], p: Tensor, g: np.ndarray, state: dict) -> None:
        """Update ``p.data`` in place from its gradient ``g`` (an array of p's shape and dtype).

        Args:
            group: the parameter's group (its hyper-parameters).
            p: the parameter.
            g: its gradient, read only (it is the user's ``p.grad``).
            state: the parameter's state dict, empty on its first step; fill it through
                :meth:`_buffer` and :meth:`_next_step`.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define _update")

    # ----------------------------------------------------------------- lazy state
    @staticmethod
    def _buffer(state: dict, name: str, p: Tensor, fill: float = 0.0) -> np.ndarray:
        """``state[name]``, created on first need: a C-contiguous array of ``p``'s shape and
        dtype filled with ``fill``."""
        buf = state.get(name)
        if buf is None:
            buf = state[name] = np.full(p.data.shape, fill, p.data.dtype)
        return buf

    @staticmethod
    def _next_step(state: dict) -> int:
        """Count one more step in ``state["step"]`` (created at 0) and return the new count."""
        t = state["step"] = state.get("step", 0) + 1
        return t

    # ----------------------------------------------------------------- state dicts
    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state, in PyTorch's layout, as deep copies.

        Returns:
            ``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index, ...]}]}``,
            where parameters are numbered in the order of the groups; values are Python numbers,
            tuples and NumPy arrays (no pickling needed to store it).
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            key = index[id(p)] if isinstance(p, Tensor) and id(p) in index else p
            state[key] = {k: _copy_value(v) for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state saved by :meth:`state_dict` (of an optimiser over the same parameters).

        Arrays are copied and cast to their parameter's dtype; integer keys saved as strings (by a
        JSON round trip) are accepted.
        """
        name = type(self).__name__
        _check_layout(state_dict, name, list(self.defaults))
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state has {len(saved_groups)} parameter groups, "
                f"the optimiser {len(self.param_groups)}"
            )
        id_map: dict[int, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(saved['params'])} "
                    f"parameters in the state, {len(group['params'])} in the optimiser"
                )
            for k, p in zip(saved["params"], group["params"]):
                id_map[int(k)] = p
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for k, s in state_dict["state"].items():
            key = int(k) if isinstance(k, str) and k.lstrip("-").isdigit() else k
            p = id_map.get(key)
            if p is None:
                state[key] = {n: _copy_value(v) for n, v in s.items()}
                continue
            state[p] = {n: self._load_value(p, n, v) for n, v in s.items()}
        new_groups = []
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            new = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            if isinstance(new.get("betas"), list):
                new["betas"] = tuple(new["betas"])
            for k, v in new.items():  # a flag must be a bool, a rate a number... (a file's values)
                if k in self.defaults and not _same_kind(self.defaults[k], v):
                    raise ValueError(
                        f"{name}.load_state_dict: parameter group {i}: {k!r} is "
                        f"{type(v).__name__} {v!r:.40}, expected {type(self.defaults[k]).__name__}"
                        f" like {self.defaults[k]!r:.40}"
                    )
            self._validate(new)
            new["params"] = group["params"]
            new_groups.append(new)
        self.state = state
        self.param_groups = new_groups

    def _load_value(self, p: Tensor, name: str, v):
        if isinstance(v, Tensor):
            v = v.data
        where = f"{type(self).__name__}.load_state_dict: state {name!r}"
        if name == "step":  # a count: a str, float or list here would fail (or mislead) mid-step
            if isinstance(v, np.integer):
                v = int(v)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{where} must be an int >= 0, got {type(v).__name__} {v!r:.40}")
            return v
        if isinstance(v, np.ndarray) and v.dtype.kind not in "biuf":
            raise ValueError(f"{where} has dtype {v.dtype}; expected real numbers")
        if not (v is None or isinstance(v, np.ndarray) or _is_real_number(v)):
            raise ValueError(
                f"{where} is {type(v).__name__} {v!r:.40}; expected an array or a number"
            )
        if isinstance(v, np.ndarray):
            if v.shape != p.shape:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: state {name!r} has shape {v.shape}, "
                    f"its parameter {p.shape}"
                )
            return np.array(v, dtype=p.dtype, order="C", copy=True)
        return copy.deepcopy(v)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)


# --------------------------------------------------------------------- validation helpers
def _check_layout(sd, name: str, hyper: list[str]) -> None:
    """The layout of a state dict (it may come from a file): clear errors, not a KeyError."""
    where = f"{name}.load_state_dict"
    if (
        not isinstance(sd, dict)
        or not isinstance(sd.get("param_groups"), list)
        or not isinstance(sd.get("state"), dict)
    ):
        got = sorted(map(str, sd)) if isinstance(sd, dict) else type(sd).__name__
        raise ValueError(
            f"{where}: expected a dict with 'state' and 'param_groups' (from state_dict()), got "
            f"{got}"
        )
    for i, g in enumerate(sd["param_groups"]):
        if not isinstance(g, dict) or not isinstance(g.get("params"), list):
            raise ValueError(f"{where}: parameter group {i} must be a dict with a 'params' list")
        if not all(isinstance(k, int) and not isinstance(k, bool) for k in g["params"]):
            raise ValueError(f"{where}: parameter group {i} has non-integer parameter ids")
        missing = [h for h in hyper if h not in g]
        if missing:
            raise ValueError(f"{where}: parameter group {i} lacks {', '.join(missing)}")
    for k, v in sd["state"].items():
        if not isinstance(v, dict):
            raise ValueError(f"{where}: the state of parameter {k!r} must be a dict")


def _check_nonneg(opt, group: dict[str, Any], name: str) -> None:
    v = group[name]
    _check_number(opt, name, v)
    if not v >= 0.0:  # also catches NaN
        raise ValueError(f"{_owner(opt)}: invalid {name}={v!r} (must be >= 0)")


def _check_number(opt, name: str, v) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{_owner(opt)}: {name} must be a number, got {v!r}")


def _check_range(opt, name: str, v, lo: float, hi: float, hi_open: bool = True) -> None:
    _check_number(opt, name, v)
    ok = lo <= v < hi if hi_open else lo <= v <= hi
    if not ok:
        bracket = ")" if hi_open else "]"
        raise ValueError(f"{_owner(opt)}: invalid {name}={v!r} (must be in [{lo}, {hi}{bracket})")


def _owner(opt) -> str:
    return opt if isinstance(opt, str) else type(opt).__name__
