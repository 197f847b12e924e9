"""Comparing described objects: a module's structure, a dataset, a split or a loader (their views), and
how the code ran a model (its probes' records), each in the student's terms."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from grader.engine import detectors, slips
from grader.engine.difference import Difference, _argument_words, _kind, _names, _parameter_list, _short, _with
from grader.engine.protocol import ASPECTS

# How compare.py compares two values (``first_difference``) and two tensors (``_tensor_difference``),
# handed in by it: an object's parts are values again, and this module must not import its caller.
Compare = Callable[..., "Difference | None"]


def _layer_label(child: dict[str, Any]) -> str:
    return f"`{child['name']}` = {child['type']}({child['in_features']}, {child['out_features']})"


def _module_difference(expected: dict[str, Any], got: Any, rtol: float, atol: float, where: str,
                       values: bool, tensor_difference: Compare) -> Difference | None:
    """How a module's structure differs from the reference's, in the student's
    terms: names they wrote, never the order they created things in."""
    if not (isinstance(got, dict) and got.get("is_module")):
        kind = got.get("type") if isinstance(got, dict) else _kind(got)
        return Difference(where, f"is a {kind}, expected an nn.Module")
    kind = got.get("type", "the model")
    want = {p["name"]: p for p in expected["parameters"]}
    have = _parameters_by_name(expected, got, want)
    return (_parameter_names_difference(kind, where, got, want, have)
            or _parameter_specs_difference(kind, where, want, have)
            or _layers_difference(kind, where, expected, got)
            or _parameter_values_difference(kind, where, want, have, rtol=rtol, atol=atol, values=values,
                                            tensor_difference=tensor_difference))


def _parameters_by_name(expected: dict[str, Any], got: dict[str, Any],
                        want: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The student's parameters by name, renamed to the expected names where every missing one
    is held by a layer kept under the expected name too."""
    have = {p["name"]: p for p in got["parameters"]}
    missing, extra = [n for n in want if n not in have], [n for n in have if n not in want]
    if missing and _held_under_other_names(expected, got, missing, extra):
        # Layers built in a container first and then also kept as attributes:
        # torch names each parameter once, by its first holder.
        have = {**{n: have[n] for n in have if n not in extra},
                **dict(zip(missing, (have[n] for n in extra), strict=True))}
    return have


def _parameter_names_difference(kind: str, where: str, got: dict[str, Any], want: dict[str, dict[str, Any]],
                                have: dict[str, dict[str, Any]]) -> Difference | None:
    """A parameter missing (or kept as a plain tensor), or one more than the exercise asks for."""
    missing, extra = [n for n in want if n not in have], [n for n in have if n not in want]
    if missing:
        stray = [t["name"] for t in got.get("plain_tensors", []) if t["name"].rsplit(".", 1)[-1] in
                 {n.rsplit(".", 1)[-1] for n in missing}]
        if stray:
            return Difference(where, f"{kind} keeps {_names(stray)} as plain tensors: they are not registered "
                                     "parameters (wrap each in nn.Parameter)")
        alike = [n for n in extra if any(have[n]["shape"] == want[m]["shape"] for m in missing)]
        has = f"; it has {_names(alike)}" if alike else (f"; it has {_names(extra)}" if extra else "")
        return Difference(where, f"{kind} has no parameter {_names(missing)}{has}")
    if extra:
        return Difference(where, f"{kind} has an extra parameter the exercise does not ask for: "
                                 f"{_names(extra)} ({_parameter_list({n: have[n] for n in extra})})")
    return None


def _parameter_specs_difference(kind: str, where: str, want: dict[str, dict[str, Any]],
                                have: dict[str, dict[str, Any]]) -> Difference | None:
    """A parameter of another shape, dtype, requires_grad, or not a parameter."""
    for name, spec in want.items():
        for attribute in ("shape", "dtype", "requires_grad", "is_parameter"):
            if have[name][attribute] != spec[attribute]:
                mine, theirs = have[name][attribute], spec[attribute]
                if attribute == "shape":
                    mine, theirs = tuple(mine), tuple(theirs)
                note = " (double precision)" if attribute == "dtype" and mine == "float64" else ""
                return Difference(where, f"{kind}'s parameter `{name}` has {attribute} {_short(mine)}{note}, "
                                         f"expected {_short(theirs)}")
    return None


