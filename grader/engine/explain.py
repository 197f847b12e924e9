"""PyTorch's runtime errors, explained to a beginner, at the student's own line.

"element 0 of tensors does not require grad and does not have a grad_fn" is
true and useless to someone in their second week. ``explain_error`` maps the
errors beginners meet to their most likely cause in plain words (keeping the
numbers the error gives, such as the shapes), and ``student_traceback``
rewrites a traceback so it cites only the student's own file and line, or
the notebook cell and line, never the sandbox's temporary folder or a frame
of the grader or of torch. Pure functions of text: the sandbox sends the
error's type, message and traceback as strings.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Explanation:
    kind: str  # stable id, e.g. "no_grad_fn"
    cause: str  # the most likely cause, in beginner words


_DTYPE_NAMES = {"Double": "float64", "Float": "float32", "Long": "int64 (integers)", "Int": "int32 (integers)",
                "Half": "float16", "BFloat16": "bfloat16", "Bool": "bool"}


def _dtype(name: str) -> str:
    return _DTYPE_NAMES.get(name[:1].upper() + name[1:], name)  # torch writes both "Double" and "double"


def _no_grad_fn(_match: re.Match[str]) -> str:
    return ("backward() (or a gradient) was asked of a result that autograd never recorded: it was computed "
            "under torch.no_grad(), passed through .detach(), .item() or torch.tensor(...), or made only from "
            "tensors that do not require grad.")


def _inplace_leaf(_match: re.Match[str]) -> str:
    # "a view of a leaf Variable" and "a leaf Variable" have the same cause for a student.
    return ("a tensor that requires grad (an input or a parameter) is changed in place: an operation ending "
            "in _ (add_, mul_), or +=, -=, *=, or x[...] = ... on it. Compute a new tensor instead; update "
            "parameters in place only inside torch.no_grad().")


def _inplace_saved(_match: re.Match[str]) -> str:
    return ("a tensor that autograd saved for the backward pass was changed in place before backward() ran: "
            "compute a new tensor instead of +=, *= or an operation ending in _.")


def _broadcast(match: re.Match[str]) -> str:
    a, b, dim = match.group(1), match.group(2), match.group(3)
    return (f"two tensors are combined elementwise whose shapes do not fit: along dimension {dim} one has {a} "
            f"entries and the other {b}. Print the .shape of both operands on that line.")


def _matmul(match: re.Match[str]) -> str:
    rows1, cols1, rows2, cols2 = match.group(1), match.group(2), match.group(3), match.group(4)
    return (f"a matrix product (or an nn.Linear layer) got an input with {cols1} features per row where "
            f"{rows2} are needed ({rows1}x{cols1} times {rows2}x{cols2}): the inner sizes must agree. Check "
            "the order of your layers and each layer's in and out features.")


def _dtype_mismatch(match: re.Match[str]) -> str:
    first, second = _dtype(match.group(1)), _dtype(match.group(2))
    return (f"{first} and {second} tensors meet in one operation: one of your tensors has another dtype than "
            "the rest. dtype=float, torch.float64, .double() or numpy arrays make float64; the course works "
            "in float32.")


def _backward_twice(_match: re.Match[str]) -> str:
    return ("backward() ran twice through the same computation: the first backward() frees what it needs, "
            "so call backward() once for each loss you compute (once per epoch).")


def _item_many(match: re.Match[str]) -> str:
    count = match.group(1) or match.group(2)
    many = f"{count} elements" if count else "several elements"
    return (f".item() (or float()) was called on a tensor with {many}: it turns only a one-element tensor "
            "into a Python number. Reduce the tensor first, or keep it a tensor.")


def _backward_non_scalar(_match: re.Match[str]) -> str:
    return ("backward() was called on a tensor with several elements: autograd starts from a single number, "
            "such as the loss (a 0-dim tensor).")


def _no_super_init(match: re.Match[str]) -> str:
    return (f"__init__ assigns a {match.group(1)} before calling super().__init__(): an nn.Module must call "
            "super().__init__() first.")


def _grad_is_none(match: re.Match[str]) -> str:
    return (f"`.{match.group(1)}` was used on None: a tensor's .grad is None until backward() fills it, and "
            "again once something sets it to None, so use a gradient after the backward() that makes it and "
            "before any line that clears it.")


def _none_in_list(match: re.Match[str]) -> str:
    return (f"the list given to torch.stack (or torch.cat) holds None at position {match.group(1)}, where a "
            "tensor belongs: often a .grad that backward() never filled, because that tensor did not require "
            "grad or was cut from the loss (.detach(), torch.no_grad(), a copy) before backward().")


def _numpy_grad(_match: re.Match[str]) -> str:
    return ("numpy() was called on a tensor that requires grad: numpy arrays sit outside autograd. Stay "
            "with tensor operations.")


def _mean_of_integers(match: re.Match[str]) -> str:
    return (f"an average was asked of a tensor of {_dtype(match.group(1))}: make it from floats (1.0, not 1).")


def _no_kernel(match: re.Match[str]) -> str:
    return (f"PyTorch has no `{match.group(1).removesuffix('_cpu')}` for {_dtype(match.group(2))} tensors: an "
            "operator that means something else than you think (in Python `^` is exclusive or, not a power: "
            "use **), or a tensor of another dtype than this operation takes (integer class labels where "
            "float predictions belong, e.g. a loss's two arguments swapped).")


def _integer_kernel(match: re.Match[str]) -> str:
    return (f"PyTorch has no `{match.group(1).removesuffix('_cpu')}` for {_dtype(match.group(2))} tensors: "
            "integers (class labels) reached an operation meant for float predictions, most often a loss "
            "called with its two arguments swapped (the predictions come first, then the targets).")


def _not_implemented(_match: re.Match[str]) -> str:
    return ("the function still raises NotImplementedError, as the exercise's stub does: replace that line "
            "with your code.")


# (kind, exception type or None for any, pattern, explanation): the first match wins.
_RULES: tuple[tuple[str, str | None, re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    ("no_grad_fn", None, re.compile(r"does not require grad and does not have a grad_fn"), _no_grad_fn),
    ("inplace_leaf", None, re.compile(r"leaf Variable that requires grad is (?:being )?used in an in-place"),
     _inplace_leaf),
    ("inplace_saved", None, re.compile(r"needed for gradient computation has been modified by an inplace"),
     _inplace_saved),
    ("broadcast", None, re.compile(r"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) "
                                   r"at non-singleton dimension (-?\d+)"), _broadcast),
    ("matmul_shapes", None, re.compile(r"shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)"), _matmul),
    ("dtype", None, re.compile(r"expected (?:scalar type|m1 and m2 to have the same dtype, but got:?) ?(\w+) "
                               r"(?:but found|!=) (\w+)"), _dtype_mismatch),
    ("dtype", None, re.compile(r"must have the same dtype, but got (\w+) and (\w+)"), _dtype_mismatch),
    ("dtype", None, re.compile(r"[Ff]ound dtype (\w+) but expected (\w+)"), _dtype_mismatch),
    ("backward_twice", None, re.compile(r"backward through the graph a second time"), _backward_twice),
    ("item_many", None, re.compile(r"a Tensor with (\d+) elements cannot be converted to Scalar"
                                   r"|only one element tensors can be converted to Python scalars()"), _item_many),
    ("backward_non_scalar", None, re.compile(r"grad can be implicitly created only for scalar outputs"),
     _backward_non_scalar),
    ("no_super_init", None, re.compile(r"cannot assign (parameters?|modules?) before Module\.__init__\(\) call"),
     _no_super_init),
    ("grad_is_none", "AttributeError", re.compile(r"'NoneType' object has no attribute '(\w+)'"), _grad_is_none),
    ("none_in_list", "TypeError", re.compile(r"expected Tensor as element (\d+) in argument \d+, but got NoneType"),
     _none_in_list),
    ("numpy_requires_grad", None, re.compile(r"Can't call numpy\(\) on Tensor that requires grad"), _numpy_grad),
    ("mean_of_integers", None, re.compile(r"mean\(\): could not infer output dtype.*Got: (\w+)", re.S),
     _mean_of_integers),
    ("integer_kernel", None, re.compile(r'"(\w+)" not implemented for \'(Long|Int|Short|Byte)\''),
     _integer_kernel),
    ("no_kernel", None, re.compile(r'"(\w+)" not implemented for \'(\w+)\''), _no_kernel),
    ("not_implemented", "NotImplementedError", re.compile(r""), _not_implemented),
)


def explain_error(type_name: str, message: str) -> Explanation | None:
    """The likely cause of an exception a student's code raised, or None
    when it is not one beginners commonly meet (then show it as it is)."""
    for kind, wanted_type, pattern, explain in _RULES:
        if wanted_type is not None and type_name != wanted_type:
            continue
        match = pattern.search(message)
        if match:
            return Explanation(kind, explain(match))
    return None


def raised_by_stub(type_name: str, message: str, traceback_text: str, student_file: str) -> bool:
    """Whether a NotImplementedError is the student's own ``raise`` (the
    stub's, untouched), not one PyTorch raised for an operation it has no
    version of (``"bitwise_xor_cpu" not implemented for 'Float'``): the
    innermost frame is the student's file, at a ``raise`` line."""
    if type_name != "NotImplementedError":
        return False
    frames = [(m, lines) for m, lines in _frames(traceback_text)]
    if not frames:
        return _NO_KERNEL.search(message) is None
    innermost, source = frames[-1]
    if _basename(innermost["path"]) != _basename(student_file):
        return False
    return source.startswith("raise") if source else _NO_KERNEL.search(message) is None


