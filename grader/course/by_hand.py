"""What code under a "by hand" rule may use: allow-lists, not lists of spellings to refuse.

A rule of ``[[exercises.forbid]]`` makes the functions it names, and all the
code they reach, keep to a vocabulary: Python's own operators and statements,
the pure built-ins, the submission's own functions, and the library names
below. Anything else (``.grad_fn``, ``next_functions``, ``nn.Parameter``, a
dunder, ``torch._C``, a name no one listed yet) is refused because it is not
on the list, so a new way to reach autograd needs no new rule here. A course
widens a rule with ``allow = [...]`` in its declaration (docs/course-authors.md,
"What an exercise forbids").

Pure data: no torch here.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Tensor creation, combination, elementwise math, reductions, comparisons,
# shapes and dtypes: as ``torch.<name>`` and, where torch has it, ``x.<name>()``.
_CREATION = _words("""tensor as_tensor zeros ones empty full arange linspace logspace eye zeros_like ones_like
    empty_like full_like rand randn randint rand_like randn_like randint_like""")
_COMBINING = _words("""stack cat concat concatenate hstack vstack dstack column_stack where split chunk unbind
    flatten reshape squeeze unsqueeze transpose t permute movedim swapaxes broadcast_to broadcast_tensors
    gather index_select masked_fill masked_select take flip roll tril triu diag diagonal clone numel
    matmul mm mv bmm dot inner outer einsum tensordot kron cross""")
_ELEMENTWISE = _words("""add sub subtract mul multiply div divide true_divide floor_divide remainder fmod neg
    negative pow float_power square sqrt rsqrt exp exp2 expm1 log log1p log2 log10 abs absolute sign sgn sin
    cos tan asin acos atan atan2 sinh cosh tanh sigmoid relu clamp clip clamp_min clamp_max maximum minimum
    fmax fmin floor ceil round trunc frac reciprocal erf lerp addcmul addcdiv hypot nan_to_num heaviside""")
_REDUCTIONS = _words("""sum mean nansum nanmean prod max min amax amin aminmax argmax argmin std var std_mean
    var_mean median mode norm cumsum cumprod all any count_nonzero logsumexp softmax log_softmax sort argsort
    topk kthvalue unique""")
_COMPARISONS = _words("eq ne lt le gt ge isclose allclose equal isfinite isnan isinf logical_and logical_or "
                      "logical_not logical_xor")
_TYPES = _words("""float32 float64 float16 bfloat16 float double half int8 int16 int32 int64 uint8 long int
    short bool complex64 dtype Size Tensor is_tensor is_floating_point numel get_default_dtype finfo iinfo
    pi e inf nan device no_grad inference_mode is_grad_enabled""")
TORCH_FUNCTIONS = _CREATION | _COMBINING | _ELEMENTWISE | _REDUCTIONS | _COMPARISONS | _TYPES
# torch.nn.functional's losses and activations: plain computations on their
# arguments (a loss written as F.mse_loss is still a loss computed by hand).
FUNCTIONAL = _words("""mse_loss l1_loss smooth_l1_loss huber_loss cross_entropy nll_loss binary_cross_entropy
    binary_cross_entropy_with_logits kl_div relu leaky_relu elu gelu silu sigmoid tanh softmax log_softmax
    softplus linear normalize one_hot pad""")

# What may be read or called on any value (a tensor, a list, a number, a string).
_TENSOR_ONLY = _words("""shape dtype device ndim T mT size dim numel nelement item tolist float double half int
    long bool to type type_as clone contiguous view view_as reshape_as expand expand_as repeat repeat_interleave
    new_zeros new_ones new_full new_empty new_tensor is_floating_point is_contiguous element_size fill_ zero_
    copy_ real imag""")
_CONTAINERS = _words("""append extend insert pop index count keys values items get copy update setdefault
    remove reverse join format startswith endswith lower upper strip replace is_integer conjugate""")
_IN_PLACE = frozenset(name + "_" for name in _ELEMENTWISE | _words("clamp_min clamp_max masked_fill index_fill"))
VALUE_ATTRIBUTES = (_COMBINING | _ELEMENTWISE | _REDUCTIONS | _COMPARISONS | _TENSOR_ONLY | _CONTAINERS
                    | _IN_PLACE) - _words("tensor as_tensor")

PURE_BUILTINS = _words("""len range zip enumerate float int bool str complex min max abs sum round divmod pow
    isinstance issubclass list tuple dict set frozenset sorted reversed map filter any all print repr format
    slice iter next hash id type object True False None NotImplemented Ellipsis ArithmeticError AssertionError
    Exception IndexError KeyError LookupError NotImplementedError RuntimeError TypeError ValueError
    ZeroDivisionError OverflowError StopIteration""")
MATH = _words("""pi e tau inf nan sqrt exp expm1 log log1p log2 log10 pow fabs floor ceil trunc prod fsum isclose
    isfinite isinf isnan sin cos tan asin acos atan atan2 sinh cosh tanh hypot comb factorial gcd dist""")
_PURE_STDLIB = frozenset({"functools.reduce", "itertools.product", "itertools.combinations", "itertools.chain",
                          "itertools.count", "itertools.repeat", "itertools.accumulate", "itertools.islice",
                          "operator.add", "operator.sub", "operator.mul", "operator.truediv", "operator.neg",
                          "operator.pow", "operator.matmul"})

# Decorators that wrap a function and still run its code (and nothing else the source does not show).
DECORATORS = frozenset({"builtins.staticmethod", "builtins.classmethod", "builtins.property", "torch.no_grad",
                        "torch.inference_mode"})

# Libraries a submission may import anywhere in a file under a rule, besides
# the standard library (``[course] libraries`` adds to it).
DEFAULT_LIBRARIES = ("torch", "numpy", "matplotlib", "pandas", "tqdm", "IPython")
# Standard modules that load code or write files: with them a file could
# write a module at run time and import it, or change its own names behind
# the source's back.
LOADERS_AND_WRITERS = ("os", "shutil", "pathlib", "tempfile", "io", "codecs", "subprocess", "zipfile", "tarfile",
                       "importlib", "runpy", "pickle", "marshal", "ctypes", "zipimport", "pkgutil", "imp", "sys",
                       "builtins", "inspect", "types", "gc", "code", "codeop", "shelve", "dbm", "sqlite3",
                       "copyreg", "multiprocessing", "concurrent", "threading", "_thread", "signal", "site")


@dataclass(frozen=True)
class Vocabulary:
    """What code under one kind of rule may use."""

    paths: frozenset[str]  # dotted library names ("torch.zeros", "math.exp", "builtins.len")
    namespaces: tuple[str, ...] = ()  # everything under these ("torch.nn.functional")
    attributes: frozenset[str] = VALUE_ATTRIBUTES  # read or called on any value
    stores: frozenset[str] = frozenset()  # attributes that may be assigned on a value (``p.grad = None``)
    words: str = ""  # the list, in a student's terms, for messages

    def allows_path(self, path: str) -> bool:
        """``path`` is a listed name, or a module on the way to one (``torch.nn``)."""
        if path in self.paths or any(path == n or path.startswith(n + ".") for n in self.namespaces):
            return True
        return any(allowed.startswith(path + ".") for allowed in self.paths | frozenset(self.namespaces))

    def widened(self, names: Iterable[str]) -> Vocabulary:
        """This vocabulary with a course's ``allow`` entries: dotted names, or ``.attr`` for any value."""
        names = tuple(names)
        return Vocabulary(self.paths | {n for n in names if not n.startswith(".")}, self.namespaces,
                          self.attributes | {n[1:] for n in names if n.startswith(".")}, self.stores, self.words)


