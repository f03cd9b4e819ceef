"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their ``*Cell`` forms, with PyTorch's parameter
names (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...), gate layouts (LSTM rows i, f, g, o; GRU rows
r, z, n) and initialisation (every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))), so
that a ``state_dict`` moves between the two libraries unchanged.

The layers compute the input projection ``x W_ih^T + b_ih`` for all time steps with one matrix
multiply per layer and direction, then run one fused op over the sequence (see
``backprop.ops.recurrent``). The cell functions (``lstm_cell`` ...) mirror ``torch.lstm_cell`` etc.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..functional.dropout import dropout
from ..functional.linalg import linear
from ..functional.shape import cat, stack
from ..ops import recurrent as R
from ..tensor import Tensor
from . import init
from ._util import factory_dtype
from .module import Module
from .parameter import Parameter

__all__ = [
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
    "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell",
]  # fmt: skip

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_cell_args(op, input, h, w_ih, w_hh, b_ih, b_hh):
    for name, t in (("input", input), ("hx", h), ("w_ih", w_ih), ("w_hh", w_hh)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    G, H = w_hh.shape if w_hh.ndim == 2 else (None, None)
    if (
        input.ndim != 2
        or w_ih.ndim != 2
        or w_hh.ndim != 2
        or w_ih.shape != (G, input.shape[1])
        or h.shape != (input.shape[0], H)
    ):
        raise ValueError(
            f"{op}: shapes do not fit: input {input.shape} (batch, input_size), hx {h.shape} "
            f"(batch, hidden), w_ih {w_ih.shape} (gates*hidden, input_size), w_hh {w_hh.shape} "
            f"(gates*hidden, hidden)"
        )
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None and b.shape != (G,):
            raise ValueError(f"{op}: {name} of shape {b.shape} should be ({G},)")
    dtypes = {t.dtype for t in (input, h, w_ih, w_hh, b_ih, b_hh) if t is not None}
    if len(dtypes) != 1:
        raise TypeError(f"{op}: input, state and weights must share one dtype, got {dtypes}")


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None) -> Tensor:
    """One Elman step ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Shape: input (B, I), hx (B, H), w_ih (H, I), w_hh (H, H), biases (H,) -> (B, H).
    """
    _check_cell_args("rnn_tanh_cell", input, hx, w_ih, w_hh, b_ih, b_hh)
    return R.RNNCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh")


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None) -> Tensor:
    """One Elman step with ReLU: ``h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""
    _check_cell_args("rnn_relu_cell", input, hx, w_ih, w_hh, b_ih, b_hh)
    return R.RNNCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity="relu")


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None) -> tuple[Tensor, Tensor]:
    """One LSTM step in one fused op; ``hx = (h, c)``; returns ``(h', c')``.

    ``i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh)``; ``c' = s(f) c + s(i) tanh(g)``;
    ``h' = s(o) tanh(c')`` (s = sigmoid).

    Shape: input (B, I), h and c (B, H), w_ih (4H, I), w_hh (4H, H), biases (4H,).
    """
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError("lstm_cell: hx must be a tuple (h, c)")
    h, c = hx
    _check_cell_args("lstm_cell", input, h, w_ih, w_hh, b_ih, b_hh)
    if not isinstance(c, Tensor) or c.shape != h.shape or c.dtype != h.dtype:
        raise ValueError(f"lstm_cell: c must be a Tensor like h {h.shape}, got {c!r:.60}")
    if w_hh.shape[0] != 4 * h.shape[1]:
        raise ValueError(f"lstm_cell: w_hh {w_hh.shape} should have 4 * hidden rows")
    out = R.LSTMCell.apply(input, h, c, w_ih, w_hh, b_ih, b_hh)
    return out[0], out[1]


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None) -> Tensor:
    """One GRU step in one fused op (PyTorch's form, ``b_hn`` inside the reset product).

    ``r, z = s(x W_i{r,z}^T + b_i{r,z} + h W_h{r,z}^T + b_h{r,z})``;
    ``n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn))``; ``h' = (1 - z) n + z h``.

    Shape: input (B, I), hx (B, H), w_ih (3H, I), w_hh (3H, H), biases (3H,) -> (B, H).
    """
    _check_cell_args("gru_cell", input, hx, w_ih, w_hh, b_ih, b_hh)
    if w_hh.shape[0] != 3 * hx.shape[1]:
        raise ValueError(f"gru_cell: w_hh {w_hh.shape} should have 3 * hidden rows")
    return R.GRUCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh)


def _positive_int(op, name, v):
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {v!r}")


class RNNCellBase(Module):
    def __init__(self, input_size: int, hidden_size: int, bias: bool, gates: int, dtype) -> None:
        super().__init__()
        op = type(self).__name__
        _positive_int(op, "input_size", input_size)
        _positive_int(op, "hidden_size", hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        dt = factory_dtype(dtype, op)
        G = gates * hidden_size
        self.weight_ih = Parameter(np.empty((G, input_size), dtype=dt))
        self.weight_hh = Parameter(np.empty((G, hidden_size), dtype=dt))
        if bias:
            self.bias_ih = Parameter(np.empty(G, dtype=dt))
            self.bias_hh = Parameter(np.empty(G, dtype=dt))
        else:
            self.bias_ih = None
            self.bias_hh = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as in PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx):
        """(batched input, batched state or None, whether the input was unbatched)."""
        op = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(
                f"{op}: expected input of shape (batch, {self.input_size}) or "
                f"({self.input_size},), got {input.shape}"
            )
        unbatched = input.ndim == 1
        if unbatched:
            input = input.reshape(1, -1)
        return input, unbatched

    def _state(self, hx, input, unbatched, name="hx"):
        op = type(self).__name__
        B = input.shape[0]
        if hx is None:
            return Tensor._make(np.zeros((B, self.hidden_size), dtype=input.dtype), False, None)
        expected = (self.hidden_size,) if unbatched else (B, self.hidden_size)
        if not isinstance(hx, Tensor) or hx.shape != expected:
            got = hx.shape if isinstance(hx, Tensor) else type(hx).__name__
            raise ValueError(f"{op}: {name} should have shape {expected}, got {got}")
        return hx.reshape(1, -1) if unbatched else hx


class RNNCell(RNNCellBase):
    """An Elman RNN cell: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu).

    Args:
        input_size, hidden_size: feature sizes.
        bias: learn ``bias_ih`` and ``bias_hh``.
        nonlinearity: ``'tanh'`` or ``'relu'``.

    Shape:
        input (B, input_size) or (input_size,), hx the same with hidden_size (zeros if None)
        -> h' (B, hidden_size).

    Example:
        >>> cell = nn.RNNCell(10, 20)
        >>> cell(backprop.randn(3, 10)).shape
        (3, 20)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        dtype=None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
            )
        super().__init__(input_size, hidden_size, bias, 1, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, unbatched = self._prepare(input, hx)
        h = self._state(hx, x, unbatched)
        fn = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        out = fn(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out.reshape(-1) if unbatched else out


class LSTMCell(RNNCellBase):
    """An LSTM cell (PyTorch's gate order i, f, g, o in the rows of the weights).

    Shape:
        input (B, input_size) or (input_size,); hx = (h, c), each (B, hidden_size), zeros if None
        -> (h', c').

    Example:
        >>> h, c = nn.LSTMCell(10, 20)(backprop.randn(3, 10))
        >>> h.shape, c.shape
        ((3, 20), (3, 20))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, dtype)

    def forward(self, input: Tensor, hx=None) -> tuple[Tensor, Tensor]:
        x, unbatched = self._prepare(input, hx)
        if hx is None:
            h = c = self._state(None, x, unbatched)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTMCell: hx must be a tuple (h_0, c_0)")
            h = self._state(hx[0], x, unbatched, "h_0")
            c = self._state(hx[1], x, unbatched, "c_0")
        h2, c2 = lstm_cell(x, (h, c), self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if unbatched:
            return h2.reshape(-1), c2.reshape(-1)
        return h2, c2


class GRUCell(RNNCellBase):
    """A GRU cell (PyTorch's gate order r, z, n; ``b_hn`` inside the reset product).

    Shape:
        input (B, input_size) or (input_size,), hx (B, hidden_size) (zeros if None) -> h'.

    Example:
        >>> nn.GRUCell(10, 20)(backprop.randn(3, 10)).shape
        (3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, unbatched = self._prepare(input, hx)
        h = self._state(hx, x, unbatched)
        out = gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out.reshape(-1) if unbatched else out


class RNNBase(Module):
    """Multi-layer, optionally bidirectional recurrent layer (the shared part of RNN, LSTM, GRU)."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype=None,
    ) -> None:
        super().__init__()
        op = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{op}: unknown mode {mode!r}; expected one of {sorted(_GATES)}")
        _positive_int(op, "input_size", input_size)
        _positive_int(op, "hidden_size", hidden_size)
        _positive_int(op, "num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise ValueError(f"{op}: dropout must be a number in [0, 1], got {dropout!r}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"{op}: dropout must be in [0, 1], got {dropout}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{op}: dropout={dropout} acts between stacked layers only, so it does nothing "
                f"with num_layers=1",
                stacklevel=3,
            )
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        dt = factory_dtype(dtype, op)
        G = _GATES[mode] * hidden_size
        D = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * D
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (G, width)), ("weight_hh", (G, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (G,)), ("bias_hh", (G,))]
                for name, shape in shapes:
                    setattr(self, name + sfx, Parameter(np.empty(shape, dtype=dt)))
                    self._flat_weights_names.append(name + sfx)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as in PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch code that calls it (torch compacts cuDNN weights here)."""

    def _weights(self, layer: int, d: int):
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = self._parameters.get
        return (
            get("weight_ih" + sfx),
            get("weight_hh" + sfx),
            get("bias_ih" + sfx),
            get("bias_hh" + sfx),
        )

    def _check_input(self, input):
        op = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            layout = "(batch, seq, features)" if self.batch_first else "(seq, batch, features)"
            raise ValueError(
                f"{op}: expected input of shape {layout} with {self.input_size} features (or "
                f"(seq, {self.input_size}) unbatched), got {input.shape}"
            )
        if input.dtype != self.weight_ih_l0.dtype:
            raise TypeError(
                f"{op}: input dtype {input.dtype} differs from the weights' "
                f"{self.weight_ih_l0.dtype}"
            )
        seq = input.shape[1 if self.batch_first and input.ndim == 3 else 0]
        if seq == 0:
            raise ValueError(f"{op}: the input sequence is empty (shape {input.shape})")

    def _check_state(self, h, name, B, unbatched):
        op = type(self).__name__
        D = 2 if self.bidirectional else 1
        expected = (
            (self.num_layers * D, self.hidden_size)
            if unbatched
            else (self.num_layers * D, B, self.hidden_size)
        )
        if not isinstance(h, Tensor) or h.shape != expected:
            got = h.shape if isinstance(h, Tensor) else type(h).__name__
            raise ValueError(f"{op}: {name} should have shape {expected}, got {got}")
        if h.dtype != self.weight_ih_l0.dtype:  # else NumPy would silently upcast the whole run
            raise TypeError(
                f"{op}: {name} dtype {h.dtype} differs from the input's and weights' "
                f"{self.weight_ih_l0.dtype}"
            )
        return h.reshape(h.shape[0], 1, -1) if unbatched else h

    def _run(self, input, states):
        """Run every layer and direction. ``states``: per-state-kind (L*D, B, H) tensors or None.

        Returns (output (T, B, D*H) time-major, [final states per kind, each (L*D, B, H)]).
        """
        lstm = self.mode == "LSTM"
        D = 2 if self.bidirectional else 1
        x = input
        T, B = x.shape[:2]
        zeros = None
        finals = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            # (T*B, features): the projection is then one 2-D multiply, not T batched ones.
            x2 = x.reshape(T * B, x.shape[2])
            for d in range(D):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, d)
                k = layer * D + d
                init_states = []
                for s in states:
                    if s is None:
                        if zeros is None:
                            z = np.zeros((B, self.hidden_size), dtype=x.dtype)
                            zeros = Tensor._make(z, False, None)
                        init_states.append(zeros)
                    else:
                        init_states.append(s[k])
                ax = linear(x2, w_ih, b_ih).reshape(T, B, w_ih.shape[0])  # all steps at once
                rev = d == 1
                if lstm:
                    out = R.LSTMLayer.apply(ax, *init_states, w_hh, b_hh, reverse=rev)
                    hs = out[:T]
                    finals[1].append(out[T])
                elif self.mode == "GRU":
                    hs = R.GRULayer.apply(ax, init_states[0], w_hh, b_hh, reverse=rev)
                else:
                    nl = "tanh" if self.mode == "RNN_TANH" else "relu"
                    hs = R.RNNLayer.apply(
                        ax, init_states[0], w_hh, b_hh, nonlinearity=nl, reverse=rev
                    )
                finals[0].append(hs[0] if rev else hs[T - 1])
                outs.append(hs)
            x = outs[0] if D == 1 else cat(outs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = dropout(x, self.dropout, training=True)
        return x, [stack(f, dim=0) for f in finals]

    def _forward(self, input, hx, lstm: bool):
        self._check_input(input)
        unbatched = input.ndim == 2
        if unbatched:
            x = input.reshape(input.shape[0], 1, input.shape[1])
        else:
            x = input.transpose(0, 1) if self.batch_first else input  # time-major inside
        B = x.shape[1]
        if hx is None:
            states = [None, None] if lstm else [None]
        elif lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{type(self).__name__}: hx must be a tuple (h_0, c_0)")
            states = [
                self._check_state(hx[0], "h_0", B, unbatched),
                self._check_state(hx[1], "c_0", B, unbatched),
            ]
        else:
            states = [self._check_state(hx, "h_0", B, unbatched)]
        out, finals = self._run(x, states)
        if unbatched:
            out = out.reshape(out.shape[0], out.shape[2])
            finals = [f.reshape(f.shape[0], f.shape[2]) for f in finals]
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, finals


class RNN(RNNBase):
    """A multi-layer Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``.

    Args:
        input_size, hidden_size: feature sizes.
        num_layers: stacked layers (each reads the previous one's output sequence).
        nonlinearity: ``'tanh'`` or ``'relu'``.
        bias: learn ``bias_ih_l*`` and ``bias_hh_l*``.
        batch_first: input and output are (batch, seq, feature) instead of (seq, batch, feature).
        dropout: dropout on the outputs of every layer but the last, in training mode.
        bidirectional: also run each layer backwards in time (parameters ``*_reverse``);
            the two directions' outputs are concatenated.

    Shape:
        input (T, B, input_size) (or (B, T, ...) with batch_first, or (T, input_size)); h_0
        (num_layers * D, B, hidden_size), zeros if None -> (output (T, B, D * hidden_size),
        h_n (num_layers * D, B, hidden_size)), D = 2 if bidirectional else 1.

    Example:
        >>> rnn = nn.RNN(10, 20, num_layers=2)
        >>> out, h_n = rnn(backprop.randn(5, 3, 10))
        >>> out.shape, h_n.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype=None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            dtype,
        )  # fmt: skip
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        out, (h_n,) = self._forward(input, hx, lstm=False)
        return out, h_n


class LSTM(RNNBase):
    """A multi-layer LSTM with PyTorch's equations and gate order (i, f, g, o)::

        i, f, g, o = split(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
        c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g);   h_t = sigmoid(o) * tanh(c_t)

    Args: as :class:`RNN` (no nonlinearity). ``proj_size`` is not supported.

    Shape:
        input (T, B, input_size); hx = (h_0, c_0), each (num_layers * D, B, hidden_size), zeros if
        None -> (output (T, B, D * hidden_size), (h_n, c_n)).

    Example:
        >>> lstm = nn.LSTM(64, 128, batch_first=True)
        >>> out, (h, c) = lstm(backprop.randn(32, 50, 64))
        >>> out.shape, h.shape
        ((32, 50, 128), (1, 32, 128))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype=None,
    ) -> None:
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, dtype,
        )  # fmt: skip

    def forward(self, input: Tensor, hx=None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        out, (h_n, c_n) = self._forward(input, hx, lstm=True)
        return out, (h_n, c_n)


class GRU(RNNBase):
    """A multi-layer GRU with PyTorch's equations and gate order (r, z, n)::

        r, z = sigmoid(x_t W_i{r,z}^T + b_i{r,z} + h_{t-1} W_h{r,z}^T + b_h{r,z})
        n = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn));   h_t = (1 - z) n + z h_{t-1}

    Args and shapes: as :class:`RNN` (no nonlinearity).

    Example:
        >>> out, h_n = nn.GRU(10, 20)(backprop.randn(5, 3, 10))
        >>> out.shape
        (5, 3, 20)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype=None,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, dtype,
        )  # fmt: skip

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        out, (h_n,) = self._forward(input, hx, lstm=False)
        return out, h_n
