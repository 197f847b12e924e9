"""Notebooks as submissions: the Python in a ``.ipynb``, and which exercises it answers.

A notebook is read with nbformat (format 3 or 4, upgraded to 4 and
validated) in the trusted process; nothing in it runs here. Its code cells
become one module source that a sandbox imports like any ``exerciseN.py``,
under the same time and memory limits, so a notebook that trains for an hour
at import gets the time-limit verdict. IPython syntax that is not Python is
left out with a note for the report: line magics and shell escapes
(``%matplotlib inline``, ``!pip install x``, ``files = !ls``, ``%time f()``),
help requests (``obj?``), and cell magics that run something other than
Python (``%%bash``, ``%%writefile``: their whole cell). A cell magic that only
wraps Python (``%%time``, ``%%capture``) keeps its body. Python's own
``tokenize`` decides which lines start a statement (IPython is not a
dependency).

A notebook that cannot be read (not JSON, not a notebook, an unsupported
format, no code) raises ``NotebookError`` with the reason in plain words; it
never quotes the file's contents. The reader bounds its own work: the bytes
(``MAX_NOTEBOOK_BYTES``), then the parsed JSON's depth, number of values and
of cells are measured (without recursion) before nbformat sees it, and any
error nbformat raises, whatever its kind, is a ``NotebookError``.
"""
from __future__ import annotations

import io
import re
import tokenize
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from grader.words import counted

from grader.inert import shortened

if TYPE_CHECKING:
    from nbformat import NotebookNode

NOTEBOOK_SUFFIX = ".ipynb"
# Outputs (plots above all) make notebooks large; the code in them is small.
MAX_NOTEBOOK_BYTES = 10 << 20
# What nbformat is given to convert and validate, at most: it recurses once or twice per level of
# nesting (about 490 levels exhaust Python's stack) and takes ~0.4 s per million values or 10,000 cells.
MAX_JSON_DEPTH = 100
MAX_JSON_VALUES = 1_000_000
MAX_CELLS = 5_000
OLDEST_FORMAT = 3  # nbformat upgrades 3 to 4 faithfully; 1 and 2 predate Jupyter
# Cell magics whose body is ordinary Python run in the notebook's namespace.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_NOTED_LINES = 6  # how many left-out lines one note quotes
_QUOTED_CHARS = 60

_ESCAPE = re.compile(r"[ \t]*[%!]")
# `files = !ls`, `a, b = %sx ls`, `result = %timeit -o f()`
_ASSIGNED_ESCAPE = re.compile(r"[ \t]*[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*=[ \t]*[%!]")
# `torch.nn.Linear?`, `model??`, `?model`
_HELP = re.compile(r"[ \t]*(?:\?{1,2}[A-Za-z_][\w.]*|[A-Za-z_][\w.]*\?{1,2})[ \t]*")
_CELL_MAGIC = re.compile(r"%%([A-Za-z_]\w*)")


class NotebookError(Exception):
    """The notebook cannot be graded; the message says why in plain words."""


@dataclass(frozen=True)
class NotebookModule:
    """A notebook's code as a module source, and notes on what was left out."""

    source: str
    notes: tuple[str, ...] = ()


def is_notebook(path: Path | str) -> bool:
    name = Path(path).name
    return name.lower().endswith(NOTEBOOK_SUFFIX) and not name.startswith(".")


def named_exercise(notebook_name: str, exercise_filenames: Sequence[str]) -> str | None:
    """The exercise among ``exercise_filenames`` the notebook is named after
    (``Exercise3.ipynb`` → ``exercise3.py``), or None."""
    stem = notebook_name[: -len(NOTEBOOK_SUFFIX)].lower()
    return next((f for f in exercise_filenames if f.lower() == f"{stem}.py"), None)