BY_HAND_WORDS = ("Python's operators, comparisons and indexing, the pure built-ins (len, range, zip, min, "
                 "max, sum, ...), the math module, torch's tensor creation, elementwise math, reductions and "
                 "shape operations, torch.nn.functional's losses and activations, and the file's own functions")

BY_HAND = Vocabulary(
    paths=frozenset({f"torch.{name}" for name in TORCH_FUNCTIONS} | {f"builtins.{n}" for n in PURE_BUILTINS}
                    | {f"math.{name}" for name in MATH} | _PURE_STDLIB
                    | {f"torch.nn.functional.{name}" for name in FUNCTIONAL}
                    | {"torch.linalg.norm", "torch.linalg.vector_norm", "torch.linalg.matrix_norm"}),
    words=BY_HAND_WORDS,
)

# Gradient descent by hand: autograd computes the gradient, the update is the student's.
BY_HAND_WITH_AUTOGRAD = Vocabulary(
    paths=BY_HAND.paths | {"torch.enable_grad", "torch.set_grad_enabled", "torch.nn.Parameter",
                           "torch.autograd.grad"},
    namespaces=("torch.nn.functional",),
    attributes=BY_HAND.attributes | _words("backward grad data detach detach_ requires_grad requires_grad_ "
                                           "is_leaf zero_grad retain_grad"),
    stores=_words("grad data requires_grad"),
    words=BY_HAND_WORDS + ", autograd (.backward(), .grad) and torch.nn.functional's losses",
)
