"""The handle that every ``register_*_hook`` returns (tensors and modules alike)."""

from __future__ import annotations

import itertools

__all__ = ["RemovableHandle"]

_ids = itertools.count()


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook.

    Also a context manager: the hook is removed on exit.
    """

    def __init__(self, hooks: dict):
        self._hooks = hooks
        self.id = next(_ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


# ------------------------------------------------------------------ module backward hooks
# Module.register_full_backward_hook(hook(module, grad_input, grad_output)) is built from two
# identity ops recorded around the module's forward: one over the inputs that require grad
# (packed into one flat array, so that a single node sees all their gradients at once, after
# everything inside the module has run backward), and one per output (which notes grad_output).
# They are plumbing, not maths, so they are not in the op registry; tests/nn/test_hooks.py checks
# them against torch.


class _Call:
    """What the hooks of one forward call of a module need at backward."""

    __slots__ = ("module", "hooks", "n_args", "positions", "grad_outputs", "arrived", "n_out")

    def __init__(self, module, hooks, n_args, positions):
        self.module = module
        self.hooks = hooks
        self.n_args = n_args
        self.positions = positions  # which positional args were packed
        self.grad_outputs = []
        self.arrived = 0
        self.n_out = 0

    def fire(self, grads_in):
        """Call the hooks with ``grads_in`` (arrays or None, one per packed input); return the
        arrays to pass on (a hook may replace them)."""
        from .function import Tensor

        def wrap(g):
            return None if g is None else Tensor._make(g, False, None)

        grad_input = [None] * self.n_args
        for pos, g in zip(self.positions, grads_in):
            grad_input[pos] = wrap(g)
        grad_output = tuple(wrap(g) for g in self.grad_outputs)
        for hook in list(self.hooks.values()):
            result = hook(self.module, tuple(grad_input), grad_output)
            if result is None:
                continue
            result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            if len(result) != self.n_args:
                raise RuntimeError(
                    f"{type(self.module).__name__} backward hook returned {len(result)} "
                    f"gradients, expected {self.n_args} (one per positional input)"
                )
            grad_input = list(result)
        out = []
        for pos, g in zip(self.positions, grads_in):
            new = grad_input[pos]
            if new is None:
                out.append(None)
                continue
            a = new.data if isinstance(new, Tensor) else new
            if getattr(a, "shape", None) != g.shape:
                raise RuntimeError(
                    f"{type(self.module).__name__} backward hook returned a gradient of shape "
                    f"{getattr(a, 'shape', None)} for input {pos} of shape {g.shape}"
                )
            out.append(a.astype(g.dtype, copy=False))
        return out


def _make_ops():
    from .function import Function

    class PackInputs(Function):
        """y = the inputs, flattened and concatenated;  the gradients are split back (after the
        module's backward hooks have seen, and perhaps replaced, them)."""

        name = "backward_hook_inputs"

        @staticmethod
        def forward(ctx, *arrays, call):
            ctx.call = call
            ctx.shapes = [a.shape for a in arrays]
            return ctx.xp.concatenate([a.reshape(-1) for a in arrays])

        @staticmethod
        def backward(ctx, gy):
            pieces, start = [], 0
            for shape in ctx.shapes:
                n = 1
                for d in shape:
                    n *= d
                pieces.append(gy[start : start + n].reshape(shape).copy())
                start += n
            return tuple(ctx.call.fire(pieces))

    class NoteGradOutput(Function):
        """y = x;  gx = gy, noted as one of the module's grad_output."""

        name = "backward_hook_outputs"

        @staticmethod
        def forward(ctx, x, *, call, index):
            ctx.call, ctx.index = call, index
            return x.copy()

        @staticmethod
        def backward(ctx, gy):
            call = ctx.call
            call.grad_outputs[ctx.index] = gy
            call.arrived += 1
            if not call.positions and call.arrived == call.n_out:
                call.fire([])  # no input needs a gradient: the hook sees grad_input all None
            return gy

    return PackInputs, NoteGradOutput


_ops = None


def wrap_inputs(module, hooks, args):
    """Before ``module``'s forward: route the positional inputs that require grad through one
    packing node. Returns the new args and the call's record (see :func:`wrap_outputs`)."""
    global _ops
    if _ops is None:
        _ops = _make_ops()
    from .function import Tensor

    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    call = _Call(module, hooks, len(args), positions)
    if not positions:
        return args, call
    dtypes = {args[i].data.dtype for i in positions}
    if len(dtypes) > 1:
        raise TypeError(
            f"{type(module).__name__}: a full backward hook needs the inputs that require grad "
            f"to share one dtype, got {sorted(str(d) for d in dtypes)}"
        )
    packed = _ops[0].apply(*(args[i] for i in positions), call=call)
    new = list(args)
    start = 0
    for i in positions:
        shape = args[i].data.shape
        n = args[i].data.size
        new[i] = packed[start : start + n].reshape(shape)
        start += n
    return tuple(new), call


def wrap_outputs(call, output):
    """After the forward: route every output tensor that requires grad through a node that
    notes its gradient (nested tuples and lists are walked)."""
    from .function import Tensor

    def walk(o):
        if isinstance(o, Tensor):
            if not o.requires_grad:
                return o
            index = call.n_out
            call.n_out += 1
            call.grad_outputs.append(None)
            return _ops[1].apply(o, call=call, index=index)
        if isinstance(o, tuple):
            return tuple(walk(x) for x in o)
        if isinstance(o, list):
            return [walk(x) for x in o]
        return o

    return walk(output)
