# expect: correct
import torch


class Task2(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = torch.nn.Linear(in_features=1, out_features=2, bias=True)
        self.layer2 = torch.nn.Linear(in_features=2, out_features=1, bias=True)

    def forward(self, x):
        hidden = self.layer1(x)
        output = self.layer2(hidden)
        return output
