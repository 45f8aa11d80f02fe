"""A bank of recent discriminator inputs (frame triples from self-forcing
rollouts and the true triples at the same poses), so the discriminator can
take many cheap updates per dear rollout, each on a different mix of clips,
instead of repeating one batch.

A rollout costs about 15 s on this CPU and gives 32 triples; an update on
64 triples costs a fraction of a second. With only the current batch the
discriminator learns from a few hundred updates a session and a generator
finds a texture that fools it (docs/model.md, the hole-weight and
conditioned-discriminator runs)."""
import torch


class TripleBank:
    """A ring buffer of (real, fake) triple pairs, each [C, H, W] on the CPU
    in float16 (half the memory; the discriminator reads them as float32)."""

    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("a triple bank needs a capacity of at least 1")
        self.capacity = capacity
        self.real = self.fake = None
        self.size = 0
        self.next = 0

    def add(self, real, fake):
        """real, fake [N, C, H, W]: the oldest entries make way."""
        if self.real is None:
            shape = (self.capacity, *real.shape[1:])
            self.real = torch.empty(shape, dtype=torch.float16)
            self.fake = torch.empty(shape, dtype=torch.float16)
        for r, f in zip(real.detach(), fake.detach()):
            self.real[self.next] = r
            self.fake[self.next] = f
            self.next = (self.next + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)

    def sample(self, n, gen):
        """n random pairs (with replacement when the bank holds fewer), each
        mirrored left-right at random (a mirrored maze is still a maze)."""
        if self.size == 0:
            raise ValueError("the triple bank is empty")
        idx = torch.randint(self.size, (n,), generator=gen)
        real, fake = self.real[idx].float(), self.fake[idx].float()
        flip = (torch.rand(n, generator=gen) < 0.5)[:, None, None, None]
        return torch.where(flip, real.flip(-1), real), torch.where(flip, fake.flip(-1), fake)


@torch.no_grad()
def disc_accuracy(disc, real, fake):
    """Share of triples the discriminator puts on the right side of zero,
    averaged over its patch logits."""
    return 0.5 * ((disc(real) > 0).float().mean().item() + (disc(fake) < 0).float().mean().item())
