"""The rooms' reader of dict version tags (``untrusted/dict_versions``): what one-by-one reads say, in order."""
from __future__ import annotations

import pytest

from grader.sandbox.untrusted import dict_versions
from grader.sandbox.untrusted.dict_versions import VERSION_OFFSET, VersionReader, read_one_by_one


@pytest.mark.parametrize("gap", [0, 1 << 40], ids=["a view per address", "one view"])
def test_the_reader_reads_every_tag_in_its_order_and_sees_each_change(monkeypatch, gap):
    monkeypatch.setattr(dict_versions, "_CLUSTER_GAP", gap)
    spaces = [{"n": n} for n in range(50)]
    addresses = tuple(id(d) + VERSION_OFFSET for d in reversed(spaces))  # not in address order
    reader = VersionReader(addresses)
    before = reader()
    assert before == read_one_by_one(addresses)
    spaces[7]["n"] = -1
    after = reader()
    assert after == read_one_by_one(addresses)
    assert [i for i, (b, a) in enumerate(zip(before, after, strict=True)) if b != a] == [len(spaces) - 1 - 7]


def test_no_address_reads_nothing():
    assert VersionReader(())() == ()
