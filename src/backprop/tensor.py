"""`Tensor`: an n-dimensional array (NumPy's, in ``.data``), its gradient, and the op that made it.

Its methods and operators call the public functions (``backprop.functional``), which check arguments
and call the ops. ``.data`` is the raw array (not a Tensor as in PyTorch): the natural handle
in a NumPy library, and what optimisers update in place.
"""

from __future__ import annotations

import numpy as np

from .autograd import engine, function, grad_mode, version
from .autograd.hooks import RemovableHandle
from .autograd.version import VersionCounter

__all__ = ["Tensor"]


def _check_grad_dtype(dtype, what="tensors"):
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(
            f"requires_grad: only floating-point {what} can require gradients, got {dtype}"
        )


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Create tensors with :func:`backprop.tensor`, :func:`backprop.zeros`, :func:`backprop.randn`...

    Attributes:
        data: the NumPy array holding the values.
        grad: a Tensor of the same shape accumulating d(loss)/d(self) (on leaves and
            ``retain_grad()`` tensors).
        requires_grad: whether ops on this tensor are recorded for backward.

    Example:
        >>> x = backprop.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4.])
    """

    # _vc: the version counter (None until the first in-place write or view, meaning version 0);
    # _view: for a view made by an op, (base tensor, [(op, attrs), ...]) to replay it from the base.
    # _hooks: gradient hooks (register_hook), or None.
    # _history: for a tensor written to in place, its earlier ops and the versions they were
    #   valid for, [(valid_until_version, ctx), ...], so that older consumers keep them; or None.
    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "_ctx",
        "_retains_grad",
        "_vc",
        "_view",
        "_hooks",
        "_history",
        "__weakref__",
    )
    __array_priority__ = 1000  # (and __array_ufunc__ below: ndarray + Tensor is a Tensor op)

    def __init__(self, data, requires_grad: bool = False):
        if isinstance(data, Tensor):
            data = data.data
        arr = np.asarray(data)
        if arr.dtype == np.float64 and not isinstance(data, (np.ndarray, np.generic)):
            arr = arr.astype(np.float32)  # Python floats default to float32, as in PyTorch
        self.data = arr
        self.grad = None
        self.requires_grad = False
        self._ctx = None
        self._retains_grad = False
        self._vc = None
        self._view = None
        self._hooks = None
        self._history = None
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad: bool, ctx):
        """Fast internal constructor: ``data`` must already be an array of the right dtype."""
        t = object.__new__(Tensor)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = ctx
        t._retains_grad = False
        t._vc = None
        t._view = None
        t._hooks = None
        t._history = None
        return t

    # ----------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (their ``.grad`` is kept)."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The context of the op that made this tensor (None for leaves); ``.name`` names the op."""
        return self._ctx

    @property
    def T(self) -> Tensor:
        """The dimensions reversed (the transpose of a matrix)."""
        return F.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped."""
        return F.transpose(self, -2, -1)

    def size(self, dim: int | None = None):
        """The shape, or the size of one dimension."""
        if dim is None:
            return self.data.shape
        return self.data.shape[_fu.one_dim(dim, self.ndim, "size")]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # ----------------------------------------------------------------- versions
    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has had (shared with its views)."""
        return 0 if self._vc is None else self._vc.value

    def _counter(self) -> VersionCounter:
        """This tensor's version counter, created on first need."""
        vc = self._vc
        if vc is None:
            vc = self._vc = VersionCounter()
        return vc

    def _bump_version(self) -> None:
        """Record one in-place write to this tensor's memory (call it after every write that
        does not go through the Tensor's own in-place methods, e.g. an optimiser's kernel)."""
        vc = self._vc
        if vc is None:
            self._vc = VersionCounter(1)
        else:
            vc.value += 1
        version.clock.now += 1

    # ----------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaves only); returns self."""
        if requires_grad:
            _check_grad_dtype(self.data.dtype)
        elif self._ctx is not None:
            raise RuntimeError(
                "requires_grad_: cannot turn off requires_grad on a non-leaf tensor; use detach()"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: the tensor does not require grad")
        if self._ctx is not None:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into ``.grad`` of every leaf it depends on.

        Args:
            gradient: d(something)/d(self), of self's shape; optional for a one-element tensor.
            retain_graph: keep the graph's saved values so that backward can run through it again.

        Gradients accumulate across calls until zeroed (``zero_grad`` or ``x.grad = None``).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no grad_fn (did you create "
                "it under no_grad, or forget requires_grad=True on the inputs?)"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be implicitly created only for one-element outputs; "
                    f"this tensor has shape {self.shape}, pass `gradient` of that shape"
                )
            g = np.ones_like(self.data)
        else:
            g = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
            if g.shape != self.shape:
                raise ValueError(
                    f"backward: gradient of shape {g.shape} does not match tensor of shape "
                    f"{self.shape}"
                )
            g = g.astype(self.dtype, copy=False)
        if self._view is not None and self._view[2] is not self._view[0]._ctx:
            function._refresh_view(self)  # its base was written to in place since it was made
        engine.backward(self, g, retain_graph=retain_graph)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data and version counter, cut from the graph (never
        requires grad): an in-place write to it is seen by backward through this one."""
        t = Tensor._make(self.data, False, None)
        t._vc = self._counter()
        return t

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` each time this tensor's gradient has been computed (whole: after
        all contributions are summed). If it returns a tensor, that replaces the gradient passed
        on (to the inputs of a non-leaf, to ``.grad`` of a leaf). Returns a handle whose
        ``remove()`` unregisters it.

            >>> h = x.register_hook(lambda g: print(g.norm()))
            >>> h.remove()
        """
        if not self.requires_grad:
            raise RuntimeError(
                "register_hook: cannot register a hook on a tensor that doesn't require gradient"
            )
        if not callable(hook):
            raise TypeError(f"register_hook: hook must be callable, got {type(hook).__name__}")
        if self._hooks is None:
            self._hooks = {}
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    def detach_(self) -> Tensor:
        self._ctx = None
        self.requires_grad = False
        return self

    # ----------------------------------------------------------------- conversions
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted, got shape {self.shape}"
            )
        return self.data.reshape(()).item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied). Call ``detach()`` first if it requires grad,
        as in PyTorch: here it is allowed, and the array is read-only in spirit."""
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        """NumPy meeting a Tensor. ``ndarray + tensor`` (and -, *, /, **, @) is the Tensor op,
        as before NumPy knew about Tensors; ``array += tensor`` writes into the array (the
        ``p.data += -lr * p.grad`` idiom); any other ufunc runs on the raw arrays."""
        arrays = tuple(x.data if isinstance(x, Tensor) else x for x in inputs)
        if out is not None:
            outs = tuple(o.data if isinstance(o, Tensor) else o for o in out)
            getattr(ufunc, method)(*arrays, out=outs, **kwargs)
            return out[0] if len(out) == 1 else out
        table = _tensor_ufuncs()
        if method == "__call__" and not kwargs and ufunc in table:
            return table[ufunc](*inputs)
        return getattr(ufunc, method)(*arrays, **kwargs)

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def astype(self, dtype) -> Tensor:
        """A tensor of ``dtype``; differentiable between floating types."""
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"astype: {dtype!r} is not a dtype (e.g. backprop.float32)") from None
        if dtype == self.data.dtype:
            return self
        if self.requires_grad and not np.issubdtype(dtype, np.floating):
            return Tensor._make(self.data.astype(dtype), False, None)
        return _fu.cast(self, dtype)

    def to(self, *args, dtype=None, device=None, copy: bool = False, non_blocking=False):
        """PyTorch's ``to``: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``
        (other's dtype). The only device is the CPU; a new dtype is differentiable between
        floating types. ``copy=True`` always returns a new tensor."""
        from .device import as_device

        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, _device_cls()):
                device = a
            elif isinstance(a, str):
                if a.partition(":")[0] in _DEVICE_TYPES:
                    device = a
                else:
                    try:
                        dtype = np.dtype(a)
                    except TypeError:
                        raise TypeError(
                            f"to: {a!r} is neither a dtype (e.g. backprop.float32) nor a device"
                        ) from None
            else:
                dtype = a
        if device is not None:
            as_device(device, "to")
        out = self if dtype is None else self.astype(dtype)
        return F.clone(out) if copy and out is self else out

    @property
    def device(self):
        """The device the tensor's memory is on: always the CPU."""
        from .device import CPU

        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args, **kwargs) -> Tensor:
        raise RuntimeError("cuda: backprop runs on the CPU only (NumPy arrays); use 'cpu'")

    def contiguous(self) -> Tensor:
        """Self if its memory is C-ordered, else a C-ordered copy (differentiable)."""
        if self.data.flags.c_contiguous:
            return self
        return F.clone(self)  # (Clone copies in C order)

    def is_contiguous(self) -> bool:
        return bool(self.data.flags.c_contiguous)

    def t(self) -> Tensor:
        """The transpose of a matrix (0-D and 1-D tensors are returned as they are)."""
        if self.data.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        return self if self.data.ndim < 2 else F.transpose(self, 0, 1)

    def type(self, dtype) -> Tensor:
        return self.astype(dtype)

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def half(self) -> Tensor:
        return self.astype(np.float16)

    def long(self) -> Tensor:
        return self.astype(np.int64)

    def int(self) -> Tensor:
        return self.astype(np.int32)

    def short(self) -> Tensor:
        return self.astype(np.int16)

    def char(self) -> Tensor:
        return self.astype(np.int8)

    def byte(self) -> Tensor:
        return self.astype(np.uint8)

    def bool(self) -> Tensor:
        return self.astype(np.bool_)

    def element_size(self) -> int:
        """Bytes per element (4 for float32, 1 for uint8)."""
        return self.data.dtype.itemsize

    def new_tensor(self, data, dtype=None, requires_grad: bool = False) -> Tensor:
        """``backprop.tensor(data)`` in this tensor's dtype (or ``dtype``)."""
        return F.tensor(data, dtype=self.dtype if dtype is None else dtype,
                        requires_grad=requires_grad)  # fmt: skip

    def new_zeros(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        """Zeros of ``size`` in this tensor's dtype (or ``dtype``)."""
        return F.zeros(*size, dtype=self.dtype if dtype is None else dtype,
                       requires_grad=requires_grad)  # fmt: skip

    def new_ones(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        """Ones of ``size`` in this tensor's dtype (or ``dtype``)."""
        return F.ones(*size, dtype=self.dtype if dtype is None else dtype,
                      requires_grad=requires_grad)  # fmt: skip

    def new_empty(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        """An uninitialised tensor of ``size`` in this tensor's dtype (or ``dtype``)."""
        return F.empty(*size, dtype=self.dtype if dtype is None else dtype,
                       requires_grad=requires_grad)  # fmt: skip

    def new_full(self, size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
        """``fill_value`` in a tensor of ``size``, in this tensor's dtype (or ``dtype``)."""
        return F.full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                      requires_grad=requires_grad)  # fmt: skip

    def is_floating_point(self) -> bool:
        return bool(np.issubdtype(self.data.dtype, np.floating))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if not np.issubdtype(self.data.dtype, np.integer):
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                f"use .any() or .all()"
            )
        return bool(self.data.reshape(()))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        body = np.array2string(
            self.data, separator=", ", precision=4, prefix="tensor(", floatmode="maxprec"
        )
        extra = []
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extra.append(f"dtype={self.data.dtype}")
        elif self.data.dtype == np.int64 and self.data.size == 0:
            extra.append("dtype=int64")
        if self._ctx is not None:
            extra.append(f"grad_fn=<{self._ctx.name}>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    # ----------------------------------------------------------------- in-place
    # Each computes the new values with the ordinary op and writes them into this tensor's memory
    # (see inplace.py for the rules, the version bump and how the graph is rebased).
    def __setitem__(self, index, value) -> None:
        """``self[index] = value`` in place, with PyTorch's indexing rules (see ``F.getitem``);
        differentiable with respect to both when recorded."""
        from .functional.indexing import _ints_first, _plain

        index = tuple(_plain(i) for i in index) if isinstance(index, tuple) else _plain(index)
        split = _ints_first(index, self.data.ndim)
        where_ = (None, index) if split is None else split
        v = value
        if isinstance(v, Tensor):
            if v.data.dtype != self.data.dtype:
                if v.data.ndim == 0 and getattr(index, "dtype", None) == np.bool_:
                    # (x[mask] = a 0-d tensor is a masked fill: PyTorch checks the value)
                    _fu.fill_value(v, self.data.dtype, "__setitem__")
                v = v.astype(self.data.dtype)
        elif isinstance(v, (bool, int, float, np.generic)):
            v = _fu.fill_value(v, self.data.dtype, "__setitem__")
        else:
            v = np.asarray(v, dtype=self.data.dtype) if not isinstance(v, np.ndarray) else v
        recorded = grad_mode._state.enabled and (
            self.requires_grad or (isinstance(v, Tensor) and v.requires_grad)
        )
        try:
            if recorded:
                from .ops.inplace import IndexPut

                inplace.write(
                    self, "__setitem__", lambda old, v: IndexPut.apply(old, v, index=where_), v
                )
                return
            inplace._check_writable(self, "__setitem__")
            target = self.data if split is None else self.data[split[0]]
            target[where_[1]] = v.data if isinstance(v, Tensor) else v
            self._bump_version()
        except IndexError as e:
            raise _fu.IndexShapeError(f"__setitem__: {e} (tensor of shape {self.shape})") from None
        except ValueError as e:
            raise ValueError(f"__setitem__: {e} (tensor of shape {self.shape})") from None

    def zero_(self) -> Tensor:
        """Fill with zeros in place."""
        return inplace.write_values(self, "zero_", 0)

    def fill_(self, value) -> Tensor:
        """Fill with ``value`` (a number, or a 0-d tensor, differentiable) in place."""
        if isinstance(value, Tensor):
            if value.data.ndim != 0:
                raise RuntimeError(
                    f"fill_: only supports a 0-dimension value tensor, got shape {value.shape}"
                )
            return self.copy_(value)
        return inplace.write_values(self, "fill_", _fu.fill_value(value, self.data.dtype, "fill_"))

    def copy_(self, src) -> Tensor:
        """Copy ``src`` (broadcast to this shape, cast to this dtype) into this tensor; the
        gradient flows to ``src``."""
        s = src if isinstance(src, Tensor) else F.as_tensor(np.asarray(src))
        try:
            np.broadcast_shapes(s.data.shape, self.data.shape)
        except ValueError:
            raise ValueError(
                f"copy_: source of shape {s.shape} does not fit {self.shape}"
            ) from None
        if s.data.dtype != self.data.dtype:
            s = s.astype(self.data.dtype)
        keep_none = np.zeros(self.data.shape, dtype=np.bool_)
        return inplace.write(self, "copy_", lambda old, s: F.where(keep_none, old, s), s)

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """Fill with samples of U(a, b) in place (backprop's generator)."""
        return inplace.write_values(self, "uniform_", _rng().uniform(a, b, self.data.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with samples of N(mean, std^2) in place (backprop's generator)."""
        return inplace.write_values(self, "normal_", _rng().normal(mean, std, self.data.shape))

    def add_(self, other, *, alpha=1) -> Tensor:
        return inplace.write(self, "add_", lambda x, o: F.add(x, o, alpha=alpha), other)

    def sub_(self, other, *, alpha=1) -> Tensor:
        return inplace.write(self, "sub_", lambda x, o: F.sub(x, o, alpha=alpha), other)

    def mul_(self, other) -> Tensor:
        return inplace.write(self, "mul_", F.mul, other)

    def div_(self, other) -> Tensor:
        return inplace.write(self, "div_", F.div, other)

    def pow_(self, exponent) -> Tensor:
        return inplace.write(self, "pow_", F.pow, exponent)

    def clamp_(self, min=None, max=None) -> Tensor:
        return inplace.write(self, "clamp_", lambda x: F.clamp(x, min, max))

    def masked_fill_(self, mask, value) -> Tensor:
        return inplace.write(self, "masked_fill_", lambda x, m: F.masked_fill(x, m, value), mask)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    def __mod__(self, other):
        return F.remainder(self, other)

    def __rmod__(self, other):
        return F.remainder(other, self)

    def __floordiv__(self, other):
        return F.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return F.floor_divide(other, self)

    def __imod__(self, other):
        return inplace.write(self, "__imod__", F.remainder, other)

    def __ifloordiv__(self, other):
        return inplace.write(self, "__ifloordiv__", F.floor_divide, other)

    def nelement(self) -> int:
        return int(self.data.size)

    def __imatmul__(self, other):
        return inplace.write(self, "__imatmul__", F.matmul, other)

    # ----------------------------------------------------------------- operators
    def __add__(self, other):
        return F.add(self, other)

    def __radd__(self, other):
        return F.add(other, self)

    def __sub__(self, other):
        return F.sub(self, other)

    def __rsub__(self, other):
        return F.sub(other, self)

    def __mul__(self, other):
        return F.mul(self, other)

    def __rmul__(self, other):
        return F.mul(other, self)

    def __truediv__(self, other):
        return F.div(self, other)

    def __rtruediv__(self, other):
        return F.div(other, self)

    def __pow__(self, other):
        return F.pow(self, other)

    def __rpow__(self, other):
        return F.pow(other, self)

    def __matmul__(self, other):
        return F.matmul(self, other)

    def __rmatmul__(self, other):
        return F.matmul(F.as_tensor(other), self)

    def __neg__(self):
        return F.neg(self)

    def __pos__(self):
        if self.data.dtype.kind == "b":
            raise _fu.UnsupportedDtypeError("the + operator is not supported on a bool tensor")
        return self

    def __abs__(self):
        return F.abs(self)

    def __getitem__(self, index):
        return F.getitem(self, index)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (F.getitem(self, i) for i in range(self.data.shape[0]))

    def __eq__(self, other):  # type: ignore[override]
        return F.eq(self, other)

    def __ne__(self, other):  # type: ignore[override]
        return F.ne(self, other)

    def __lt__(self, other):
        return F.lt(self, other)

    def __le__(self, other):
        return F.le(self, other)

    def __gt__(self, other):
        return F.gt(self, other)

    def __ge__(self, other):
        return F.ge(self, other)

    # Bitwise (logical for bool tensors), as PyTorch: integer and bool tensors only.
    def __and__(self, other):
        return F.bitwise_and(self, other)

    def __rand__(self, other):
        return F.bitwise_and(other, self)

    def __or__(self, other):
        return F.bitwise_or(self, other)

    def __ror__(self, other):
        return F.bitwise_or(other, self)

    def __xor__(self, other):
        return F.bitwise_xor(self, other)

    def __rxor__(self, other):
        return F.bitwise_xor(other, self)

    def __invert__(self):
        return F.bitwise_not(self)

    def __lshift__(self, other):
        return F.bitwise_left_shift(self, other)

    def __rlshift__(self, other):
        return F.bitwise_left_shift(other, self)

    def __rshift__(self, other):
        return F.bitwise_right_shift(self, other)

    def __rrshift__(self, other):
        return F.bitwise_right_shift(other, self)

    def __iand__(self, other):
        return inplace.write(self, "__iand__", F.bitwise_and, other)

    def __ior__(self, other):
        return inplace.write(self, "__ior__", F.bitwise_or, other)

    def __ixor__(self, other):
        return inplace.write(self, "__ixor__", F.bitwise_xor, other)

    def __ilshift__(self, other):
        return inplace.write(self, "__ilshift__", F.bitwise_left_shift, other)

    def __irshift__(self, other):
        return inplace.write(self, "__irshift__", F.bitwise_right_shift, other)

    # ----------------------------------------------------------------- math methods
    def add(self, other, *, alpha=1):
        return F.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return F.sub(self, other, alpha=alpha)

    def mul(self, other):
        return F.mul(self, other)

    def div(self, other, *, rounding_mode=None):
        return F.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent):
        return F.pow(self, exponent)

    def neg(self):
        return F.neg(self)

    def matmul(self, other):
        return F.matmul(self, other)

    def mm(self, other):
        return F.mm(self, other)

    def dot(self, other):
        return F.dot(self, other)

    def exp(self):
        return F.exp(self)

    def log(self):
        return F.log(self)

    def log1p(self):
        return F.log1p(self)

    def sqrt(self):
        return F.sqrt(self)

    def rsqrt(self):
        return F.rsqrt(self)

    def square(self):
        return F.square(self)

    def reciprocal(self):
        return F.reciprocal(self)

    def sin(self):
        return F.sin(self)

    def cos(self):
        return F.cos(self)

    def abs(self):
        return F.abs(self)

    def sign(self):
        return F.sign(self)

    def clamp(self, min=None, max=None):
        return F.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return F.maximum(self, other)

    def minimum(self, other):
        return F.minimum(self, other)

    def where(self, condition, other):
        return F.where(condition, self, other)

    def clone(self):
        return F.clone(self)

    def eq(self, other):
        return F.eq(self, other)

    def ne(self, other):
        return F.ne(self, other)

    def lt(self, other):
        return F.lt(self, other)

    def le(self, other):
        return F.le(self, other)

    def gt(self, other):
        return F.gt(self, other)

    def ge(self, other):
        return F.ge(self, other)

    def isnan(self):
        return F.isnan(self)

    def isfinite(self):
        return F.isfinite(self)

    def allclose(self, other, rtol=1e-5, atol=1e-8, equal_nan=False):
        return F.allclose(self, other, rtol, atol, equal_nan)

    # ----------------------------------------------------------------- activations
    def sigmoid(self):
        return F.sigmoid(self)

    def tanh(self):
        return F.tanh(self)

    def relu(self):
        return F.relu(self)

    def softmax(self, dim):
        return F.softmax(self, dim)

    def log_softmax(self, dim):
        return F.log_softmax(self, dim)

    # ----------------------------------------------------------------- reductions, scans
    # (generated below: x.sum(...) is F.sum(x, ...), with every form the function accepts,
    # e.g. x.sum(axis=1, keepdims=True))

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape):
        return F.reshape(self, *shape)

    def view(self, *shape):
        return F.reshape(self, *shape)

    def view_as(self, other):
        return F.reshape(self, other.shape)

    def transpose(self, dim0, dim1):
        return F.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return F.permute(self, *dims)

    def flatten(self, start_dim=0, end_dim=-1):
        return F.flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        return F.unflatten(self, dim, sizes)

    def squeeze(self, dim=None):
        return F.squeeze(self, dim)

    def unsqueeze(self, dim):
        return F.unsqueeze(self, dim)

    def expand(self, *sizes):
        return F.expand(self, *sizes)

    def expand_as(self, other):
        return F.expand(self, other.shape)

    def repeat(self, *sizes):
        return F.repeat(self, *sizes)

    def flip(self, dims):
        return F.flip(self, dims)

    def split(self, split_size, dim=0):
        return F.split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return F.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return F.unbind(self, dim)

    def narrow(self, dim, start, length):
        return F.narrow(self, dim, start, length)

    def gather(self, dim, index):
        return F.gather(self, dim, index)

    def index_select(self, dim, index):
        return F.index_select(self, dim, index)

    def masked_fill(self, mask, value):
        return F.masked_fill(self, mask, value)


# Device types PyTorch code names (only "cpu" exists here; the others are refused clearly).
_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "hip", "meta", "xla", "ipu", "privateuseone")


_TENSOR_UFUNCS: dict = {}  # ufunc -> Tensor function, filled on first use (F imports late)


def _tensor_ufuncs() -> dict:
    if not _TENSOR_UFUNCS:
        _TENSOR_UFUNCS.update({
            np.add: F.add, np.subtract: F.sub, np.multiply: F.mul, np.true_divide: F.div,
            np.power: F.pow, np.matmul: lambda a, b: F.matmul(F.as_tensor(a), F.as_tensor(b)),
        })  # fmt: skip
    return _TENSOR_UFUNCS


def _device_cls():
    from .device import device

    return device


def _rng():
    from . import random

    return random.generator()


def _unary_inplace(name: str):
    def method(self):
        return inplace.write(self, name + "_", getattr(F, name))

    method.__name__ = name + "_"
    method.__doc__ = f"In-place :func:`backprop.{name}`."
    return method


# The unary ops that PyTorch also offers in place, as ``x.exp_()``.
for _name in (
    "neg", "abs", "exp", "log", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos",
    "sign", "sigmoid", "tanh", "relu",
):  # fmt: skip
    setattr(Tensor, _name + "_", _unary_inplace(_name))
del _name

function.Tensor = Tensor

from . import functional as F  # noqa: E402  (the functions import Tensor from this module)
from . import inplace  # noqa: E402
from .functional import _util as _fu  # noqa: E402


def _method(name: str):
    # F is still being imported when this module runs (functional imports Tensor), so the
    # function is looked up at call time.
    def method(self, *args, **kwargs):
        return getattr(F, name)(self, *args, **kwargs)

    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = f"``x.{name}(...)`` is :func:`backprop.{name}` ``(x, ...)``."
    return method


# Methods that are the function of the same name with the tensor first, as in PyTorch.
FORWARDED_METHODS = (
    # reductions and scans (dim= or axis=, keepdim= or keepdims=)
    "sum", "nansum", "mean", "prod", "max", "min", "amax", "amin", "aminmax", "var", "std",
    "logsumexp", "norm", "argmax", "argmin", "all", "any", "median", "nanmedian", "mode",
    "kthvalue", "quantile", "nanquantile", "count_nonzero", "cumsum", "cumprod", "cummax",
    "cummin", "logcumsumexp", "topk", "sort", "argsort", "msort",
    # scatter, gather and masks
    "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill",
    "masked_select", "masked_scatter", "take", "take_along_dim", "nonzero", "argwhere",
    # layout
    "tril", "triu", "diag", "diagonal", "diag_embed", "trace", "roll", "rot90", "fliplr",
    "flipud", "repeat_interleave", "movedim", "moveaxis", "swapaxes", "swapdims",
    "split_with_sizes", "tensor_split", "hsplit", "vsplit", "dsplit",
    # rounding and remainders, comparison
    "floor", "ceil", "trunc", "round", "frac", "remainder", "fmod", "floor_divide", "equal",
    # elementwise math (functional/math.py) and bitwise ops (functional/bitwise.py)
    "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "arcsin", "arccos",
    "arctan", "arcsinh", "arccosh", "arctanh", "erf", "erfc", "erfinv", "exp2", "expm1", "log2",
    "log10", "atan2", "arctan2", "logaddexp", "logaddexp2", "copysign", "hypot", "lerp",
    "nan_to_num", "sgn", "signbit", "isclose", "isinf", "isposinf", "isneginf", "clamp_min",
    "clamp_max", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
    "bitwise_right_shift",
    # issue 17's activations and products, Tensor.unfold
    "hardshrink", "prelu", "bmm", "baddbmm", "addmm", "addmv", "outer", "ger", "kron", "cross",
    "unfold",
)  # fmt: skip
for _name in FORWARDED_METHODS:
    setattr(Tensor, _name, _method(_name))
del _name


def _tile(self, *dims):
    """``x.tile(2, 3)`` or ``x.tile((2, 3))``: :func:`backprop.tile`."""
    return F.tile(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)


Tensor.tile = _tile


def _inplace_method(name: str):
    def method(self, *args, **kwargs):
        fn = getattr(F, name)
        return inplace.write(self, name + "_", lambda old, *ops: fn(old, *ops, **kwargs), *args)

    method.__name__ = name + "_"
    method.__qualname__ = f"Tensor.{name}_"
    method.__doc__ = f"In-place :func:`backprop.{name}`: ``x.{name}_(...)`` writes into ``x``."
    return method


# In-place twins of forwarded methods (x.scatter_(...), x.index_add_(...), x.tril_()...).
FORWARDED_INPLACE = (
    "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill",
    "masked_scatter", "tril", "triu", "floor", "ceil", "trunc", "round", "frac", "remainder",
    "fmod",
    "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "arcsin", "arccos",
    "arctan", "arcsinh", "arccosh", "arctanh", "erf", "erfc", "erfinv", "exp2", "expm1", "log2",
    "log10", "atan2", "arctan2", "copysign", "hypot", "lerp", "nan_to_num", "sgn", "clamp_min",
    "clamp_max", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
    "bitwise_right_shift",
    "baddbmm", "addmm", "addmv",
)  # fmt: skip
for _name in FORWARDED_INPLACE:
    setattr(Tensor, _name + "_", _inplace_method(_name))
del _name
