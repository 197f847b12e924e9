# expect: correct
"""Exercise 8 - Datasets and loaders.

A model learns from samples, a batch at a time. PyTorch splits that work in
two: a Dataset says how many samples there are and what sample number i is;
a DataLoader walks through a dataset in batches.

class IRISDataset(torch.utils.data.Dataset)
    __init__(self, data, target)
        data    tensor of shape (N, 4): the four measurements of N flowers.
        target  tensor of shape (N,): each flower's class (0, 1 or 2).
        Keep both on the object.
    __len__(self)
        The number of samples, N (what len(dataset) returns).
    __getitem__(self, idx)
        Sample number idx: the tuple (data[idx], target[idx]) - the features
        first, then the target, one sample (not the whole tensors).

make_loaders(dataset, generator)
    dataset    any Dataset (for example an IRISDataset).
    generator  a torch.Generator, already seeded.
    Split the dataset at random into training, validation and test sets with
    torch.utils.data.random_split(dataset, [0.7, 0.2, 0.1], generator=generator):
    70% of the samples to train on, 20% to check the model while you tune it,
    10% kept aside for the final test. random_split shuffles before it cuts,
    so each set is a fair sample of the whole; passing it the generator you
    were given makes the split the same every time the code runs (and the
    same as the grader's).
    Then wrap each set in a torch.utils.data.DataLoader with batch_size=10.
    Only the training loader shuffles (shuffle=True, generator=generator):
    a new order every epoch keeps the model from learning the order of the
    samples. The validation and test loaders keep their samples in order
    (shuffle=False): measuring does not need a random order.
    Returns (train_loader, val_loader, test_loader).

Do not print anything: the grader reads what you return.
"""
import torch
from torch.utils.data import DataLoader, Dataset, random_split


class IRISDataset(Dataset):
    def __init__(self, data, target):
        self.data = data
        self.target = target

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        return self.data[idx], self.target[idx]


def make_loaders(dataset, generator):
    """Split dataset 70/20/10 with generator; returns (train_loader, val_loader, test_loader)."""
    train_set, val_set, test_set = random_split(dataset, [0.7, 0.2, 0.1], generator=generator)
    train_loader = DataLoader(train_set, batch_size=10, shuffle=True, generator=generator)
    val_loader = DataLoader(val_set, batch_size=10, shuffle=False)
    test_loader = DataLoader(test_set, batch_size=10, shuffle=False)
    return train_loader, val_loader, test_loader


# Check your work:  grade exercise8


if __name__ == "__main__":  # python exercise8.py: the real iris measurements (iris.csv, beside this file)
    import csv
    from pathlib import Path

    with open(Path(__file__).with_name("iris.csv"), newline="") as file:
        rows = [[float(v) for v in row] for row in list(csv.reader(file))[1:]]
    table = torch.tensor(rows)
    dataset = IRISDataset(table[:, :4], table[:, 4].long())
    print(len(dataset), "flowers; the first:", dataset[0])
    loaders = make_loaders(dataset, torch.Generator().manual_seed(42))
    for name, loader in zip(("train", "val", "test"), loaders):
        print(f"{name}: {len(loader.dataset)} flowers in {len(loader)} batches")
