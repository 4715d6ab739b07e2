"""Base class of the exported (TorchScript) terms."""

from typing import Dict, Optional, Tuple

from torch import Tensor, nn

from physml.export.scripted.geometry import PairList


class ScriptedTerm(nn.Module):
    """``forward(pairs, species, params)`` returns the site energies (n,), differentiable by
    autograd w.r.t. the pair vectors and the parameters. ``split`` returns the same energies
    together with an optional *direct* gradient w.r.t. the pair vectors: then the energies'
    autograd derivatives cover only the remaining dependence (through the parameters), and
    the caller adds the direct part. Terms evaluated by C++ kernels with their own exact
    derivatives use it to skip a pass of autograd over the pairs."""

    def split(self, pairs: PairList, species: Tensor, params: Dict[str, Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
        return self.forward(pairs, species, params), None
