"""`Module`: the base class of every layer and model.

A module owns parameters (:class:`Parameter` attributes), buffers (non-learnable state such as batch
norm's running statistics, registered with :meth:`Module.register_buffer`) and sub-modules (Module
attributes), all registered by plain attribute assignment in ``__init__``, as in PyTorch::

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 100)   # a sub-module
            self.fc2 = nn.Linear(100, 10)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))

Train/eval mode is a flag on each module (``training``) that :meth:`Module.train` and
:meth:`Module.eval` set recursively; there is no global flag.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ..autograd import hooks as _hooks
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..autograd.hooks import RemovableHandle
from ..tensor import Tensor
from .parameter import Parameter

__all__ = ["Module", "RemovableHandle", "StateDictError", "IncompatibleKeys"]


class StateDictError(ValueError, RuntimeError):
    """``load_state_dict`` found missing or unexpected keys, or a shape mismatch.

    A ValueError (backprop's convention for bad arguments) and a RuntimeError (what PyTorch raises).
    """


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` returns: the keys it could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _is_dtype_name(s: str) -> bool:
    try:
        np.dtype(s)
    except TypeError:
        return False
    return True


def _dtype_arg(arg, where: str) -> np.dtype | None:
    """A dtype from ``to()``'s argument; None for a device name ("cpu", the only device)."""
    from ..device import as_device, device

    if isinstance(arg, device):
        return None
    if isinstance(arg, str) and not _is_dtype_name(arg):
        as_device(arg, where)  # "cpu" (the only device) or a clear error
        return None
    try:
        dtype = np.dtype(arg)
    except TypeError:
        raise TypeError(f"{where}: expected a dtype or 'cpu', got {arg!r}") from None
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"{where}: only floating-point dtypes are allowed, got {dtype}")
    return dtype


