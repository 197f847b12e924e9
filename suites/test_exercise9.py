"""Hidden suite for exercise 9: a classifier, one epoch of training, and its evaluation.

The training and evaluation functions get a model of the suite's own making
that holds dropout (its output differs in training mode) and a probe
(``probe.ModeProbe``) that records, for each forward call, the mode the
model was in, whether autograd recorded a graph and the batch size.
"""
import math

import pytest
import torch

from grader.engine.checks import Build, Call, Inspect, randn


def _iris(rng, n):
    target = torch.randint(0, 3, (n,), generator=rng)
    centres = torch.tensor([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
    return centres[target] + 0.3 * randn(rng, n, 4), target


def _classifier_state(rng):
    sizes = [(16, 4), (8, 16), (3, 8)]
    return {**{f"layers.{i}.weight": 0.3 * randn(rng, *s) for i, s in enumerate(sizes)},
            **{f"layers.{i}.bias": 0.1 * randn(rng, s[0]) for i, s in enumerate(sizes)}}


def _probed_model(rng, *, evaluating: bool, grads: bool = False):
    """Linear(4, 8), a probe, dropout, Linear(8, 3); in evaluation mode when ``evaluating``
    (as an earlier evaluation left it), holding stale gradients when ``grads``."""
    state = {"0.weight": 0.3 * randn(rng, 8, 4), "0.bias": 0.1 * randn(rng, 8),
             "3.weight": 0.3 * randn(rng, 3, 8), "3.bias": 0.1 * randn(rng, 3)}
    layers = Build("torch.nn.Sequential", (Build("torch.nn.Linear", (4, 8)), Build("probe.ModeProbe"),
                                           Build("torch.nn.Dropout", (0.25,)), Build("torch.nn.Linear", (8, 3))))
    stale = {name: randn(rng, *value.shape) for name, value in state.items()} if grads else None
    if evaluating:
        return Build("probe.eval_mode", (layers,), state=state, grads=stale)
    return Build("torch.nn.Sequential", layers.args, state=state, grads=stale)


def _loader(rng, n, batch_size=10, data=None):
    data = _iris(rng, n) if data is None else data
    return Build("torch.utils.data.DataLoader", (Build("torch.utils.data.TensorDataset", data),),
                 {"batch_size": batch_size})


def _train_one_epoch(rng, n, optimizer, lr, *, evaluating=True, grads=False, epochs=0):
    """One epoch; with ``epochs``, that many on the same model and optimizer, each answering its mean loss:
    the report's curve of the student's losses against the reference's."""
    model = _probed_model(rng, evaluating=evaluating, grads=grads)
    return Call("train_one_epoch", (model, _loader(rng, n), Build("torch.nn.CrossEntropyLoss"),
                                    Build(optimizer, kwargs={"lr": lr}, params_of=0)),
                after=True, seed=int(torch.randint(0, 2**31 - 1, (1,), generator=rng)), epochs=epochs)


def _evaluate(rng, n, batch_size=10, judged=frozenset({"modes", "value", "after"})):
    model, data = _probed_model(rng, evaluating=False), _iris(rng, n)
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=rng))

    def call(size, variants=(), samples=data):
        return Call("evaluate", (model, _loader(rng, n, size, samples), Build("torch.nn.CrossEntropyLoss")),
                    after=True, seed=seed, parts=("the mean loss", "the accuracy"), judged=judged, variants=variants)

    # A mean over the samples where the mean of the batches' losses is asked for: the reference with one batch.
    one_batch = ("one_batch", {"n": n}, call(n))
    # The mean of the batches' accuracies where a fraction of the samples is asked for: the reference on batches
    # made equally large by repeating each batch's samples (the same batch losses, every batch weighing the same).
    size, expanded = _batches_equalised(data, batch_size)
    per_batch = ("per_batch_mean", {}, call(size, samples=expanded))
    uneven = n % batch_size != 0
    return call(batch_size, variants=(one_batch, per_batch) if uneven and "value" in judged else ())


def _batches_equalised(data, batch_size):
    """The samples of each batch repeated until every batch holds as many: (that size, the samples)."""
    X, y = data
    starts = range(0, len(y), batch_size)
    sizes = [min(batch_size, len(y) - start) for start in starts]
    size = math.lcm(*sizes)
    X_parts = [X[start:start + n].repeat(size // n, 1) for start, n in zip(starts, sizes, strict=True)]
    y_parts = [y[start:start + n].repeat(size // n) for start, n in zip(starts, sizes, strict=True)]
    return size, (torch.cat(X_parts), torch.cat(y_parts))


@pytest.mark.public
@pytest.mark.points(2)
def test_layers(check):
    """IRISClassifier holds layers = Sequential(Linear(4, 16), Linear(16, 8), Linear(8, 3))."""
    check.same(Inspect(Build("IRISClassifier")))


@pytest.mark.public
@pytest.mark.points(2)
def test_forward_gives_logits(check, rng):
    """forward(x) gives the logits, shape (N, 3), with gradients for x and every weight and bias."""
    check.same(*[Call(Build("IRISClassifier", state=_classifier_state(rng)), (randn(rng, n, 4, requires_grad=True),),
                      cotangent=randn(rng, n, 3)) for n in (1, 12)])


@pytest.mark.public
@pytest.mark.points(2)
def test_train_one_epoch(check, rng):
    """train_one_epoch trains in training mode, clearing the gradients for every batch, and returns the mean
    batch loss."""
    check.same(_train_one_epoch(rng, 30, "torch.optim.SGD", 0.1),
               _train_one_epoch(rng, 23, "torch.optim.Adam", 0.05, grads=True),
               _train_one_epoch(rng, 30, "torch.optim.SGD", 0.1, epochs=8))


@pytest.mark.points(1)
def test_train_one_epoch_from_any_mode(check, rng):
    """train_one_epoch also trains a model that is in training mode already, with stale gradients."""
    check.same(_train_one_epoch(rng, 17, "torch.optim.SGD", 0.2, evaluating=False, grads=True),
               _train_one_epoch(rng, 20, "torch.optim.SGD", 0.1, evaluating=False, epochs=8))


@pytest.mark.public
@pytest.mark.points(1)
def test_evaluate(check, rng):
    """evaluate runs in evaluation mode without recording a graph; returns the mean loss and the accuracy."""
    check.same(_evaluate(rng, 30))


@pytest.mark.points(1)
def test_evaluate_under_inference_mode(check, rng):
    """evaluate runs under torch.inference_mode(), as the exercise asks."""
    check.same(_evaluate(rng, 30, judged=frozenset({"inference_mode"})))


@pytest.mark.points(1)
def test_evaluate_counts_samples(check, rng):
    """evaluate's accuracy is a fraction of samples, also when the last batch is smaller."""
    check.same(_evaluate(rng, 23), _evaluate(rng, 7, batch_size=3))