def _layers_difference(kind: str, where: str, expected: dict[str, Any], got: dict[str, Any]) -> Difference | None:
    """A layer missing (perhaps held under another name) or built with other sizes."""
    own = {c["name"]: c for c in got["children"]}
    for child in expected["children"]:
        mine = own.get(child["name"])
        if mine is None:
            alike = [c for c in got["children"] if {**c, "name": ""} == {**child, "name": ""}]
            has = f"; it has {_layer_label(alike[0])}" if alike else ""
            return Difference(where, f"{kind} has no layer {_layer_label(child)}{has}")
        if mine != child:
            return Difference(where, f"{kind} has the layer {_layer_label(mine)}, expected {_layer_label(child)}")
    return None


def _parameter_values_difference(kind: str, where: str, want: dict[str, dict[str, Any]],
                                 have: dict[str, dict[str, Any]], *, rtol: float, atol: float, values: bool,
                                 tensor_difference: Compare) -> Difference | None:
    """The parameters' values (when compared), or every parameter left at 0 (when not)."""
    if values:
        for name in want:
            difference = tensor_difference(want[name]["value"], have[name]["value"], rtol, atol,
                                           f"{where}: parameter {name}")
            if difference:
                return difference
    elif detectors.starts_at_zero([p.get("value") for p in want.values()], [p.get("value") for p in have.values()]):
        return Difference(where, f"{kind} starts with every parameter at 0", part="zero_start")
    return None


def _view_difference(expected: dict[str, Any], got: Any, *, rtol: float, atol: float, where: str,
                     names: Sequence[Any] | None, first: Compare) -> Difference | None:
    """How an object described by its view (a dataset, a split, a loader, a
    generator: ``untrusted/views.py``) differs from the reference's, in words."""
    kind = expected["view"]
    if kind == "argument":
        if got == expected:
            return None
        return Difference(where, f"is not the {_argument_words(names, expected['index'])} you were given")
    if not (isinstance(got, dict) and "view" in got):
        return Difference(where, f"is {_kind(got)}, expected a {expected.get('type', 'object')}")
    if got["view"] != kind or got.get("type") != expected.get("type"):
        mine = f"a {got['type']}" if got.get("type") else \
            f"the {_argument_words(names, got.get('index', 0))} you were given"
        return Difference(where, f"is {mine}, expected a {expected.get('type')}")
    if kind == "loader":
        return _loader_difference(expected, got, rtol=rtol, atol=atol, where=where, names=names, first=first)
    if kind == "subset":
        return _subset_difference(expected, got, rtol=rtol, atol=atol, where=where, names=names, first=first)
    if kind == "dataset":
        return _dataset_difference(expected, got, rtol=rtol, atol=atol, where=where, first=first)
    return None


def _subset_difference(expected: dict[str, Any], got: dict[str, Any], *, rtol: float, atol: float, where: str,
                       names: Sequence[Any] | None, first: Compare) -> Difference | None:
    """A split: its length, the dataset it splits, its indices, then that dataset."""
    if got["length"] != expected["length"]:
        return Difference(where, f"holds {got['length']} samples, expected {expected['length']}")
    if got["dataset"] != expected["dataset"] and expected["dataset"]["view"] == "argument":
        return Difference(where, "is not a split of the "
                                 f"{_argument_words(names, expected['dataset']['index'])} you were given")
    if got["indices"] != expected["indices"]:
        return Difference(where, "holds other samples than expected: its indices differ (a random split "
                                 "picks its samples with the generator it is given)")
    return first(expected["dataset"], got["dataset"], rtol=rtol, atol=atol,
                 where=f"the dataset of {where}", names=names)


