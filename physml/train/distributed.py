"""Data-parallel training across processes with :mod:`torch.distributed`.

``torchrun --nproc_per_node K -m physml.cli fit CONFIG`` starts K processes; each joins the
process group that torchrun describes in its environment (``RANK``, ``WORLD_SIZE``,
``MASTER_ADDR``, ``MASTER_PORT``) with the ``gloo`` backend on CPU, or ``nccl`` when the
model is on CUDA. Every process holds the whole model and data; each global mini-batch
(the same structures as in a single-process run) is split into K contiguous parts, process
r evaluates part r and its share of the global loss (:func:`physml.train.loss.loss_terms`
with the global batch's normalisers), and the gradients are summed over the processes by
one ``all_reduce`` per optimiser step before clipping and the step, which every process
then takes identically. The loss and its gradient are therefore those of the single-
process run up to floating-point summation order.

Why not the ``torch.nn.parallel.DistributedDataParallel`` wrapper: force training
differentiates the forces (themselves ``autograd.grad`` of the energy with
``create_graph=True``), and DDP's gradient hooks are documented not to handle higher-order
gradients reliably (pytorch/pytorch#47562, #63812); it also averages gradients with equal
weight per process, while the exact global loss weights each part by its share of the
labelled atoms and structures. An explicit ``all_reduce`` of the flattened gradient (plus
the loss components, in the same buffer) is one collective per step and exact.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Sequence

import torch


@dataclass(frozen=True)
class World:
    """This process's place in the process group (rank 0 of 1 when not distributed)."""

    rank: int = 0
    size: int = 1

    @property
    def active(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def part(self, n: int) -> range:
        """The contiguous part of ``range(n)`` this process evaluates (may be empty)."""
        return range(self.rank * n // self.size, (self.rank + 1) * n // self.size)


def current() -> World:
    """The world of an initialised process group, else a single process."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return World()


def launched() -> bool:
    """True when a launcher (torchrun) started this process as one of several."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device: torch.device | str = "cpu") -> World:
    """Join the process group described by the launcher's environment (no-op for a single
    process); ``nccl`` for a CUDA device, ``gloo`` otherwise."""
    if not launched():
        return current()
    dist = torch.distributed
    if not dist.is_available():
        raise RuntimeError("torch.distributed is not available in this torch build")
    if not dist.is_initialized():
        cuda = torch.device(device).type == "cuda"
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if cuda else "gloo")
    return current()


def shutdown() -> None:
    """Leave the process group: a barrier first, so that no process tears its connections
    down while another is still inside a collective, then ``destroy_process_group``."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        try:
            dist.barrier()
        finally:
            dist.destroy_process_group()


def exit_launched(code: int) -> None:
    """End a launcher-started process (torchrun) with ``code``, skipping interpreter
    finalisation: after ``destroy_process_group``, gloo's C++ worker threads can still be
    torn down by static destructors at exit and abort the process ("terminate called
    without an active exception", SIGABRT) after its work was done and written. Output is
    flushed first; nothing is left to finalise (every file of the run directory is written
    atomically and closed). A single process returns normally."""
    if not launched():
        return
    import logging
    import sys

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def all_reduce_sum(world: World, grads: Sequence[torch.nn.Parameter], values: Sequence[float] = ()) -> list[float]:
    """Sum the ``.grad`` of ``grads`` and ``values`` over the processes, in one collective;
    the gradients are replaced in place, the summed values returned. A gradient missing on
    a process counts as zero; one missing on every process stays ``None`` (as in a single
    process, where the optimiser then skips that tensor). Without a process group this
    returns ``values`` unchanged."""
    if not world.active:
        return [float(v) for v in values]
    ref = grads[0] if grads else None
    dtype = ref.dtype if ref is not None else torch.float64
    device = ref.device if ref is not None else torch.device("cpu")
    flat = [p.grad.reshape(-1) if p.grad is not None else torch.zeros(p.numel(), dtype=dtype, device=device) for p in grads]
    flat.append(torch.tensor([float(p.grad is not None) for p in grads] + [float(v) for v in values], dtype=dtype, device=device))
    buf = torch.cat(flat)
    torch.distributed.all_reduce(buf, op=torch.distributed.ReduceOp.SUM)
    start = 0
    present = buf[sum(p.numel() for p in grads) :][: len(grads)].tolist()
    for p, has in zip(grads, present):
        n = p.numel()
        p.grad = buf[start : start + n].view_as(p).clone() if has > 0 else None
        start += n
    return buf[start + len(grads) :].tolist()


def broadcast_module(world: World, module: torch.nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every process."""
    if not world.active:
        return
    with torch.no_grad():
        for t in module.state_dict().values():
            if isinstance(t, torch.Tensor):
                torch.distributed.broadcast(t, 0)


def broadcast_object(world: World, obj: Any) -> Any:
    """Rank 0's ``obj`` on every process (picklable objects only, e.g. a decision or an
    error message)."""
    if not world.active:
        return obj
    box = [obj]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]


def barrier(world: World) -> None:
    if world.active:
        torch.distributed.barrier()
