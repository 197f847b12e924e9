"""course.toml is checked on load: every rule, one test, each on the real
course with one edit, as an instructor would make the mistake."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from grader.course.catalogue import DEFAULTS, CourseError, load_course
from grader.course.suite_points import Uncountable, count_points
from grader.sandbox.limits import WARMABLE

REPO = Path(__file__).resolve().parent.parent
EXERCISE5 = 'id = "exercise5"\n'  # each edit below lands in exercise5's block, after this line
MISTAKE = '  id = "grad_never_zeroed"\n'


def course_with(tmp_path: Path, anchor: str, added: str = "", *, replaced: str | None = None) -> Path:
    """The real course in ``tmp_path``, its course.toml with ``added`` after
    the first ``anchor`` (or that ``anchor`` replaced by ``replaced``): the
    earliest exercise that has it, so later exercises may repeat a line."""
    for folder in ("exercises", "solutions", "suites"):
        (tmp_path / folder).symlink_to(REPO / folder)
    text = (REPO / "course.toml").read_text()
    assert anchor in text, anchor
    (tmp_path / "course.toml").write_text(text.replace(anchor, anchor + added if replaced is None else replaced, 1))
    return tmp_path


def refused(root: Path) -> str:
    with pytest.raises(CourseError) as error:
        load_course(root)
    return str(error.value)


# -- unknown keys, at every level, with the nearest valid name ----------------------------

@pytest.mark.parametrize(("anchor", "added", "expected"), [
    ("seed = 2026\n", "sede = 1\n", "[course] has no key 'sede'; did you mean 'seed'?"),
    ("seed = 2026\n", "\n[course.limits]\nmemroy_mb = 512\n",
     "[course.limits] has no key 'memroy_mb'; did you mean 'memory_mb'?"),
    (EXERCISE5, "rtoll = 1e-3\n", "exercise 'exercise5' has no key 'rtoll'; did you mean 'rtol'?"),
    # A limit written in the exercise itself: TOML takes the dotted name where the typo is.
    (EXERCISE5, "timout_s = 5\n", "exercise 'exercise5' has no key 'timout_s'; did you mean 'limits.timeout_s'?"),
    ('needs = ["optim"]\n', "\n[exercises.limits]\ntimout_s = 5\n",
     "exercise 'exercise5' [limits] has no key 'timout_s'; did you mean 'timeout_s'?"),
    (MISTAKE, '  hnt = "Zero the gradients."\n',
     "exercise 'exercise5', mistake 'grad_never_zeroed' has no key 'hnt'; did you mean 'hint'?"),
], ids=["course", "course-limits", "exercise", "exercise-limit-misplaced", "exercise-limits", "mistake"])
def test_a_typo_in_a_key_is_refused_with_the_file_and_the_nearest_name(tmp_path, anchor, added, expected):
    message = refused(course_with(tmp_path, anchor, added))
    assert message == f"{tmp_path / 'course.toml'}: {expected}"


def test_a_typo_in_a_table_name_is_refused(tmp_path):
    root = course_with(tmp_path, "[[exercises]]\n" + EXERCISE5, replaced="[[exercise]]\n" + EXERCISE5)
    assert refused(root).endswith("the file has no key 'exercise'; did you mean 'exercises'?")


def test_a_key_with_no_near_name_lists_the_valid_ones(tmp_path):
    message = refused(course_with(tmp_path, MISTAKE, "  severity = 3\n"))
    assert message.endswith("mistake 'grad_never_zeroed' has no key 'severity' (it may have: id, title, hint, "
                            "find, replace)")


# -- wrong types and values ------------------------------------------------------------

@pytest.mark.parametrize(("anchor", "added", "expected"), [
    (EXERCISE5, 'rtol = "1e-4"\n', "exercise 'exercise5' has rtol '1e-4', which must be a number, not a string"),
    ("seed = 2026\n", "\n[course.limits]\ntimeout_s = \"5\"\n",
     "[course.limits] has timeout_s '5', which must be a number, not a string"),
    ('needs = ["optim"]\n', "\n[exercises.limits]\nmemory_mb = 512.5\n",
     "exercise 'exercise5' [limits] has memory_mb 512.5, which must be a whole number, not a decimal number"),
    ('needs = ["optim"]\n', "\n[exercises.limits]\ntimeout_s = 0\n",
     "exercise 'exercise5' [limits] has timeout_s 0, which must be more than 0"),
    (EXERCISE5, 'visibility = "secret"\n',
     "exercise 'exercise5' has visibility 'secret', which must be one of 'public', 'hidden'"),
], ids=["rtol", "course-limit", "exercise-limit", "zero-timeout", "choice"])
def test_a_value_of_the_wrong_type_is_refused_with_where_it_is(tmp_path, anchor, added, expected):
    message = refused(course_with(tmp_path, anchor, added))
    assert message.endswith(expected)


def test_a_mistake_of_the_wrong_type_is_refused(tmp_path):
    root = course_with(tmp_path, "seed = 2026\n", replaced="seed = 2026\n\n[[course.mistakes]]\nid = 1\n")
    assert refused(root).endswith("[course] has no key 'mistakes' (it may have: title, seed, grading_seed, recordings, "
                                  "hidden_reveals, limits, requirements, student_files)")
    (tmp_path / "course.toml").write_text((REPO / "course.toml").read_text().replace(
        '  id = "grad_never_zeroed"\n', "  id = 7\n"))
    assert refused(tmp_path).endswith("exercise 'exercise5', mistake #1 has id 7, which must be a string, "
                                      "not a whole number")


@pytest.mark.parametrize(("files", "expected"), [
    ('["../course.toml"]', "student file '../course.toml' must be a path inside the course folder"),
    ('["/etc/passwd"]', "student file '/etc/passwd' must be a path inside the course folder"),
    ('"exercises/iris.csv"', "must be a list of paths, not a string"),
], ids=["outside", "absolute", "not-a-list"])
def test_student_files_must_be_files_inside_the_course(tmp_path, files, expected):
    root = course_with(tmp_path, 'student_files = ["exercises/iris.csv"]\n', replaced=f"student_files = {files}\n")
    assert expected in refused(root)


def test_a_required_key_left_out_is_named(tmp_path):
    root = course_with(tmp_path, 'suite = "suites/test_exercise5.py"\n', replaced="")
    assert refused(root).endswith("exercise 'exercise5' has no 'suite', which it must have")


# -- needs: what the zygote can warm ----------------------------------------------------

def test_needs_names_only_what_the_zygote_can_warm(tmp_path):
    root = course_with(tmp_path, 'needs = ["optim"]\n', replaced='needs = ["optm"]\n')
    assert refused(root).endswith("exercise 'exercise5' needs 'optm', which the sandbox cannot warm; "
                                  "did you mean 'optim'? (it can warm: optim)")
    assert WARMABLE == ("optim",)


# -- points: declared once, by the markers; course.toml's is a cross-check ----------------

def test_points_that_disagree_with_the_suites_markers_are_refused(tmp_path):
    root = course_with(tmp_path, EXERCISE5, "points = 10\n")
    assert load_course(root).exercise("exercise5").points == 10  # the markers' total, stated again: fine
    toml = root / "course.toml"
    toml.write_text(toml.read_text().replace("points = 10", "points = 12"))
    assert refused(root).endswith("exercise 'exercise5' has points 12, but the @pytest.mark.points markers of "
                                  "test_exercise5.py add up to 10: the markers decide each test's points, so "
                                  "correct points (or leave it out)")


def test_points_are_declared_once_by_the_markers():
    assert "\npoints =" not in (REPO / "course.toml").read_text()
    assert {spec.points for spec in load_course(REPO).exercises} == {10}  # each suite's markers' total


def test_a_suite_whose_points_cannot_be_read_must_declare_them(tmp_path):
    suite = tmp_path / "own_suite.py"
    suite.write_text("import pytest\nPOINTS = 3\n\n@pytest.mark.points(POINTS)\ndef test_it(check):\n    pass\n")
    root = course_with(tmp_path, 'suite = "suites/test_exercise5.py"\n', replaced=f'suite = "{suite.name}"\n')
    toml = root / "course.toml"
    assert refused(root).endswith("exercise 'exercise5': the points of own_suite.py cannot be counted without "
                                  "running it (@pytest.mark.points(POINTS) is not a number written in the "
                                  "marker); write the exercise's total as points = N")
    toml.write_text(toml.read_text().replace(f'suite = "{suite.name}"', f'suite = "{suite.name}"\npoints = 3'))
    assert load_course(root).exercise("exercise5").points == 3  # grade verify checks it against what ran


def test_points_are_counted_as_pytest_collects_them():
    suite = textwrap.dedent('''
        import pytest
        from pytest import mark
        pytestmark = [pytest.mark.points(1)]

        @pytest.mark.parametrize("n", [1, 2, 3])
        def test_each_case_counts(n):
            pass

        @mark.points(2)
        class TestClass:
            def test_takes_the_class_marker(self):
                pass

            @pytest.mark.points(5)
            def test_own_marker_wins(self):
                pass

        def helper_is_no_test():
            pass
    ''')
    assert count_points(suite) == 3 * 1 + 2 + 5
    for uncountable in ("@pytest.mark.parametrize('n', range(3))\ndef test_a(n): pass",
                        "@pytest.fixture(params=[1, 2])\ndef f(request): pass",
                        "P = pytest.mark.points(3)\n@P\ndef test_a(): pass"):
        with pytest.raises(Uncountable):
            count_points("import pytest\n" + uncountable)


# -- defaults: written once -------------------------------------------------------------

def test_settings_left_out_take_the_defaults_and_limits_are_layered(tmp_path):
    root = course_with(tmp_path, "seed = 2026\n", "\n[course.limits]\ntimeout_s = 4.5\n")
    toml = root / "course.toml"
    toml.write_text(toml.read_text().replace('needs = ["optim"]\n', 'needs = ["optim"]\nlimits.memory_mb = 512\n'))
    course = load_course(root)
    first, fifth = course.exercise("exercise1"), course.exercise("exercise5")
    assert (first.rtol, first.atol, first.visibility) == (DEFAULTS.rtol, DEFAULTS.atol, DEFAULTS.visibility)
    assert first.limits == DEFAULTS.limits.__class__(**{**DEFAULTS.limits.to_plain(), "timeout_s": 4.5})
    assert (fifth.limits.timeout_s, fifth.limits.memory_mb) == (4.5, 512)
    assert fifth.limits.file_size_mb == DEFAULTS.limits.file_size_mb


def test_a_mistake_id_names_one_mistake_in_the_whole_course(tmp_path):
    """grade verify's release runs and the reports name a mutant by its mistake's id alone."""
    root = course_with(tmp_path, '  id = "trainer_never_clears_grads"\n', replaced='  id = "grad_never_zeroed"\n')
    assert refused(root).endswith("exercise 'exercise10': mistake id 'grad_never_zeroed' is also a mistake of "
                                  "'exercise5'; mistake ids must be unique across the course")


@pytest.mark.parametrize("requirement", [
    "numpy>=1.24 --index-url http://example.org/simple",  # an option riding after a version: setup.sh hands it to pip
    "torch>=abc def",
    "--extra-index-url=http://example.org",
    "numpy\n--index-url http://example.org",
])
def test_a_requirement_is_what_pip_reads_as_one_and_never_an_option(tmp_path, requirement):
    root = course_with(tmp_path, 'requirements = ["matplotlib>=3.7"]\n',
                       replaced=f"requirements = {json.dumps([requirement])}\n")  # a JSON string is a TOML one
    assert "is not a package name" in refused(root)


def test_requirements_pip_reads_are_taken():
    from grader.course.course_keys import _is_requirement

    assert all(_is_requirement(r) for r in ["matplotlib>=3.7", "scikit-learn[all]>=1.0,<2",
                                            'numpy; python_version < "3.12"'])