class Module:
    """Base class of layers and models (PyTorch's ``nn.Module``).

    Subclasses call ``super().__init__()`` first, assign parameters, buffers and sub-modules as
    attributes, and define ``forward``. Calling the module runs its forward pre-hooks, ``forward``
    and its forward hooks.

    Attributes:
        training: True in training mode (the default), False after ``eval()``.
    """

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())

    # ------------------------------------------------------------------ forward and hooks
    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        backward_hooks = self.__dict__.get("_backward_hooks")
        if not self._forward_pre_hooks and not self._forward_hooks and not backward_hooks:
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        call = None
        if backward_hooks and is_grad_enabled():
            args, call = _hooks.wrap_inputs(self, backward_hooks, args)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        if call is not None:
            output = _hooks.wrap_outputs(call, output)
        return output

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward; a non-None result replaces ``args``.

        Returns:
            a handle whose ``remove()`` unregisters the hook.
        """
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward; a non-None result replaces the
        output. Use it to read activations (e.g. to plot what a layer's filters respond to).

        Returns:
            a handle whose ``remove()`` unregisters the hook.

        Example:
            >>> acts = {}
            >>> h = model.conv1.register_forward_hook(lambda m, a, out: acts.update(c1=out))
            >>> model(x); h.remove()
        """
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_full_backward_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to
        this module's positional inputs have been computed, as in PyTorch.

        ``grad_input`` has one entry per positional argument (None for those that do not
        require grad), ``grad_output`` one per output tensor. A non-None result (a tuple like
        ``grad_input``) replaces the gradients passed on to the inputs. The inputs that require
        grad must share one dtype. With no such input, the hook runs once every output's
        gradient has arrived.

        Example (watching the gradient flow back through a network, the lectures' bprop):
            >>> for name, m in model.named_children():
            ...     m.register_full_backward_hook(
            ...         lambda m, gi, go, name=name: print(name, go[0].norm().item()))
        """
        if not callable(hook):
            raise TypeError(f"register_full_backward_hook: hook must be callable, got {hook!r}")
        hooks = self.__dict__.get("_backward_hooks")
        if hooks is None:
            hooks = OrderedDict()
            object.__setattr__(self, "_backward_hooks", hooks)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError(
                    f"{type(self).__name__}: cannot assign parameters before Module.__init__() call"
                )
            self._remove_from(name, self.__dict__, self._buffers, self._modules)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} as parameter "
                    f"{name!r} (backprop.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            modules = self.__dict__.get("_modules")
            if modules is None:
                raise AttributeError(
                    f"{type(self).__name__}: cannot assign a module before Module.__init__() call"
                )
            self._remove_from(name, self.__dict__, self._parameters, self._buffers)
            modules[name] = value
        elif (modules := self.__dict__.get("_modules")) is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} as child module "
                    f"{name!r} (backprop.nn.Module or None expected)"
                )
            modules[name] = None
        elif (buffers := self.__dict__.get("_buffers")) is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} as buffer "
                    f"{name!r} (backprop.Tensor or None expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    @staticmethod
    def _remove_from(name: str, *dicts) -> None:
        for d in dicts:
            d.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: parameters, buffers and modules live in dicts.
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(
            set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        )

    def _check_name(self, name, kind: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: cannot register a {kind} before Module.__init__() call"
            )
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got {name!r}')
        if hasattr(self, name) and not (
            name in self._parameters or name in self._buffers or name in self._modules
        ):
            raise KeyError(f"attribute {name!r} already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a declared but absent one such as ``bias=False``)."""
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign {type(param).__name__} object to parameter {name!r} "
                f"(backprop.nn.Parameter or None required)"
            )
        self._remove_from(name, self._buffers, self._modules)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: state that is not learned but is saved (e.g. batch norm's running mean).

        Args:
            name: the attribute name.
            tensor: the buffer (None declares an absent one).
            persistent: whether it belongs to ``state_dict()``.
        """
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign {type(tensor).__name__} object to buffer {name!r} "
                f"(backprop.Tensor or None required)"
            )
        if isinstance(tensor, Parameter):
            raise TypeError(f"buffer {name!r}: a Parameter must be registered as a parameter")
        self._remove_from(name, self._parameters, self._modules)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (what attribute assignment does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"{type(self).__name__}.add_module: {name!r} must be a Module, got "
                f"{type(module).__name__} {module!r:.40} (is not a Module subclass)"
            )
        self._check_name(name, "module")
        self._remove_from(name, self._parameters, self._buffers)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The sub-module at a dotted path such as ``"features.0"`` (``""`` is self)."""
        mod = self
        if target == "":
            return mod
        for item in target.split("."):
            child = mod._modules.get(item)
            if child is None:
                raise AttributeError(f"{type(mod).__name__} has no submodule {item!r} ({target!r})")
            mod = child
        return mod

    # ------------------------------------------------------------------ iteration
    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or (remove_duplicate and id(v) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield (module_prefix + ("." if module_prefix else "") + k, v)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters of this module (and its descendants), each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(name, parameter)`` pairs, names dotted (``"fc1.weight"``); a parameter shared by
        several modules (tied weights) is yielded once, under its first name."""
        return self._named_members(
            lambda m: m._parameters.items(), prefix, recurse, remove_duplicate
        )

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        memo = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in memo:
                memo.add(id(m))
                yield name, m

    def modules(self) -> Iterator[Module]:
        """This module and all its descendants, each once, depth first."""
        for _, m in self.named_modules():
            yield m

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        # An explicit stack rather than recursion: deep models never reach the recursion limit.
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if remove_duplicate:
                if id(m) in memo:
                    continue
                memo.add(id(m))
            yield name, m
            kids = [
                (name + ("." if name else "") + k, c)
                for k, c in m._modules.items()
                if c is not None
            ]
            stack.extend(reversed(kids))

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every descendant; ``eval()`` is ``train(False)``."""
        if not isinstance(mode, bool):
            raise ValueError(f"{type(self).__name__}.train: mode must be a bool, got {mode!r}")
        self.training = mode
        # Through each child's own train() (as PyTorch), so that a subclass may override it.
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: dropout is the identity, batch norm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (False freezes the module)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter: to None (default), or to zeros in place."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data[...] = 0

    # ------------------------------------------------------------------ apply and dtype
    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on self; returns self.

        Example:
            >>> def init(m):
            ...     if isinstance(m, nn.Linear):
            ...         nn.init.xavier_uniform_(m.weight)
            >>> model.apply(init)
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def _apply_dtype(self, dtype: np.dtype) -> Module:
        # Convert arrays in place so that the Parameter objects (held by optimisers) stay the same.
        for m in self.modules():
            for p in m._parameters.values():
                if p is None or not np.issubdtype(p.data.dtype, np.floating):
                    continue
                p.data = p.data.astype(dtype, copy=False)
                p._bump_version()
                if p.grad is not None:
                    p.grad = Tensor._make(p.grad.data.astype(dtype, copy=False), False, None)
            for b in m._buffers.values():
                if b is not None and np.issubdtype(b.data.dtype, np.floating):
                    b.data = b.data.astype(dtype, copy=False)
                    b._bump_version()
        return self

    def to(self, *args, dtype=None) -> Module:
        """Convert the floating-point parameters and buffers to ``dtype``, in place; returns self.

        Integer buffers (e.g. ``num_batches_tracked``) keep their dtype, as in PyTorch. The
        Parameter objects stay the same, so an optimiser built before the call remains valid.
        ``"cpu"`` is accepted (and is a no-op): NumPy arrays live on the CPU.
        """
        target = None
        for a in (*args, *((dtype,) if dtype is not None else ())):
            d = _dtype_arg(a, f"{type(self).__name__}.to")
            if d is not None:
                target = d
        return self if target is None else self._apply_dtype(target)

    def float(self) -> Module:
        return self._apply_dtype(np.dtype(np.float32))

    def double(self) -> Module:
        return self._apply_dtype(np.dtype(np.float64))

    def half(self) -> Module:
        return self._apply_dtype(np.dtype(np.float16))

    def cpu(self) -> Module:
        return self

    # ------------------------------------------------------------------ state dict
    def state_dict(
        self, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer, keyed by dotted name (``"fc1.weight"``).

        Values are detached Tensors sharing the module's arrays (``keep_vars=True`` gives the
        Parameters themselves). Tied weights appear under each of their names, as in PyTorch.
        """
        if destination is None:
            destination = OrderedDict()
        for mprefix, m in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            dot = mprefix + "." if mprefix else ""
            for k, p in m._parameters.items():
                if p is not None:
                    destination[dot + k] = p if keep_vars else p.detach()
            for k, b in m._buffers.items():
                if b is not None and k not in m._non_persistent_buffers_set:
                    destination[dot + k] = b if keep_vars else b.detach()
        return destination

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy parameters and buffers from ``state_dict`` into this module, in place.

        Args:
            state_dict: a mapping of dotted names to Tensors or NumPy arrays.
            strict: raise on missing or unexpected keys (a shape mismatch always raises).

        Returns:
            ``IncompatibleKeys(missing_keys, unexpected_keys)`` (empty lists when strict).

        Raises:
            StateDictError: (a ValueError) naming every missing or unexpected key, and each key
                whose shape differs with both shapes. Nothing is copied when it raises.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict: expected a mapping, got {type(state_dict).__name__}")
        targets = self.state_dict(keep_vars=True)  # the Parameters and buffers themselves
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict.keys() if k not in targets]
        errors = []
        arrays = {}
        for k, t in targets.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            a = v.data if isinstance(v, Tensor) else np.asarray(v)
            if a.shape != t.data.shape:
                errors.append(
                    f"size mismatch for {k!r}: copying a value of shape {tuple(a.shape)} from the "
                    f"state dict, the shape in the current model is {tuple(t.data.shape)}"
                )
            arrays[k] = a
        if strict:
            if unexpected:
                errors.insert(0, "unexpected key(s): " + ", ".join(repr(k) for k in unexpected))
            if missing:
                errors.insert(0, "missing key(s): " + ", ".join(repr(k) for k in missing))
        if errors:
            raise StateDictError(
                f"load_state_dict: error(s) loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with no_grad():
            for k, a in arrays.items():
                t = targets[k]
                # np.copyto casts (like torch's copy_): float64 checkpoints load into float32.
                np.copyto(t.data, a, casting="unsafe")
                t._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """The layer's settings shown inside its repr (``in_features=2, out_features=3``)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for key, m in self._modules.items():
            mod_str = _addindent(repr(m), 2)
            lines.append(f"({key}): {mod_str}")
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _addindent(s: str, n: int) -> str:
    first, *rest = s.split("\n")
    if not rest:
        return s
    return first + "\n" + "\n".join(" " * n + line for line in rest)