def _dataset_difference(expected: dict[str, Any], got: dict[str, Any], *, rtol: float, atol: float, where: str,
                        first: Compare) -> Difference | None:
    """A dataset: its length, then item by item."""
    if got["length"] != expected["length"]:
        words = slips.data_words("length", got["length"], expected["length"])
        return Difference(where, f"has length {got['length']} (what len() gives), expected {expected['length']}"
                                 + (f"\n{words}" if words else ""))
    for index, (want, have) in enumerate(zip(expected["items"], got["items"], strict=True)):
        difference = _sample_difference(want, have, rtol=rtol, atol=atol, where=f"item {index} of {where}",
                                        first=first)
        if difference:
            return difference
    return None


def _sample_difference(expected: Any, got: Any, *, rtol: float, atol: float, where: str,
                       first: Compare) -> Difference | None:
    """A dataset's item or a loader's batch: data, not a computation, so no
    detector's words; a (features, target) pair is told apart by its parts."""
    # A list where a tuple is expected holds the same sample (a DataLoader collates either).
    if type(expected) in (tuple, list) and type(got) in (tuple, list) and len(got) == len(expected):
        found = next((d for part, (want, have) in enumerate(zip(expected, got, strict=True))
                      if (d := first(want, have, rtol=rtol, atol=atol, where=f"part {part + 1} of {where}"))),
                     None)
    else:
        found = first(expected, got, rtol=rtol, atol=atol, where=where)
    return None if found is None else _with(found, part="view", index=None)


def _loader_difference(expected: dict[str, Any], got: dict[str, Any], *, rtol: float, atol: float, where: str,
                       names: Sequence[Any] | None, first: Compare) -> Difference | None:
    if got["batch_size"] != expected["batch_size"]:
        words = slips.data_words("batch_size", got["batch_size"], expected["batch_size"])
        return Difference(where, f"has batches of {got['batch_size']}, expected {expected['batch_size']}"
                                 + (f"\n{words}" if words else ""))
    settings = _sampling_difference(expected, got, where=where, names=names)
    if settings:
        return settings
    behind = "the split" if expected["dataset"].get("view") == "subset" else "the dataset"
    difference = first(expected["dataset"], got["dataset"], rtol=rtol, atol=atol,
                       where=f"{behind} behind {where}", names=names)
    if difference:
        return difference
    if len(got["batches"]) != len(expected["batches"]):
        return Difference(where, f"gives {len(got['batches'])} batches, expected {len(expected['batches'])}")
    for index, (want, have) in enumerate(zip(expected["batches"], got["batches"], strict=True)):
        difference = _sample_difference(want, have, rtol=rtol, atol=atol, where=f"batch {index} of {where}",
                                        first=first)
        if difference:
            return difference
    return None


def _sampling_difference(expected: dict[str, Any], got: dict[str, Any], *, where: str,
                         names: Sequence[Any] | None) -> Difference | None:
    """How a loader draws its samples: shuffled or not, with which generator, its last batch, its sampler."""
    if got["shuffled"] != expected["shuffled"]:
        return Difference(where, "shuffles its samples: it should give them in order" if got["shuffled"]
                          else "gives its samples in order: it should shuffle them")
    if got["generator"] != expected["generator"]:
        return Difference(where, f"shuffles with {_origin(got['generator'], names)}, not with "
                                 f"{_origin(expected['generator'], names)}")
    if got["drop_last"] != expected["drop_last"]:
        return Difference(where, "drops its last incomplete batch (drop_last=True)" if got["drop_last"]
                          else "keeps its last incomplete batch: it should drop it")
    if got["sampler"] != expected["sampler"]:
        return Difference(where, f"draws its samples with a {got['sampler']}, expected a {expected['sampler']}")
    return None


def _origin(value: str, names: Sequence[Any] | None) -> str:
    """Where a loader's random order comes from, in words."""
    if value.startswith("argument "):
        return f"the {_argument_words(names, int(value.split()[1]))} you were given"
    return {"global": "torch's global random state (no generator)", "another": "another generator"}.get(
        value, value)


