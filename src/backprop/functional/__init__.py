"""The public functions, re-exported at the top of ``backprop`` (``backprop.exp``, ``.cat``).

Each checks its arguments (ValueError / TypeError naming the function and the values), documents
itself, and calls ``Op.apply``. ``backprop.nn.functional`` re-exports the neural-network subset.
"""

from . import (
    activation,
    bitwise,
    creation,
    elementwise,
    indexing,
    layout,
    linalg,
    math,
    reduction,
    rounding,
    sampling,
    scan,
    shape,
    windows,
)
from . import scatter as _scatter  # (the name `scatter` is the function, as torch.scatter)
from .activation import *  # noqa: F401,F403
from .bitwise import *  # noqa: F401,F403
from .creation import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .layout import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .math import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .rounding import *  # noqa: F401,F403
from .sampling import *  # noqa: F401,F403
from .scan import *  # noqa: F401,F403
from .scatter import *  # noqa: F401,F403  (after .indexing: torch's take)
from .shape import *  # noqa: F401,F403
from .windows import *  # noqa: F401,F403  (Tensor.unfold)

__all__ = list(dict.fromkeys(
    activation.__all__ + bitwise.__all__ + creation.__all__ + elementwise.__all__
    + indexing.__all__ + layout.__all__ + linalg.__all__ + math.__all__ + reduction.__all__
    + rounding.__all__ + sampling.__all__ + scan.__all__ + _scatter.__all__ + shape.__all__
    + windows.__all__
))  # fmt: skip
