"""grader.engine.explain: PyTorch's errors in a beginner's words, at the student's own line."""
from __future__ import annotations

import traceback

import pytest
import torch

from grader.engine.explain import explain, explain_error, scrub_paths, student_traceback


def _raised(action) -> tuple[str, str]:
    """The type and message torch itself raises (not copies: they change between versions)."""
    try:
        action()
    except Exception as error:
        return type(error).__name__, str(error)
    raise AssertionError("no error raised")


def _leaf():
    return torch.ones(2, requires_grad=True)


class _NoSuper(torch.nn.Module):
    def __init__(self):
        self.w = torch.nn.Parameter(torch.ones(1))


def _backward_twice():
    loss = _leaf().exp().sum()
    loss.backward()
    loss.backward()


@pytest.mark.parametrize(("action", "kind", "words"), [
    (lambda: (torch.ones(2) * 2).sum().backward(), "no_grad_fn", ["torch.no_grad()", ".detach()"]),
    (lambda: _leaf().add_(1), "inplace_leaf", ["in place"]),
    (lambda: _leaf()[0:1].add_(1), "inplace_leaf", ["in place"]),  # the grader's view of an input: same cause
    (lambda: torch.ones(3) + torch.ones(4), "broadcast", ["dimension 0", "3", "4"]),
    (lambda: torch.nn.Linear(2, 1)(torch.ones(5, 1)), "matmul_shapes", ["1 features", "2 are needed", "layers"]),
    (lambda: torch.nn.Linear(2, 1)(torch.ones(5, 2, dtype=torch.float64)), "dtype", ["float64 and float32 tensors"]),
    (lambda: torch.ones(2, 2).double() @ torch.ones(2, 2), "dtype", ["float64 and float32 tensors"]),
    (_backward_twice, "backward_twice", ["twice", "once"]),
    (lambda: torch.ones(9).item(), "item_many", ["9 elements", ".item()"]),
    (lambda: float(torch.ones(9)), "item_many", ["several elements"]),
    (lambda: _leaf().exp().backward(), "backward_non_scalar", ["single number"]),
    (_NoSuper, "no_super_init", ["super().__init__()"]),
    (lambda: _leaf().numpy(), "numpy_requires_grad", ["numpy"]),
    (lambda: torch.tensor([1, 2]).mean(), "mean_of_integers", ["int64", "1.0"]),
])
def test_torch_errors_get_their_likely_cause(action, kind, words):
    found = explain_error(*_raised(action))
    assert found is not None and found.kind == kind
    for word in words:
        assert word in found.cause


def test_stub_and_none_grad():
    assert explain_error("NotImplementedError", "loss_fn: average ...").kind == "not_implemented"
    assert explain_error("AttributeError", "'NoneType' object has no attribute 'zero_'").kind == "grad_is_none"
    none_in_stack = explain_error("TypeError", "expected Tensor as element 1 in argument 0, but got NoneType")
    assert none_in_stack.kind == "none_in_list" and "position 1" in none_in_stack.cause


def test_an_unknown_error_is_left_alone():
    assert explain_error("KeyError", "'weight'") is None
    assert explain_error("RuntimeError", "CUDA out of memory") is None


def test_causes_never_repeat_the_torch_message():
    """An explanation is worth showing only if it says something the error did not."""
    type_name, message = _raised(lambda: (torch.ones(2) * 2).sum().backward())
    assert message not in explain_error(type_name, message).cause


def _traceback_through_torch(folder) -> str:
    """A real traceback: a student's file (in a folder named like a sandbox's) calling into torch, which raises."""
    path = folder / "torchgrade-ab12cd" / "exercise4.py"
    path.parent.mkdir()
    path.write_text("import torch\n\ndef model(x):\n    return torch.nn.Linear(2, 1)(x)\n")
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    try:
        namespace["model"](torch.ones(5, 1))
    except RuntimeError as error:
        return "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
    raise AssertionError("no error raised")


def test_traceback_keeps_only_the_students_frames_with_the_name_they_know(tmp_path):
    text = _traceback_through_torch(tmp_path)
    assert "torch/nn" in text  # torch's own frames are there to drop
    rewritten = student_traceback(text, "exercise4.py", shown_as="my_task2.py")
    assert rewritten.splitlines()[0] == '  File "my_task2.py", line 4, in model'
    assert "torchgrade" not in rewritten and "/tmp" not in rewritten
    assert "torch/nn" not in rewritten and "site-packages" not in rewritten
    assert "torch.nn.Linear(2, 1)(x)" in rewritten  # the student's source line stays


def test_traceback_of_a_notebook_cites_cell_and_line(tmp_path):
    text = _traceback_through_torch(tmp_path)
    rewritten = student_traceback(text, "exercise4.py", shown_as="course.ipynb", cells={4: (7, 2)})
    assert rewritten.splitlines()[0] == "  course.ipynb, cell 7, line 2, in model"


def test_temporary_paths_are_scrubbed_from_messages():
    message = 'invalid syntax (/tmp/torchgrade-x1y2/exercise1.py, line 3)'
    assert scrub_paths(message, "exercise1.py", shown_as="answers.py") == "invalid syntax (answers.py, line 3)"
    assert "/tmp" not in scrub_paths('File "/tmp/torchgrade-q/helper.py"', "exercise1.py")


def test_explain_puts_cause_original_and_place_together(tmp_path):
    text = _traceback_through_torch(tmp_path)
    explained = explain("RuntimeError", "mat1 and mat2 shapes cannot be multiplied (5x1 and 2x1)", text,
                        student_file="exercise4.py")
    lines = explained.text().splitlines()
    assert lines[0].startswith("a matrix product")
    assert lines[1] == "PyTorch said: RuntimeError: mat1 and mat2 shapes cannot be multiplied (5x1 and 2x1)"
    assert lines[2] == '  File "exercise4.py", line 4, in model'
    unknown = explain("KeyError", "'w'", "", student_file="exercise4.py")
    assert unknown.cause is None and unknown.text() == "KeyError: 'w'"
    syntax = explain("SyntaxError", "invalid syntax (/tmp/torchgrade-x9/exercise4.py, line 3)", "",
                     student_file="exercise4.py", shown_as="task2.ipynb")
    assert syntax.text() == "SyntaxError: invalid syntax (task2.ipynb, line 3)"


STUB_RAISE = '''  File "/tmp/torchgrade-x/exercise7.py", line 9, in f
    raise NotImplementedError("f: unpack a, b, c")
'''
TORCH_RAISE = '''  File "/tmp/torchgrade-x/exercise7.py", line 5, in f
    return a * t ^ 2 + b * t + c
'''


def test_only_the_students_own_raise_is_not_implemented():
    from grader.engine.explain import raised_by_stub
    assert raised_by_stub("NotImplementedError", "f: unpack a, b, c", STUB_RAISE, "exercise7.py")
    message = "\"bitwise_xor_cpu\" not implemented for 'Float'"
    assert not raised_by_stub("NotImplementedError", message, TORCH_RAISE, "exercise7.py")
    assert not raised_by_stub("NotImplementedError", message, "", "exercise7.py")


def test_pytorchs_not_implemented_names_the_operator_and_dtype():
    found = explain_error("NotImplementedError", "\"bitwise_xor_cpu\" not implemented for 'Float'")
    assert found.kind == "no_kernel" and "`^` is exclusive or" in found.cause and "float32" in found.cause