_NO_KERNEL = re.compile(r"not implemented for '")


def _frames(traceback_text: str) -> list[tuple[re.Match[str], str]]:
    """Each frame of a ``traceback.format_list`` text with its first source line ("" when none is shown)."""
    frames: list[tuple[re.Match[str], str]] = []
    for line in traceback_text.splitlines():
        frame = _FRAME.match(line)
        if frame:
            frames.append((frame, ""))
        elif frames and not frames[-1][1] and line.strip():
            frames[-1] = (frames[-1][0], line.strip())
    return frames


# --- tracebacks --------------------------------------------------------------

_FRAME = re.compile(r'^ *File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<name>.+))?$')


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def student_traceback(traceback_text: str, student_file: str, *, shown_as: str | None = None,
                      cells: Mapping[int, tuple[int, int]] | None = None) -> str:
    """The frames of ``traceback_text`` (``traceback.format_list`` output)
    that lie in the student's own file, each citing the file by the name the
    student knows (``shown_as``, default the file's own name) or, for a
    notebook, ``cells``: a module line -> (cell number, line in that cell)
    map. Frames of every other file (torch, the grader) are dropped, with
    their source lines."""
    wanted = _basename(student_file)
    shown = shown_as or wanted
    kept: list[str] = []
    keeping = False
    for line in traceback_text.splitlines():
        frame = _FRAME.match(line)
        if frame:
            keeping = _basename(frame["path"]) == wanted
            if keeping:
                kept.append(_cite(shown, int(frame["line"]), frame["name"], cells))
        elif keeping and line.strip():
            kept.append(line)
    return "\n".join(kept)