def names_an_exercise(notebook_name: str, exercise_filenames: Sequence[str]) -> bool:
    """Whether the notebook is named like an exercise, graded or not
    (``exercise7.ipynb`` while only exercise 3 is graded)."""
    stem = notebook_name[: -len(NOTEBOOK_SUFFIX)].lower()
    prefixes = {re.sub(r"\d+\.py$", "", f.lower()) for f in exercise_filenames}
    return any(prefix and re.fullmatch(re.escape(prefix) + r"\d+", stem) for prefix in prefixes)


def exercises_answered(notebook_name: str, exercise_filenames: Sequence[str]) -> list[str]:
    """A notebook named after an exercise (``exercise3.ipynb``, in any case)
    answers that exercise (none, if that exercise is not among
    ``exercise_filenames``); any other notebook answers every exercise, each
    graded from the names the notebook defines."""
    named = named_exercise(notebook_name, exercise_filenames)
    if named is not None:
        return [named]
    return [] if names_an_exercise(notebook_name, exercise_filenames) else list(exercise_filenames)


# ---------------------------------------------------------------------------
# Reading a notebook
# ---------------------------------------------------------------------------
def read_module(path: Path) -> NotebookModule:
    """The module source of the notebook at ``path``. Raises ``NotebookError``."""
    name = path.name
    try:
        with path.open("rb") as file:
            data = file.read(MAX_NOTEBOOK_BYTES + 1)  # the cap holds even if the file grows after a stat
    except OSError as error:
        raise NotebookError(f"{name} could not be read ({error.strerror or error})") from None
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{name} is more than the {MAX_NOTEBOOK_BYTES >> 20} MB a notebook may be: clear its "
                            "outputs (Edit → Clear All Outputs), save it and submit it again")
    notebook = read_notebook(data, name)
    try:
        return module_from_notebook(notebook, name)
    except NotebookError:
        raise
    except Exception as error:  # noqa: BLE001 - a cell nbformat let through that the code reader trips on
        raise NotebookError(f"{name} could not be read ({type(error).__name__})") from None


def read_notebook(data: bytes, name: str) -> NotebookNode:
    """``data`` as an nbformat-4 notebook (a ``NotebookNode``; format 3 is
    upgraded by nbformat), validated. Raises ``NotebookError``."""
    text = _notebook_text(data, name)
    _check_format(_parsed_json(text, name), name)
    return _validated(text, name)


