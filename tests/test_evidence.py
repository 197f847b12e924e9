"""A known mistake's hint for an error needs the code its edit makes (issue 28)."""
from grader.engine.evidence import edit_shows_in


def test_an_edit_that_brings_code_in_shows_only_where_that_code_is():
    assert edit_shows_in("(w * w)", "(w.detach() * w)", "loss = (v.detach() ** 2).sum()")
    assert not edit_shows_in("(w * w)", "(w.detach() * w)", "loss = (v ** 2).sum()")


def test_an_edit_that_takes_code_away_shows_where_that_code_is_missing():
    assert edit_shows_in("w = torch.zeros(3, requires_grad=True)", "w = torch.zeros(3)", "w = torch.zeros(3)")
    assert not edit_shows_in("w = torch.zeros(3, requires_grad=True)", "w = torch.zeros(3)",
                             "w = torch.randn(3, requires_grad=True)")


def test_a_reordering_shows_where_the_new_order_is_written():
    assert edit_shows_in("h = self.a(x)\nreturn self.b(h)", "h = self.b(x)\nreturn self.a(h)",
                         "def forward(self, x):\n    h = self.b(x)\n    return self.a(h)\n")
    assert not edit_shows_in("h = self.a(x)\nreturn self.b(h)", "h = self.b(x)\nreturn self.a(h)",
                             "def forward(self, x):\n    h = self.a(x)\n    return self.b(h)\n")


def test_torchs_aliases_are_the_same_code():
    assert edit_shows_in("return len(self.data)", "return self.data.numel()", "return self.data.nelement()")
    assert not edit_shows_in("return len(self.data)", "return self.data.numel()", "return self.data.size(0)")