def _cite(shown: str, line: int, function: str | None, cells: Mapping[int, tuple[int, int]] | None) -> str:
    where = f'  File "{shown}", line {line}'
    if cells is not None and line in cells:
        cell, cell_line = cells[line]
        where = f"  {shown}, cell {cell}, line {cell_line}"
    return f"{where}, in {function}" if function else where


_TEMP_PATH = re.compile(r"(?:/[^\s\"'/]+)*/torchgrade[^\s\"'/]*/(?P<name>[^\s\"',:)]+)")


def scrub_paths(text: str, student_file: str, *, shown_as: str | None = None) -> str:
    """``text`` with every path into the sandbox's temporary folder replaced
    by the student's name for that file (e.g. in a SyntaxError's message)."""
    wanted, shown = _basename(student_file), shown_as or _basename(student_file)
    return _TEMP_PATH.sub(lambda m: shown if m["name"] == wanted else m["name"], text)


def notebook_cells(source: str) -> dict[int, tuple[int, int]]:
    """For a module made from a notebook (a ``# cell N`` line before each
    cell's code): each module line -> (cell number, line within the cell)."""
    cells: dict[int, tuple[int, int]] = {}
    cell, start = None, 0
    for number, line in enumerate(source.splitlines(), start=1):
        header = re.fullmatch(r"# cell (\d+)", line)
        if header:
            cell, start = int(header[1]), number
        elif cell is not None:
            cells[number] = (cell, number - start)
    return cells


def citing(student_file: str, *, shown_as: str | None = None,
           cells: Mapping[int, tuple[int, int]] | None = None) -> Callable[[str, str], tuple[str, str]]:
    """(message, traceback) -> both as the student reads them: the frames in
    the student's own file or notebook cell, no path of the sandbox."""
    def cite(message: str, traceback_text: str) -> tuple[str, str]:
        return (scrub_paths(message, student_file, shown_as=shown_as),
                student_traceback(traceback_text, student_file, shown_as=shown_as, cells=cells))
    return cite


@dataclass(frozen=True)
class ExplainedError:
    cause: str | None  # beginner words, or None when the error is not a known one
    where: str  # the student's own frames, rewritten
    original: str  # "TypeName: message", paths scrubbed

    def text(self) -> str:
        lines = [self.cause] if self.cause else []
        lines.append(f"PyTorch said: {self.original}" if self.cause else self.original)
        if self.where:
            lines.append(self.where)
        return "\n".join(lines)


def explain(type_name: str, message: str, traceback_text: str, *, student_file: str, shown_as: str | None = None,
            cells: Mapping[int, tuple[int, int]] | None = None) -> ExplainedError:
    """All of the above for one error the student's code raised."""
    found = explain_error(type_name, message)
    return ExplainedError(
        cause=found.cause if found else None,
        where=student_traceback(traceback_text, student_file, shown_as=shown_as, cells=cells),
        original=scrub_paths(f"{type_name}: {message}", student_file, shown_as=shown_as),
    )


__all__ = ["ExplainedError", "Explanation", "citing", "explain", "explain_error", "notebook_cells", "raised_by_stub",
           "scrub_paths",
           "student_traceback"]