def _notebook_text(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError(f"{name} is not a notebook: it is not UTF-8 text") from None
    if not text.strip():
        raise NotebookError(f"{name} is empty: it holds no notebook at all")
    return text


def _parsed_json(text: str, name: str) -> object:
    """The notebook's JSON, within the bounds nbformat is given."""
    from nbformat.reader import NotJSONError, parse_json  # noqa: PLC0415 - nbformat imports jsonschema

    try:
        raw: object = parse_json(text)
    except NotJSONError as error:
        raise NotebookError(f"{name} is not a notebook: it is not valid JSON ({_json_position(error)})") from None
    except RecursionError:
        raise NotebookError(f"{name} is not a notebook: its JSON is nested too deeply to read") from None
    too_large = _too_large(raw)
    if too_large:
        raise NotebookError(f"{name} cannot be graded: {too_large}")
    return raw


def _check_format(raw: object, name: str) -> None:
    """Refuses JSON that is not a notebook of a format nbformat upgrades to 4."""
    from nbformat.reader import get_version  # noqa: PLC0415 - nbformat imports jsonschema

    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise NotebookError(f"{name} is not a Jupyter notebook: it is JSON, but without the notebook's "
                            "format version (nbformat)")
    major, _ = get_version(raw)
    if not isinstance(major, int) or isinstance(major, bool):
        raise NotebookError(f"{name} is not a Jupyter notebook: its format version is {str(major)[:20]!r}, "
                            "not a number")
    if major < OLDEST_FORMAT:
        raise NotebookError(f"{name} is in the old notebook format {major}, which the grader does not read: "
                            "open it in Jupyter and save it again (that writes format 4)")
    if major > 4:
        raise NotebookError(f"{name} is in notebook format {major}, newer than the format 4 the grader reads")


def _validated(text: str, name: str) -> NotebookNode:
    import nbformat  # noqa: PLC0415 - only where a notebook is read: it imports jsonschema

    captured: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat warns about missing cell ids and the like
        try:
            notebook = nbformat.read(io.StringIO(text), as_version=4, capture_validation_error=captured)
            nbformat.validate(notebook)
        except nbformat.ValidationError as error:
            raise NotebookError(f"{name} is not a valid notebook: {_first_line(error.message)}") from None
        except RecursionError:
            raise NotebookError(f"{name} is not a notebook that can be read: it is nested too deeply") from None
        except Exception as error:  # noqa: BLE001 - whatever nbformat trips on is this notebook's problem
            raise NotebookError(f"{name} is not a valid notebook ({type(error).__name__})") from None
    return cast("NotebookNode", notebook)


def _too_large(raw: object) -> str | None:
    """Why parsed notebook JSON is more than nbformat is given (too deep, too
    many values or cells), or None. Walks with its own stack: no recursion."""
    stack: list[tuple[object, int]] = [(raw, 1)]
    values = 0
    while stack:
        value, depth = stack.pop()
        values += 1
        if depth > MAX_JSON_DEPTH:
            return f"its JSON is nested more than {MAX_JSON_DEPTH} levels deep"
        if values > MAX_JSON_VALUES:
            return f"its JSON holds more than {MAX_JSON_VALUES:,} values (clear its outputs and save it again)"
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    cells = _cell_count(raw)
    if cells > MAX_CELLS:
        return f"it holds {cells:,} cells, more than the {MAX_CELLS:,} a notebook may have"
    return None


def _cell_count(raw: object) -> int:
    if not isinstance(raw, dict):
        return 0
    cells = raw.get("cells")
    count = len(cells) if isinstance(cells, list) else 0
    worksheets = raw.get("worksheets")  # format 3
    if isinstance(worksheets, list):
        count += sum(len(w["cells"]) for w in worksheets if isinstance(w, dict) and isinstance(w.get("cells"), list))
    return count


def _json_position(error: Exception) -> str:
    # nbformat's own message quotes the file's first characters; say where, not what.
    cause = error.__cause__
    if isinstance(cause, ValueError) and hasattr(cause, "lineno"):  # json.JSONDecodeError
        return f"{getattr(cause, 'msg', cause)} at line {cause.lineno}, column {getattr(cause, 'colno', '?')}"
    return "it could not be parsed"


def _first_line(text: str) -> str:
    line = (str(text).strip().splitlines() or ["(no detail)"])[0]
    return shortened(line, 200)


def module_from_notebook(notebook: NotebookNode, name: str) -> NotebookModule:
    """The code cells of ``notebook`` (a v4 ``NotebookNode``) as one module
    source, in order, with IPython-only lines left out. Raises ``NotebookError``
    if no Python is left."""
    parts: list[str] = []
    left_out: list[str] = []
    code_cells = 0
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        code_cells += 1
        python, dropped = cell_python(cell.get("source", ""))
        left_out += [f"cell {number} {what}" for what in dropped]
        if python is not None and python.strip():
            parts.append(f"# cell {number}\n{python.rstrip()}\n")
    if not code_cells:
        raise NotebookError(f"{name} holds no code cells: there is nothing to grade in it")
    notes = (_left_out_note(name, left_out),) if left_out else ()
    if not parts:
        raise NotebookError(f"{name} holds no Python code to grade"
                            + (": its code cells hold only IPython magics or shell commands" if left_out else
                               ": its code cells are empty"))
    return NotebookModule(source="\n".join(parts), notes=notes)


def _left_out_note(name: str, left_out: Sequence[str]) -> str:
    shown = "; ".join(left_out[:_NOTED_LINES]) + (f"; and {len(left_out) - _NOTED_LINES} more"
                                                 if len(left_out) > _NOTED_LINES else "")
    return (f"{name}: left out {counted(len(left_out), 'IPython line')} that "
            f"{'is' if len(left_out) == 1 else 'are'} not Python "
            f"(magics and shell commands do not run when grading): {shown}")


# ---------------------------------------------------------------------------
# IPython syntax in one cell
# ---------------------------------------------------------------------------
def cell_python(source: str) -> tuple[str | None, list[str]]:
    """The Python in one code cell (None if the whole cell is left out), and
    what was left out, each quoted as written (``%matplotlib inline``).

    Left-out lines become ``pass`` at their indentation, so the cell keeps its
    shape: a magic inside a loop leaves a valid loop behind.
    """
    lines = source.splitlines()
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return "", []
    magic = _CELL_MAGIC.match(lines[first])
    if magic:
        if magic.group(1) not in PYTHON_CELL_MAGICS:
            return None, [f"(the whole cell: {_quote(lines[first])} does not run Python)"]
        lines = lines[first + 1:]  # a wrapper: its body is the cell's Python
    kept, dropped = strip_line_magics(lines)
    if sum(1 for line in kept if line.strip()) == len(dropped):  # nothing but the placeholders
        kept = []
    return "\n".join(kept), [_quote(line) for line in dropped]


def strip_line_magics(lines: Sequence[str]) -> tuple[list[str], list[str]]:
    """``lines`` with every IPython line (a magic, a shell escape, a help
    request) that starts a statement replaced by ``pass``; and those lines.

    Only lines that start a statement count: a ``%`` or ``!`` at the start of a
    line inside a string or an open bracket is Python's business. Python's own
    tokenizer decides, reading the cell one line at a time, so it never sees
    the left-out lines (whose quotes and brackets are shell's, not Python's).
    """
    reader = _CellReader(lines)
    while reader.unread:
        reader.restart()
        try:
            for token in tokenize.generate_tokens(reader.readline):
                reader.saw(token)
        except (tokenize.TokenError, SyntaxError):
            pass  # the submission's own syntax error, reported when the sandbox imports it; read on afresh
    return reader.kept, reader.dropped


def _is_ipython_line(line: str) -> bool:
    return bool(_ESCAPE.match(line) or _ASSIGNED_ESCAPE.match(line) or _HELP.fullmatch(line))


def _quote(line: str) -> str:
    text = line.strip()
    return f"`{text if len(text) <= _QUOTED_CHARS else text[:_QUOTED_CHARS - 1] + '…'}`"


class _CellReader:
    """Feeds a cell to ``tokenize`` line by line. The tokenizer asks for a line
    only once it has handed out every token of the lines before, so whether
    the next line starts a statement is known from those tokens: the last one
    ends the previous line (NEWLINE or NL) and no bracket is open. Inside a
    string or after a backslash, the previous line has no such last token."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self.next_line = 0
        self.kept: list[str] = []
        self.dropped: list[str] = []
        self.continues_magic = False
        self.restart()

    @property
    def unread(self) -> bool:
        return self.next_line < len(self.lines)

    def restart(self) -> None:
        self.rows_read = 0
        self.depth = 0
        self.last: tokenize.TokenInfo | None = None

    def saw(self, token: tokenize.TokenInfo) -> None:
        if token.type == tokenize.OP and token.string in "([{":
            self.depth += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            self.depth = max(0, self.depth - 1)
        if token.type not in (tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            self.last = token

    @property
    def at_statement_start(self) -> bool:
        if self.rows_read == 0:
            return True
        return (self.depth == 0 and self.last is not None and self.last.start[0] == self.rows_read
                and self.last.type in (tokenize.NEWLINE, tokenize.NL))

    def readline(self) -> str:
        if not self.unread:
            return ""
        line = self.lines[self.next_line]
        if self.continues_magic:  # a backslash-continued magic: its next line goes too
            self.continues_magic = line.endswith("\\")
            line = ""
        elif _is_ipython_line(line) and self.at_statement_start:
            self.dropped.append(line)
            self.continues_magic = line.endswith("\\")
            line = line[: len(line) - len(line.lstrip(" \t"))] + "pass"
        self.next_line += 1
        self.rows_read += 1
        self.kept.append(line)
        return line + "\n"
