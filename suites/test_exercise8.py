"""Hidden suite for exercise 8: a Dataset, a random split and three DataLoaders.

The loaders are compared by their views (``Call(..., views=True)``): batch
size, whether and with which generator each shuffles, the split's indices
and the batches in order, so what only the objects' make-up shows is graded.
"""
import pytest
import torch

from grader.engine.checks import Build, Call, randn

LOADERS = ("the training loader", "the validation loader", "the test loader")


def _iris(rng, n):
    """Iris-like data: 4 features, 3 classes, each class around its own centre."""
    target = torch.randint(0, 3, (n,), generator=rng)
    centres = torch.tensor([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
    return centres[target] + 0.3 * randn(rng, n, 4), target


def _dataset(rng, n):
    return Build("IRISDataset", _iris(rng, n))


def _make_loaders(rng, n):
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=rng))
    dataset = Build("torch.utils.data.TensorDataset", _iris(rng, n))
    return Call("make_loaders", (dataset, Build("probe.seeded_generator", (seed,))), views=True,
                seed=seed + 1, parts=LOADERS)


@pytest.mark.public
@pytest.mark.points(3)
def test_dataset_length_and_items(check, rng):
    """IRISDataset has one sample per row: len() is N, and item i is (data[i], target[i])."""
    check.same(*[Call("probe.identity", (_dataset(rng, n),), views=True) for n in (6, 17)])


@pytest.mark.points(2)
def test_dataset_in_a_loader(check, rng):
    """A DataLoader over an IRISDataset gives batches of features and targets."""
    loader = Build("torch.utils.data.DataLoader", (_dataset(rng, 13),), {"batch_size": 4})
    check.same(Call("probe.identity", (loader,), views=True))


@pytest.mark.public
@pytest.mark.points(3)
def test_make_loaders(check, rng):
    """make_loaders splits 70/20/10 with the generator, in batches of 10, only the training loader shuffled."""
    check.same(_make_loaders(rng, 150))


@pytest.mark.points(2)
def test_make_loaders_other_sizes(check, rng):
    """make_loaders works on datasets of other sizes, and follows the generator it is given."""
    check.same(*[_make_loaders(rng, n) for n in (40, 23)])