_MODE_WORDS = {
    ("training", True): "was in training mode, expected evaluation mode: dropout and batch norm behave "
                        "differently in training mode (model.eval() switches to evaluation mode)",
    ("training", False): "was in evaluation mode, expected training mode (model.train() switches back)",
    ("grad", True): "recorded gradients (autograd built a graph), expected none: a pass that only "
                    "measures needs no graph (run it under torch.inference_mode())",
    ("grad", False): "recorded no gradients, expected them: a training pass must not run under "
                     "torch.no_grad() or torch.inference_mode()",
    ("inference", False): "ran outside inference mode, expected torch.inference_mode() (no graph recorded, "
                          "faster, less memory)",
    ("inference", True): "ran in inference mode, expected a pass that autograd records",
}


def _probes_difference(expected: Any, got: Any, where: str,
                       judged: set[str] | frozenset[str] = frozenset(ASPECTS)) -> Difference | None:
    """How the code ran a model, as the probes inside it recorded each
    forward call (``untrusted/probes.py``): how often, in which mode, with or
    without a graph, on batches of which size (``judged`` "modes"), and
    under torch.inference_mode() ("inference_mode")."""
    if not (isinstance(expected, dict) and expected.get("probes")):
        return None
    modes = "modes" in judged
    keys = (*(("training", "grad") if modes else ()), *(("inference",) if "inference_mode" in judged else ()))
    have = {p["name"]: p for p in got.get("probes", [])} if isinstance(got, dict) else {}
    for probe in expected["probes"]:
        mine = have.get(probe["name"])
        if mine is None:
            return Difference(where, "the model it was given never ran (its layers recorded nothing)")
        if mine["calls"] != probe["calls"] and modes:
            return Difference(where, f"the model ran {mine['calls']} times (forward calls), expected "
                                     f"{probe['calls']}", part="calls", expected=probe["calls"], got=mine["calls"])
        count = len(probe["records"])
        for index, (want, record) in enumerate(zip(probe["records"], mine["records"], strict=False)):
            for key in keys:
                if record[key] != want[key]:
                    words = _NO_GRAD_WORDS if key == "inference" and not record[key] and not record["grad"] else \
                        _late_mode_words(key, record[key], mine["records"][index + 1:]) or \
                        _MODE_WORDS[key, record[key]]
                    return Difference(where, f"in forward call {index + 1} of {count}, the model {words}",
                                      part="after")
            if modes and record["batch"] != want["batch"]:
                return Difference(where, f"in forward call {index + 1} of {count}, the model saw a batch of "
                                         f"{record['batch']} samples, expected {want['batch']}")
    return None


def _late_mode_words(key: str, mode: Any, later: Sequence[dict[str, Any]]) -> str | None:
    """A mode switched too late: the code does switch (a later forward call ran in the
    expected mode), only after this call, so "call model.train()" would not fit it."""
    if key != "training" or not any(isinstance(r, dict) and r.get("training") is (not mode) for r in later):
        return None
    wanted, switch = ("evaluation", "model.eval()") if mode else ("training", "model.train()")
    return (f"was in {'training' if mode else 'evaluation'} mode, expected {wanted} mode: your code does call "
            f"{switch}, but too late, only after this forward call; switch modes before the pass that needs it "
            "(at the start of each epoch's pass)")


_NO_GRAD_WORDS = ("ran without a graph but outside inference mode, expected torch.inference_mode(): "
                  "torch.no_grad() records no graph too, and inference mode is what the exercise asks for "
                  "(it also skips autograd's bookkeeping: faster, less memory)")


def _held_under_other_names(expected: dict[str, Any], got: dict[str, Any], missing: list[str],
                            extra: list[str]) -> bool:
    """Whether every missing parameter belongs to a layer the student's module
    does hold under the expected name (the same type and sizes), its
    parameters named after another holder: as many, of the same shapes, in order."""
    own = {c["name"]: c for c in got["children"]}
    layers = {c["name"]: c for c in expected["children"]}
    prefixes = {name.rsplit(".", 1)[0] for name in missing}
    if len(missing) != len(extra) or not all(p in layers and own.get(p) == layers[p] for p in prefixes):
        return False
    want = {p["name"]: p["shape"] for p in expected["parameters"]}
    have = {p["name"]: p["shape"] for p in got["parameters"]}
    return [want[n] for n in missing] == [have[n] for n in extra]
